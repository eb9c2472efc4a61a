// Package kstats reads how long eBPF programs run in the kernel, from the
// run_time_ns and run_cnt the kernel keeps per program while
// kernel.bpf_stats_enabled is on. Stats cost ~150 ns per program run
// themselves, so the benchmark turns them on only around a dedicated run
// and never during a wall-time measurement.
package kstats

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Sample is a program's cumulative counters at one moment.
type Sample struct {
	RunCount uint64
	RunTime  time.Duration
}

// PerSyscall turns two snapshots taken around a run that made calls
// syscalls into nanoseconds per syscall: the sum of ns/run over the
// programs that ran at least once per call, i.e. the syscall hooks. A
// program that runs less often (sched_process_exit, or a loaded but
// unattached one) is no per-syscall cost and is left out. ok is false
// when no program ran that often: the tool was not attached.
func PerSyscall(before, after map[uint32]Sample, calls uint64) (ns float64, ok bool) {
	for id, a := range after {
		b := before[id]
		runs := a.RunCount - b.RunCount
		if runs == 0 || runs < calls {
			continue
		}
		ns += float64(a.RunTime-b.RunTime) / float64(runs)
		ok = true
	}
	return ns, ok
}

// PerHookRun is PerSyscall for a workload whose syscall count is unknown
// (a server): the programs that ran at least half as often as the busiest
// one are taken for the syscall hooks, which run once per syscall each
// (sched_process_exit runs far less often).
func PerHookRun(before, after map[uint32]Sample) (ns float64, ok bool) {
	var most uint64
	for id, a := range after {
		most = max(most, a.RunCount-before[id].RunCount)
	}
	if most == 0 {
		return 0, false
	}
	return PerSyscall(before, after, (most+1)/2)
}

// ProgramsOf returns the ids of the eBPF programs a process holds open:
// how we find a peer tool's programs without trusting their names.
func ProgramsOf(pid int) ([]uint32, error) {
	return idsOf(pid, "prog_id:")
}

// LinksOf counts the bpf_link fds a process holds: with libbpf, a program
// is attached once its link exists.
func LinksOf(pid int) (int, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && target == "anon_inode:bpf_link" {
			n++
		}
	}
	return n, nil
}

// idsOf collects a field of /proc/PID/fdinfo/* from the fds that are eBPF
// programs. A link's fdinfo names its program too; only anon_inode:bpf-prog
// fds count, so each program is listed once.
func idsOf(pid int, field string) ([]uint32, error) {
	base := filepath.Join("/proc", strconv.Itoa(pid))
	entries, err := os.ReadDir(filepath.Join(base, "fd"))
	if err != nil {
		return nil, err
	}
	var ids []uint32
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(base, "fd", e.Name()))
		if err != nil || target != "anon_inode:bpf-prog" {
			continue
		}
		info, err := os.ReadFile(filepath.Join(base, "fdinfo", e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if id, ok := FdinfoField(string(info), field); ok {
			ids = append(ids, uint32(id))
		}
	}
	return ids, nil
}

// FdinfoField returns the numeric value of a "name:\tvalue" line of an
// fdinfo file.
func FdinfoField(info, field string) (uint64, bool) {
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		rest, found := strings.CutPrefix(sc.Text(), field)
		if !found {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(rest), 10, 64)
		return v, err == nil
	}
	return 0, false
}
