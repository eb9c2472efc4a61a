//go:build linux

package kstats

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Enable turns run-time stats on until the returned Closer is closed (the
// kernel keeps them on while any such fd is open).
func Enable() (io.Closer, error) {
	c, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return nil, fmt.Errorf("enabling BPF run-time stats: %w", err)
	}
	return c, nil
}

// AlreadyOn tells whether the sysctl kernel.bpf_stats_enabled is set, which
// would add its cost to every wall-time measurement.
func AlreadyOn() bool {
	b, err := os.ReadFile("/proc/sys/kernel/bpf_stats_enabled")
	return err == nil && strings.TrimSpace(string(b)) != "0"
}

// Snapshot reads the counters of the given programs. A program that has
// gone away is left out.
func Snapshot(ids []uint32) map[uint32]Sample {
	out := map[uint32]Sample{}
	for _, id := range ids {
		prog, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
		if err != nil {
			continue
		}
		stats, err := prog.Stats()
		_ = prog.Close()
		if err != nil {
			continue
		}
		out[id] = Sample{RunCount: stats.RunCount, RunTime: stats.Runtime}
	}
	return out
}
