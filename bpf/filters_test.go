//go:build linux && (amd64 || arm64)

package bpf

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/seed22255693/syscallsreceiver/internal/workload"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// Kernel tests of the in-kernel filters and of the start times that keep a
// reused pid apart. Each starts its own workloads and checks exact counts;
// the filters (or the pids) keep other processes on the host out.
// Filter.CgroupDirs is tested through the receiver's configuration
// (receiver/groups_test.go), which knows where cgroup v2 is mounted.

func buildWorkload(t *testing.T) string {
	t.Helper()
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	return bin
}

// startWaiting starts a workload that waits for Release before its first
// syscall, so that a filter can name its pid.
func startWaiting(t *testing.T, bin string, spec workload.Spec) *workload.Process {
	t.Helper()
	spec.Wait = true
	p, err := workload.Start(workload.Command(bin, spec))
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Finish() })
	return p
}

func finish(t *testing.T, ps ...*workload.Process) {
	t.Helper()
	for _, p := range ps {
		require.NoError(t, p.Release())
		require.NoError(t, p.Finish())
	}
}

// tgids are the processes with counters.
func tgids(counts *Counts) map[uint32]bool {
	set := map[uint32]bool{}
	for k := range counts.Syscalls {
		set[k.Group.TGID] = true
	}
	for k := range counts.Errors {
		set[k.Group.TGID] = true
	}
	return set
}

// calls sums a syscall's calls over the groups of one process.
func calls(counts *Counts, pid int, nr uint32) uint64 {
	var n uint64
	for k, s := range counts.Syscalls {
		if k.Group.TGID == uint32(pid) && k.Nr == nr && k.ABI == ABINative {
			n += s.Calls
		}
	}
	return n
}

func uniqueComm(prefix string) string { return fmt.Sprintf("%s%d", prefix, os.Getpid()%100000) }

func only(nrs ...uint32) *SyscallSelection {
	sel := &SyscallSelection{}
	for _, nr := range nrs {
		sel.Selected[ABINative][nr] = true
	}
	return sel
}

func allBut(nrs ...uint32) *SyscallSelection {
	sel := &SyscallSelection{AllowHighSyscalls: true}
	for abi := range ABICount {
		for nr := range sel.Selected[abi] {
			sel.Selected[abi][nr] = true
		}
	}
	for _, nr := range nrs {
		sel.Selected[ABINative][nr] = false
	}
	return sel
}

// TestFilterPIDs: only the listed process is counted, all of its threads
// included.
func TestFilterPIDs(t *testing.T) {
	kerneltest.Require(t)
	bin := buildWorkload(t)
	listed := startWaiting(t, bin, workload.Spec{Getppid: 100, OpenMissing: 9, Threads: []int{10, 20, 30}})
	other := startWaiting(t, bin, workload.Spec{Getppid: 500})
	opts := allOn(true)
	opts.GroupByThread = true
	opts.Filter.PIDs = []uint32{uint32(listed.Pid())}
	c := load(t, opts)
	finish(t, listed, other)

	counts, err := c.ReadCounts()
	require.NoError(t, err)
	assert.Equal(t, map[uint32]bool{uint32(listed.Pid()): true}, tgids(counts), "only pid %d is counted (not %d)", listed.Pid(), other.Pid())
	assert.EqualValues(t, 100+10+20+30, calls(counts, listed.Pid(), unix.SYS_GETPPID))
	threads := map[uint32]uint64{}
	for k, s := range counts.Syscalls {
		if k.Nr == unix.SYS_GETPPID {
			threads[k.Group.TID] += s.Calls
		}
	}
	assert.Len(t, threads, 4, "the main thread and the three extra ones: %v", threads)
	assert.EqualValues(t, 100, threads[uint32(listed.Pid())])
	var errs uint64
	for k, n := range counts.Errors {
		if k.Nr == unix.SYS_OPENAT && k.Errno == uint32(unix.ENOENT) {
			errs += n
		}
	}
	assert.EqualValues(t, 9, errs)
}

// TestFilterComms: only tasks with the exact comm are counted.
func TestFilterComms(t *testing.T) {
	kerneltest.Require(t)
	bin := buildWorkload(t)
	yes, no := uniqueComm("fc-yes"), uniqueComm("fc-no")
	opts := allOn(true)
	opts.Filter.Comms = []string{yes, yes + "x"}
	c := load(t, opts)

	listed, err := workload.Run(bin, workload.Spec{Getppid: 123, WriteDevNull: 4, Comm: yes})
	require.NoError(t, err)
	_, err = workload.Run(bin, workload.Spec{Getppid: 456, Comm: no})
	require.NoError(t, err)
	_, err = workload.Run(bin, workload.Spec{Getppid: 789, Comm: yes[:len(yes)-1]}) // a prefix is not a match
	require.NoError(t, err)

	counts, err := c.ReadCounts()
	require.NoError(t, err)
	assert.Equal(t, map[uint32]bool{uint32(listed): true}, tgids(counts))
	// Counted from the rename on: the calls after it are exact.
	assert.EqualValues(t, 123, calls(counts, listed, unix.SYS_GETPPID))
	assert.EqualValues(t, 4, calls(counts, listed, unix.SYS_WRITE))
	exited, err := c.ExitedTasks()
	require.NoError(t, err)
	assert.Equal(t, yes, exited[uint32(listed)].Comm)
}

// TestFilterSyscalls: with an allow-list only the listed syscalls are
// counted, for every process.
func TestFilterSyscalls(t *testing.T) {
	kerneltest.Require(t)
	bin := buildWorkload(t)
	opts := allOn(true)
	opts.Filter.Syscalls = only(unix.SYS_GETPPID, unix.SYS_WRITE)
	c := load(t, opts)

	pid, err := workload.Run(bin, workload.Spec{Getppid: 300, OpenMissing: 20, WriteDevNull: 40})
	require.NoError(t, err)
	counts, err := c.ReadCounts()
	require.NoError(t, err)
	for k := range counts.Syscalls {
		require.Contains(t, []uint32{unix.SYS_GETPPID, unix.SYS_WRITE}, k.Nr, "%+v", k)
		require.Equal(t, uint32(ABINative), k.ABI, "%+v", k)
	}
	for k := range counts.Errors {
		require.Contains(t, []uint32{unix.SYS_GETPPID, unix.SYS_WRITE}, k.Nr, "%+v", k)
	}
	g := processGroup(t, c, counts, pid)
	assert.EqualValues(t, 300, counts.Syscalls[SyscallKey{g, unix.SYS_GETPPID, ABINative}].Calls)
	assert.EqualValues(t, 40, counts.Syscalls[SyscallKey{g, unix.SYS_WRITE, ABINative}].Calls)
	assert.Positive(t, counts.Syscalls[SyscallKey{g, unix.SYS_GETPPID, ABINative}].DurationNs)
}

// TestFilterExcludeSyscalls: excluded syscalls are never counted, the
// others are.
func TestFilterExcludeSyscalls(t *testing.T) {
	kerneltest.Require(t)
	bin := buildWorkload(t)
	opts := allOn(true)
	opts.Filter.Syscalls = allBut(unix.SYS_GETPPID)
	c := load(t, opts)

	pid, err := workload.Run(bin, workload.Spec{Getppid: 300, OpenMissing: 20, WriteDevNull: 40})
	require.NoError(t, err)
	counts, err := c.ReadCounts()
	require.NoError(t, err)
	for k := range counts.Syscalls {
		require.False(t, k.Nr == unix.SYS_GETPPID && k.ABI == ABINative, "getppid counted: %+v", k)
	}
	g := processGroup(t, c, counts, pid)
	assert.EqualValues(t, 40, counts.Syscalls[SyscallKey{g, unix.SYS_WRITE, ABINative}].Calls)
	assert.EqualValues(t, 20, counts.Errors[ErrorKey{g, unix.SYS_OPENAT, ABINative, uint32(unix.ENOENT)}])
	assert.Positive(t, counts.Syscalls[SyscallKey{g, unix.SYS_EXIT_GROUP, ABINative}].Calls)
}

// TestFiltersCombine: filters combine with AND: the listed pid's listed
// syscall, nothing else.
func TestFiltersCombine(t *testing.T) {
	kerneltest.Require(t)
	bin := buildWorkload(t)
	listed := startWaiting(t, bin, workload.Spec{Getppid: 123, WriteDevNull: 10, OpenMissing: 5})
	other := startWaiting(t, bin, workload.Spec{Getppid: 456})
	opts := allOn(true)
	opts.Filter.PIDs = []uint32{uint32(listed.Pid())}
	opts.Filter.Syscalls = only(unix.SYS_GETPPID)
	c := load(t, opts)
	finish(t, listed, other)

	counts, err := c.ReadCounts()
	require.NoError(t, err)
	require.Len(t, counts.Syscalls, 1, "%v", counts.Syscalls)
	for k, s := range counts.Syscalls {
		assert.EqualValues(t, listed.Pid(), k.Group.TGID)
		assert.EqualValues(t, unix.SYS_GETPPID, k.Nr)
		assert.EqualValues(t, 123, s.Calls)
	}
	assert.Empty(t, counts.Errors)
}

// procStartTicks reads field 22 of /proc/PID/stat (or of a thread's): the
// start time since boot in clock ticks.
func procStartTicks(t *testing.T, path string) uint64 {
	t.Helper()
	stat, err := os.ReadFile(path)
	require.NoError(t, err)
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	ticks, err := strconv.ParseUint(fields[19], 10, 64) // fields 3.. of the line
	require.NoError(t, err)
	return ticks
}

// TestGroupStartTime: a group's StartNs is the task's start time, the same
// one /proc/PID/stat reports in clock ticks (100 per second). It is what
// tells a reused pid from the process that had it before.
func TestGroupStartTime(t *testing.T) {
	kerneltest.Require(t)
	bin := buildWorkload(t)
	for _, perThread := range []bool{false, true} {
		t.Run(fmt.Sprintf("thread=%v", perThread), func(t *testing.T) {
			p := startWaiting(t, bin, workload.Spec{Getppid: 77, Hold: true})
			opts := allOn(true)
			opts.GroupByThread = perThread
			opts.Filter.PIDs = []uint32{uint32(p.Pid())}
			c := load(t, opts)
			needStartTimes(t, c)
			require.NoError(t, p.Release())
			_, err := p.Done()
			require.NoError(t, err)

			counts, err := c.ReadCounts() // alive, idle
			require.NoError(t, err)
			var g Group
			for k, s := range counts.Syscalls {
				if k.Nr == unix.SYS_GETPPID {
					assert.EqualValues(t, 77, s.Calls)
					g = k.Group
				}
			}
			require.EqualValues(t, p.Pid(), g.TGID)
			path := fmt.Sprintf("/proc/%d/stat", p.Pid())
			if perThread {
				require.EqualValues(t, p.Pid(), g.TID, "the main thread made the calls")
				path = fmt.Sprintf("/proc/%d/task/%d/stat", p.Pid(), g.TID)
			}
			ticks := procStartTicks(t, path)
			t.Logf("pid %d: StartNs %d, /proc start %d ticks", p.Pid(), g.StartNs, ticks)
			assert.Equal(t, ticks, g.StartNs/1e7)
			// Every group of the process carries the same start time.
			for _, other := range counts.Groups {
				if other.TGID == g.TGID && (!perThread || other.TID == g.TID) {
					assert.Equal(t, g.StartNs, other.StartNs)
				}
			}
			require.NoError(t, p.Finish())
		})
	}
}

// TestReusedPidIsANewGroup makes the kernel give a second process the pid
// of the first (via ns_last_pid): their counts stay in two groups.
func TestReusedPidIsANewGroup(t *testing.T) {
	kerneltest.Require(t)
	bin := buildWorkload(t)
	comm := uniqueComm("reuse")
	opts := allOn(true)
	opts.Filter.Comms = []string{comm}
	c := load(t, opts)
	needStartTimes(t, c)

	var pid int
	for range 20 {
		first, err := workload.Run(bin, workload.Spec{Getppid: 111, Comm: comm})
		require.NoError(t, err)
		require.NoError(t, os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(first-1)), 0))
		second, err := workload.Run(bin, workload.Spec{Getppid: 222, Comm: comm})
		require.NoError(t, err)
		if first == second {
			pid = first
			break
		}
	}
	require.NotZero(t, pid, "could not get the kernel to reuse a pid in 20 tries")

	counts, err := c.ReadCounts()
	require.NoError(t, err)
	byStart := map[uint64]uint64{}
	for k, s := range counts.Syscalls {
		if k.Group.TGID == uint32(pid) && k.Nr == unix.SYS_GETPPID {
			byStart[k.Group.StartNs] += s.Calls
		}
	}
	require.Len(t, byStart, 2, "two processes had pid %d: %v", pid, byStart)
	var got []uint64
	for _, n := range byStart {
		got = append(got, n)
	}
	assert.ElementsMatch(t, []uint64{111, 222}, got)
}
