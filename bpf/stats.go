//go:build linux && (amd64 || arm64)

package bpf

import (
	"fmt"
	"io"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// ProgramStat is what the kernel's BPF statistics say of one program.
type ProgramStat struct {
	RunCount uint64
	Runtime  time.Duration
}

// ProgramStats returns each attached program's run count and run time since
// it was loaded. The kernel only counts while BPF statistics are enabled
// (EnableStats): they cost every BPF program on the host some time per run.
func (c *Counters) ProgramStats() (map[string]ProgramStat, error) {
	stats := map[string]ProgramStat{}
	for name, p := range map[string]*ebpf.Program{
		syscallsProgSyscallsEnter: c.objs.SyscallsEnter, syscallsProgSyscallsExit: c.objs.SyscallsExit,
		syscallsProgSyscallsTaskExit: c.objs.SyscallsTaskExit,
	} {
		st, err := p.Stats()
		if err != nil {
			return nil, fmt.Errorf("reading the statistics of %s: %w", name, err)
		}
		stats[name] = ProgramStat{RunCount: st.RunCount, Runtime: st.Runtime}
	}
	return stats, nil
}

// EnableStats turns on the kernel's BPF run-time statistics until the
// result is closed.
func EnableStats() (io.Closer, error) {
	closer, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return nil, fmt.Errorf("enabling BPF statistics: %w", privilegeHint(err))
	}
	return closer, nil
}
