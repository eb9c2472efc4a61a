// Package sysnames maps Linux syscall numbers to names and back for amd64
// and arm64 and their 32-bit compat ABIs (386, arm). The tables are generated from golang.org/x/sys/unix (see
// internal/gen) and are not build-tagged, so any host can use any table.
package sysnames

//go:generate go run ./internal/gen -o zsysnames.go

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// placeholderPrefix starts the stable name used for numbers without a
// known name, so unknown syscalls are still counted under a fixed key.
const placeholderPrefix = "syscall_"

// Table is an immutable syscall name table for one architecture.
type Table struct {
	arch    string
	names   []string // indexed by number; "" = no name
	numbers map[string]uint32
}

var tables = map[string]*Table{
	"amd64": newTable("amd64", namesAmd64[:]),
	"arm64": newTable("arm64", namesArm64[:]),
	"386":   newTable("386", names386[:]),
	"arm":   newTable("arm", namesArm[:]),
}

// compatArch is the 32-bit ABI a 64-bit kernel also runs.
var compatArch = map[string]string{"amd64": "386", "arm64": "arm"}

// abiNames are the syscall.abi values, as uname -m spells the machines.
var abiNames = map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i386", "arm": "arm"}

// Compat returns the table of the 32-bit ABI that tasks on this 64-bit
// architecture may use (386 on amd64, arm on arm64), or an empty table.
func (t *Table) Compat() *Table {
	if c, ok := tables[compatArch[t.arch]]; ok {
		return c
	}
	return newTable(t.arch+"-compat", nil)
}

// ABI is the syscall.abi attribute value for this table: x86_64, aarch64,
// i386 or arm.
func (t *Table) ABI() string {
	if abi, ok := abiNames[t.arch]; ok {
		return abi
	}
	return t.arch
}

func newTable(arch string, names []string) *Table {
	t := &Table{arch: arch, names: names, numbers: make(map[string]uint32, len(names))}
	for nr, name := range names {
		if name != "" {
			t.numbers[name] = uint32(nr)
		}
	}
	return t
}

// ForArch returns the table for a GOARCH value.
func ForArch(goarch string) (*Table, error) {
	if t, ok := tables[goarch]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("sysnames: unsupported architecture %q (supported: amd64, arm64, 386, arm)", goarch)
}

// Native returns the table for runtime.GOARCH. On an unsupported
// architecture it returns an empty table whose Name yields only
// placeholders, so callers can keep counting without special cases.
func Native() *Table {
	if t, err := ForArch(runtime.GOARCH); err == nil {
		return t
	}
	return newTable(runtime.GOARCH, nil)
}

// Arch returns the GOARCH value the table describes.
func (t *Table) Arch() string { return t.arch }

// Name returns the syscall name for nr, or "syscall_<nr>" if it has none.
func (t *Table) Name(nr uint32) string {
	if uint64(nr) < uint64(len(t.names)) && t.names[nr] != "" {
		return t.names[nr]
	}
	return placeholderPrefix + strconv.FormatUint(uint64(nr), 10)
}

// Number returns the syscall number for name. It also accepts the
// "syscall_<nr>" placeholder (canonical decimal form only, so that
// Number(Name(n)) == n and each number has a single placeholder spelling).
func (t *Table) Number(name string) (uint32, bool) {
	if nr, ok := t.numbers[name]; ok {
		return nr, true
	}
	digits, ok := strings.CutPrefix(name, placeholderPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || strconv.FormatUint(n, 10) != digits {
		return 0, false
	}
	return uint32(n), true
}

// NameABI names syscall nr of an ABI as the kernel programs number ABIs
// (bpf.ABINative 0, bpf.ABICompat 1, bpf.ABIX32 2), with the ABI's name.
// x32 numbers, with their marker bit stripped, are those of this table.
func (t *Table) NameABI(nr, abi uint32) (name, abiName string) {
	switch abi {
	case 1:
		compat := t.Compat()
		return compat.Name(nr), compat.ABI()
	case 2:
		return t.Name(nr), "x32"
	default:
		return t.Name(nr), t.ABI()
	}
}
