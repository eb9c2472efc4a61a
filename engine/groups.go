//go:build linux && (amd64 || arm64)

package engine

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/seed22255693/syscallsreceiver/bpf"
)

// taskID names one incarnation of a process or thread: a reused id has
// another start time.
type taskID struct {
	id      uint32
	startNs uint64
}

// Snapshot reads every group's counters, describes the groups and releases
// in the kernel those that have ended. The order matters: a group found
// ended before the counters are read made no syscall after the read, so
// its totals are final and can be released once read.
func (e *Engine) Snapshot() (*Snapshot, error) {
	exited, err := e.counters.ExitedTasks()
	if err != nil {
		return nil, err
	}
	// Tasks whose exit the kernel recorded, checked before the read.
	endedTasks := map[taskID]string{}
	var exitRecords []uint32
	for tid, task := range exited {
		if comm, _, start := e.readStat(tid); comm == "" || !sameStart(task.StartNs, start) {
			endedTasks[taskID{tid, task.StartNs}] = sanitize(task.Comm)
			exitRecords = append(exitRecords, tid)
		}
	}
	// Groups alive at the last snapshot, checked before the read too.
	info := map[bpf.Group]GroupInfo{}
	for g, last := range e.known {
		if now, alive := e.describe(g); alive {
			info[g] = now
			continue
		}
		ended := GroupInfo{Comm: last.Comm, ThreadName: last.ThreadName, Cgroup: last.Cgroup, Ended: true}
		// The exit record has the name the task had at the end (it may
		// have exec'd since it was last seen alive).
		if comm, ok := endedTasks[taskOf(g)]; ok {
			ended = namedByExit(g, comm, exited, ended)
		}
		info[g] = ended
	}

	counts, err := e.counters.ReadCounts()
	if err != nil {
		return nil, err
	}

	known := map[bpf.Group]GroupInfo{}
	see := func(g bpf.Group) {
		if g == bpf.OverflowGroup {
			return
		}
		if i, seen := info[g]; seen {
			if !i.Ended {
				known[g] = i
			}
			return
		}
		if comm, ok := endedTasks[taskOf(g)]; ok {
			current, _ := e.describe(g) // the cgroup may still be there
			info[g] = namedByExit(g, comm, exited, GroupInfo{Cgroup: current.Cgroup, Ended: true})
			return
		}
		// New since the last snapshot: described as it is now; if it is
		// already gone, it is found ended next time.
		now, _ := e.describe(g)
		info[g] = now
		known[g] = now
	}
	for k := range counts.Syscalls {
		see(k.Group)
	}
	for k := range counts.Errors {
		see(k.Group)
	}
	for _, g := range counts.Groups {
		see(g)
	}
	e.known = known

	snap := &Snapshot{Counts: counts, Info: info}
	if err := e.counters.Forget(counts, func(g bpf.Group) bool { return info[g].Ended }, exitRecords); err != nil {
		snap.ReleaseError = fmt.Errorf("releasing the ended groups: %w", err)
	}
	return snap, nil
}

// namedByExit names an ended group from its exit record: a thread's record
// names the thread, and the leader's, if there is one, the process.
func namedByExit(g bpf.Group, comm string, exited map[uint32]bpf.ExitedTask, info GroupInfo) GroupInfo {
	if g.TID == 0 {
		info.Comm = comm
		return info
	}
	info.ThreadName = comm
	if leader, ok := exited[g.TGID]; ok {
		info.Comm = sanitize(leader.Comm)
	}
	return info
}

// taskOf is the process or thread a group belongs to (zero for none).
func taskOf(g bpf.Group) taskID {
	if g.TID != 0 {
		return taskID{g.TID, g.StartNs}
	}
	return taskID{g.TGID, g.StartNs}
}

// readStat reads comm, ppid and start time of a task from /proc/ID/stat
// (any thread id works there); the comm is empty if it does not exist.
func (e *Engine) readStat(id uint32) (string, int64, uint64) {
	comm, ppid, start, _ := readStat(filepath.Join(e.procfs, strconv.FormatUint(uint64(id), 10)))
	return comm, ppid, start
}

// describe reads what a group is and says whether it still exists: the
// same process or thread (same start time), or for a cgroup-only group,
// the same cgroup.
func (e *Engine) describe(g bpf.Group) (info GroupInfo, alive bool) {
	alive = true
	if g.TGID != 0 {
		p, ok := readProcess(e.procfs, g.TGID)
		alive = ok
		if g.TID != 0 {
			var start uint64
			info.ThreadName, _, start = e.readStat(g.TID)
			alive = alive && info.ThreadName != "" && sameStart(g.StartNs, start)
		} else {
			alive = alive && sameStart(g.StartNs, p.StartTicks)
		}
		if alive {
			info.Comm, info.Exe, info.PPID = p.Comm, p.Exe, p.PPID
		}
	}
	if g.CgroupID != 0 {
		if e.cgroups != nil {
			path, ok := e.cgroups.path(g.CgroupID)
			info.Cgroup = path
			if g.TGID == 0 {
				alive = ok
			}
		}
		if info.Cgroup == "" && g.TGID != 0 && alive {
			info.Cgroup = procCgroup(e.procfs, g.TGID)
		}
	}
	return info, alive
}
