//go:build linux && (amd64 || arm64)

package engine

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statTail is what follows "pid (comm) " in a real /proc/PID/stat; the
// ppid is its second field.
const statTail = " 0 -1 4194560 178 0 0 0 0 0 0 0 20 0 1 0 3418 5816320 389 18446744073709551615\n"

func TestParseStat(t *testing.T) {
	tests := []struct {
		name     string
		stat     string
		wantComm string
		wantPPID int64
	}{
		{"plain", "123 (bash) S 1" + statTail, "bash", 1},
		{"spaces in comm", "123 (a b) S 1" + statTail, "a b", 1},
		{"close paren and space in comm", "123 (x) y) S 77" + statTail, "x) y", 77},
		{"comm looking like the next fields", "123 (x) R 5 (y) S 42" + statTail, "x) R 5 (y", 42},
		{"open paren in comm", "123 ((sd-pam)) S 900" + statTail, "(sd-pam)", 900},
		{"empty comm", "123 () S 9" + statTail, "", 9},
		{"only comm and state", "123 (sh) S", "sh", 0},
		{"truncated after comm", "123 (sh)", "sh", 0},
		{"truncated in ppid", "123 (sh) S 4", "sh", 4},
		{"non-numeric ppid", "123 (sh) S x1" + statTail, "sh", 0},
		{"truncated in comm", "123 (unfinished", "", 0},
		{"no parens", "123 sh S 1", "", 0},
		{"close paren only", "123 sh) S 1", "", 0},
		{"empty", "", "", 0},
		{"invalid UTF-8 in comm", "123 (a\xffb\xfe\xfdc) S 2" + statTail, "a\uFFFDb\uFFFDc", 2},
		{"NUL in comm", "123 (ab\x00cd) S 3" + statTail, "ab", 3},
		{"valid UTF-8 kept", "123 (café ✓) S 3" + statTail, "café ✓", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comm, ppid, _ := parseStat([]byte(tt.stat))
			assert.Equal(t, tt.wantComm, comm)
			assert.Equal(t, tt.wantPPID, ppid)
		})
	}
}

func TestSanitize(t *testing.T) {
	assert.Equal(t, "plain", sanitize("plain"))
	assert.Equal(t, "\uFFFD", sanitize("\xff\xfe"), "a run of invalid bytes becomes one U+FFFD")
	assert.Equal(t, "x", sanitize("x\x00\xff"), "everything from the first NUL is dropped")
	assert.Empty(t, sanitize("\x00abc"))
	assert.Equal(t, `a\x1b[31mb\x0ac\x7f`, sanitize("a\x1b[31mb\nc\x7f"), "controls shown as \\xNN")
	assert.Equal(t, "%s%s%s", sanitize("%s%s%s"), "format verbs are plain text")
}

// fakeProc builds a procfs with one process directory holding stat and,
// when exe is not empty, an exe symlink pointing to exe.
func fakeProc(t *testing.T, pid uint32, stat, exe string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, strconv.FormatUint(uint64(pid), 10))
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644))
	if exe != "" {
		require.NoError(t, os.Symlink(exe, filepath.Join(dir, "exe")))
	}
	return root
}

func TestReadProcessFakeProcfs(t *testing.T) {
	t.Run("alive with exe", func(t *testing.T) {
		root := fakeProc(t, 4242, "4242 (my (odd) app) S 17"+statTail, "/opt/my app/bin/app")
		info, ok := readProcess(root, 4242)
		require.True(t, ok)
		assert.Equal(t, processInfo{Comm: "my (odd) app", Exe: "/opt/my app/bin/app", PPID: 17, StartTicks: 389}, info)
	})
	t.Run("exe unreadable", func(t *testing.T) {
		// As for a zombie, or another user's process without
		// CAP_SYS_PTRACE: alive, but without a path.
		root := fakeProc(t, 7, "7 (kworker/0:1) I 2"+statTail, "")
		info, ok := readProcess(root, 7)
		require.True(t, ok)
		assert.Equal(t, processInfo{Comm: "kworker/0:1", PPID: 2, StartTicks: 389}, info)
	})
	t.Run("exe with invalid UTF-8", func(t *testing.T) {
		root := fakeProc(t, 8, "8 (x\xff) S 1"+statTail, "/tmp/bad\xffname (deleted)")
		info, ok := readProcess(root, 8)
		require.True(t, ok)
		assert.Equal(t, "x\uFFFD", info.Comm)
		assert.Equal(t, "/tmp/bad\uFFFDname (deleted)", info.Exe)
	})
	t.Run("missing pid", func(t *testing.T) {
		root := fakeProc(t, 8, "8 (x) S 1"+statTail, "/bin/x")
		info, ok := readProcess(root, 9)
		assert.False(t, ok)
		assert.Equal(t, processInfo{}, info)
	})
	t.Run("missing procfs", func(t *testing.T) {
		_, ok := readProcess(filepath.Join(t.TempDir(), "nope"), 1)
		assert.False(t, ok)
	})
}

// TestReadProcessSelf reads this test process from the real /proc.
func TestReadProcessSelf(t *testing.T) {
	info, ok := readProcess("/proc", uint32(os.Getpid()))
	require.True(t, ok)
	assert.Equal(t, int64(os.Getppid()), info.PPID)

	exe, err := os.Executable()
	require.NoError(t, err)
	assert.Equal(t, exe, info.Exe)

	comm, err := os.ReadFile("/proc/self/comm")
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSuffix(string(comm), "\n"), info.Comm)
	assert.NotEmpty(t, info.Comm)
}

func TestReadProcessMissing(t *testing.T) {
	// Above pid_max (at most 2^22), so never a live process.
	info, ok := readProcess("/proc", 1<<30)
	assert.False(t, ok)
	assert.Equal(t, processInfo{}, info)
}
