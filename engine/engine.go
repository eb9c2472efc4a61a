//go:build linux && (amd64 || arm64)

// Package engine counts syscalls with the kernel programs of package bpf and
// turns each read of their maps into a Snapshot: the totals, and for every
// group what it is (comm, executable, parent, thread name, cgroup path) and
// whether it has ended. It knows nothing of the collector: the receiver and
// the command-line tool are adapters over it.
//
// One call does it all, in one direction: Snapshot reads the kernel's exit
// records and /proc, then the counters, and releases in the kernel the
// groups it reports as ended (their totals in that snapshot are final), so
// the maps stay bounded by the live groups.
package engine

import (
	"github.com/seed22255693/syscallsreceiver/bpf"
)

// Options are the kernel programs' options, and where /proc is.
type Options struct {
	bpf.Options
	// Procfs is where processes are looked up: "/proc" when empty.
	Procfs string
}

// Engine owns the loaded programs and what it needs to name their groups.
type Engine struct {
	counters *bpf.Counters
	procfs   string
	// cgroups resolves cgroup ids to paths; nil unless grouping by
	// cgroup on a cgroup v2 host (then /proc/PID/cgroup is read instead).
	cgroups    *cgroupPaths
	cgroupsErr error
	// known holds the groups alive at the last snapshot: they are checked
	// for their end on the next one, and named from here if their exit went
	// unseen. Bounded by MaxGroups.
	known map[bpf.Group]GroupInfo
}

// Open loads and attaches the kernel programs.
func Open(opts Options) (*Engine, error) {
	e := &Engine{procfs: opts.Procfs, known: map[bpf.Group]GroupInfo{}}
	if e.procfs == "" {
		e.procfs = "/proc"
	}
	if opts.GroupByCgroup {
		e.cgroups, e.cgroupsErr = newCgroupPaths()
	}
	counters, err := bpf.Load(opts.Options)
	if err != nil {
		return nil, err
	}
	e.counters = counters
	return e, nil
}

// Counters are the loaded programs and their maps: which hook they use,
// their pins, their statistics.
func (e *Engine) Counters() *bpf.Counters { return e.counters }

// CgroupPathsError says why cgroup paths come from /proc/PID/cgroup instead
// of the cgroup v2 hierarchy (nil when they do not, or are not needed).
func (e *Engine) CgroupPathsError() error { return e.cgroupsErr }

// Tracked are the live groups the engine remembers from the last snapshot.
func (e *Engine) Tracked() []bpf.Group {
	groups := make([]bpf.Group, 0, len(e.known))
	for g := range e.known {
		groups = append(groups, g)
	}
	return groups
}

// Close detaches the programs (unless they are pinned) and frees their maps.
func (e *Engine) Close() error { return e.counters.Close() }

// GroupInfo is what a group is, besides its ids.
type GroupInfo struct {
	Comm       string // the process's comm
	Exe        string // only while alive
	PPID       int64  // only while alive
	ThreadName string
	Cgroup     string // the path from the cgroup v2 root
	// Ended: the process, thread or cgroup is gone. Its totals in this
	// snapshot are final, and it is not in the next one.
	Ended bool
}

// Snapshot is one read of the counters.
type Snapshot struct {
	Counts *bpf.Counts
	// Info describes every group of Counts but OverflowGroup.
	Info map[bpf.Group]GroupInfo
	// ReleaseError says why the ended groups could not be released in the
	// kernel: they then stay, and are reported (as ended) again next time.
	ReleaseError error
}
