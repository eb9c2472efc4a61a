package kerneltest

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
)

// LogPrograms logs every loaded BPF program whose name starts with
// "syscalls": how often it ran and how often the kernel skipped it
// (recursion misses). A test whose counts came out short calls it, to tell
// a hook that did not fire from a program that fired and counted
// elsewhere. Runs are counted while kernel.bpf_stats_enabled is 1, and
// during the firing check of each Load (64 syscalls or more).
func LogPrograms(t testing.TB) {
	t.Helper()
	stats, _ := os.ReadFile("/proc/sys/kernel/bpf_stats_enabled")
	t.Logf("kernel.bpf_stats_enabled = %s", strings.TrimSpace(string(stats)))
	for id := ebpf.ProgramID(0); ; {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if err != nil {
			t.Logf("listing programs: %v", err)
			return
		}
		id = next
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue // unloaded since
		}
		info, err := p.Info()
		if err == nil && strings.HasPrefix(info.Name, "syscalls") {
			if st, err := p.Stats(); err == nil {
				t.Logf("program %d %s: %d runs, %d recursion misses", id, info.Name, st.RunCount, st.RecursionMisses)
			}
		}
		_ = p.Close()
	}
}
