// Package kerneltest guards the tests that need the kernel's eBPF: those
// that load the programs, run the collector that loads them, or inspect
// them with bpftool. Each calls Require first, so that `go test ./...` as
// an ordinary user runs every unit test and skips each kernel test with one
// line, while CI, which runs as root, never lets a kernel test skip for
// lack of privileges.
//
// A kernel test may still skip when the kernel truly lacks a feature (no
// IA-32 emulation, no syscall tracepoints, no BTF): it says which, and that
// skip stands in CI too.
package kerneltest

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// Reason is the one line a kernel test skips with.
const Reason = "needs root or CAP_BPF+CAP_PERFMON: run as root (CI does)"

// Capability numbers from linux/capability.h.
const (
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

// Require skips t unless this process may load and attach tracing
// programs. In CI it fails t instead: there a skip would hide a kernel
// test that no longer runs.
func Require(t testing.TB) {
	t.Helper()
	if Privileged() {
		return
	}
	if InCI() {
		t.Fatal(Reason)
	}
	t.Skip(Reason)
}

// InCI says whether the tests run in CI (CI=true, as CI services set it).
func InCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// Privileged says whether this process has CAP_SYS_ADMIN, or CAP_BPF and
// CAP_PERFMON, in its effective set. Where /proc/self/status cannot tell
// (not Linux), it has not.
func Privileged() bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	caps, ok := effectiveCaps(string(status))
	return ok && privileged(caps)
}

func privileged(caps uint64) bool {
	has := func(c uint) bool { return caps&(1<<c) != 0 }
	return has(capSysAdmin) || has(capBPF) && has(capPerfmon)
}

func effectiveCaps(status string) (uint64, bool) {
	for line := range strings.SplitSeq(status, "\n") {
		if v, found := strings.CutPrefix(line, "CapEff:"); found {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return caps, err == nil
		}
	}
	return 0, false
}
