package sysnames

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func mustArch(t *testing.T, arch string) *Table {
	t.Helper()
	tbl, err := ForArch(arch)
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Arch() != arch {
		t.Fatalf("Arch() = %q, want %q", tbl.Arch(), arch)
	}
	return tbl
}

func TestKnownNumbers(t *testing.T) {
	tests := map[string]map[string]uint32{
		"amd64": {"read": 0, "write": 1, "openat": 257, "getppid": 110, "execve": 59, "exit_group": 231, "newfstatat": 262},
		"arm64": {"read": 63, "write": 64, "openat": 56, "getppid": 173, "execve": 221, "exit_group": 94, "newfstatat": 79},
	}
	for arch, want := range tests {
		tbl := mustArch(t, arch)
		for name, nr := range want {
			if got := tbl.Name(nr); got != name {
				t.Errorf("%s: Name(%d) = %q, want %q", arch, nr, got, name)
			}
			if got, ok := tbl.Number(name); !ok || got != nr {
				t.Errorf("%s: Number(%q) = %d, %v, want %d, true", arch, name, got, ok, nr)
			}
		}
	}
}

func TestPlaceholder(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		tbl := mustArch(t, arch)
		for nr, want := range map[uint32]string{9999: "syscall_9999", 0xffffffff: "syscall_4294967295"} {
			if got := tbl.Name(nr); got != want {
				t.Errorf("%s: Name(%d) = %q, want %q", arch, nr, got, want)
			}
			if got, ok := tbl.Number(want); !ok || got != nr {
				t.Errorf("%s: Number(%q) = %d, %v, want %d, true", arch, want, got, ok, nr)
			}
		}
		for _, bad := range []string{"", "nosuchcall", "syscall_", "syscall_007", "syscall_+1", "syscall_-1", "syscall_4294967296", "SYS_READ", "READ"} {
			if got, ok := tbl.Number(bad); ok {
				t.Errorf("%s: Number(%q) = %d, true, want false", arch, bad, got)
			}
		}
	}
	// arm64 244 is SYS_ARCH_SPECIFIC_SYSCALL in x/sys, a range base, not a syscall.
	if got := mustArch(t, "arm64").Name(244); got != "syscall_244" {
		t.Errorf("arm64: Name(244) = %q, want syscall_244", got)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		tbl := mustArch(t, arch)
		n := 0
		for nr, name := range tbl.names {
			if name == "" {
				continue
			}
			n++
			if strings.HasPrefix(name, placeholderPrefix) {
				t.Errorf("%s: name %q collides with the placeholder form", arch, name)
			}
			if got := tbl.Name(uint32(nr)); got != name {
				t.Errorf("%s: Name(%d) = %q, want %q", arch, nr, got, name)
			}
			if got, ok := tbl.Number(name); !ok || got != uint32(nr) {
				t.Errorf("%s: Number(%q) = %d, %v, want %d, true", arch, name, got, ok, nr)
			}
		}
		if n < 300 || n != len(tbl.numbers) {
			t.Errorf("%s: %d named entries, %d reverse entries; want >= 300 and equal", arch, n, len(tbl.numbers))
		}
	}
}

func TestUnsupportedArch(t *testing.T) {
	tbl, err := ForArch("mips")
	if err == nil || tbl != nil {
		t.Fatalf("ForArch(mips) = %v, %v; want nil, error", tbl, err)
	}
	for _, s := range []string{"mips", "amd64", "arm64"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestNative(t *testing.T) {
	tbl := Native()
	if tbl == nil || tbl.Arch() != runtime.GOARCH {
		t.Fatalf("Native() = %v, want table for %s", tbl, runtime.GOARCH)
	}
	// The fallback Native uses on unsupported arches names only placeholders.
	fb := newTable("mips", nil)
	if got := fb.Name(0); got != "syscall_0" {
		t.Errorf("fallback Name(0) = %q, want syscall_0", got)
	}
	if nr, ok := fb.Number("syscall_42"); !ok || nr != 42 {
		t.Errorf("fallback Number(syscall_42) = %d, %v, want 42, true", nr, ok)
	}
}

// TestGeneratedUpToDate fails when zsysnames.go no longer matches what the
// generator produces from the x/sys version in go.mod.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out := filepath.Join(t.TempDir(), "zsysnames.go")
	cmd := exec.Command(goCmd, "run", "./internal/gen", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./internal/gen: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("zsysnames.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("zsysnames.go is stale; run go generate ./internal/sysnames/")
	}
}

// TestCompat spot-checks the 32-bit tables a 64-bit kernel also serves.
func TestCompat(t *testing.T) {
	amd64, _ := ForArch("amd64")
	arm64, _ := ForArch("arm64")
	i386, arm := amd64.Compat(), arm64.Compat()
	for _, c := range []struct {
		table *Table
		nr    uint32
		name  string
	}{
		{i386, 1, "exit"}, {i386, 3, "read"}, {i386, 4, "write"}, {i386, 5, "open"}, {i386, 64, "getppid"},
		{i386, 252, "exit_group"}, {i386, 295, "openat"},
		{arm, 3, "read"}, {arm, 4, "write"}, {arm, 64, "getppid"}, {arm, 248, "exit_group"}, {arm, 322, "openat"},
	} {
		assert.Equal(t, c.name, c.table.Name(c.nr), "%s %d", c.table.Arch(), c.nr)
	}
	assert.Equal(t, "x86_64", amd64.ABI())
	assert.Equal(t, "i386", i386.ABI())
	assert.Equal(t, "aarch64", arm64.ABI())
	assert.Equal(t, "arm", arm.ABI())
	assert.Equal(t, "syscall_5", i386.Compat().Name(5), "a 32-bit table has no compat table")
}
