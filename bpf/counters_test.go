//go:build linux && (amd64 || arm64)

package bpf

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/seed22255693/syscallsreceiver/internal/workload"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

func allOn(perProcess bool) Options {
	return Options{GroupByProcess: perProcess, CountCalls: true, CountErrors: true, MeasureDuration: true, ExcludeTGID: uint32(os.Getpid())}
}

// processGroup finds the group of a pid among the counted ones, which
// carries its start time where the hook reads it (startTimes).
func processGroup(t *testing.T, c *Counters, counts *Counts, pid int) Group {
	t.Helper()
	g := groupOf(t, counts, uint32(pid))
	if startTimes(c) {
		require.NotZero(t, g.StartNs)
	} else {
		require.Zero(t, g.StartNs, "%s reads no start times", c.Hook())
	}
	return g
}

// startTimes says whether the loaded programs read tasks' start times.
func startTimes(c *Counters) bool {
	ok, _ := c.StartTimes()
	return ok
}

// needStartTimes skips a test of start times where the programs auto
// loaded read none, with the kernel's reasons.
func needStartTimes(t *testing.T, c *Counters) {
	t.Helper()
	if ok, why := c.StartTimes(); !ok {
		t.Skipf("auto picked %s, which reads no start times here: %v", c.Hook(), errors.Join(append(c.UnusableHooks(), why)...))
	}
}

// skipIfKernelLacks skips a test that forced a hook the kernel cannot
// give (the kernel's reason is the skip's); any other error is left to
// the caller.
func skipIfKernelLacks(t *testing.T, hook Hook, err error) {
	t.Helper()
	var lacks *LacksError
	if hook != HookAuto && errors.As(err, &lacks) {
		t.Skipf("%s: %v", hook, err)
	}
}

func load(t *testing.T, opts Options) *Counters {
	t.Helper()
	c, err := Load(opts)
	skipIfKernelLacks(t, opts.Hook, err)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	if why := c.Reattached(); why != "" {
		t.Logf("hook attached again: %s", why)
	}
	return c
}

// TestExactCountsPerProcess runs a child with known syscalls and checks the
// kernel counted exactly those for its pid.
func TestExactCountsPerProcess(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	c := load(t, allOn(true))

	spec := workload.Spec{Getppid: 1000, OpenMissing: 37, WriteDevNull: 250}
	pid, err := workload.Run(bin, spec)
	require.NoError(t, err)

	counts, err := c.ReadCounts()
	require.NoError(t, err)
	tgid := uint32(pid)
	g := processGroup(t, c, counts, pid)
	getppid := counts.Syscalls[SyscallKey{g, unix.SYS_GETPPID, ABINative}]
	assert.EqualValues(t, spec.Getppid, getppid.Calls)
	assert.Positive(t, getppid.DurationNs)
	assert.EqualValues(t, spec.WriteDevNull, counts.Syscalls[SyscallKey{g, unix.SYS_WRITE, ABINative}].Calls)
	assert.EqualValues(t, spec.OpenMissing, counts.Errors[ErrorKey{g, unix.SYS_OPENAT, ABINative, uint32(unix.ENOENT)}])
	// One more openat (of /dev/null) plus the Go runtime's start-up ones.
	assert.GreaterOrEqual(t, counts.Syscalls[SyscallKey{g, unix.SYS_OPENAT, ABINative}].Calls, uint64(spec.OpenMissing+1))
	for k := range counts.Errors {
		if k.Group == g && k.Nr == unix.SYS_WRITE {
			t.Errorf("unexpected write error %v", k)
		}
	}
	assert.Zero(t, counts.Dropped)

	exited, err := c.ExitedTasks()
	require.NoError(t, err)
	assert.Equal(t, ExitedTask{Comm: workload.Comm, StartNs: g.StartNs}, exited[tgid])

	// Our own syscalls are excluded.
	for k := range counts.Syscalls {
		require.NotEqual(t, uint32(os.Getpid()), k.Group.TGID, "the excluded process was counted")
	}

	// Forgetting a process removes all of its keys and nothing else.
	require.NoError(t, c.Forget(counts, func(x Group) bool { return x == g }, []uint32{tgid}))
	after, err := c.ReadCounts()
	require.NoError(t, err)
	for k := range after.Syscalls {
		require.NotEqual(t, g, k.Group)
	}
	for k := range after.Errors {
		require.NotEqual(t, g, k.Group)
	}
	assert.NotContains(t, after.Groups, g)
	exited, err = c.ExitedTasks()
	require.NoError(t, err)
	assert.NotContains(t, exited, tgid)
}

// TestSystemWide counts into the per-CPU array: the workload's calls are a
// lower bound of the host's.
func TestSystemWide(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	c := load(t, allOn(false))
	before, err := c.ReadCounts()
	require.NoError(t, err)

	spec := workload.Spec{Getppid: 5000, OpenMissing: 300}
	_, err = workload.Run(bin, spec)
	require.NoError(t, err)

	after, err := c.ReadCounts()
	require.NoError(t, err)
	for k := range after.Syscalls {
		require.Zero(t, k.Group)
	}
	key := SyscallKey{Nr: unix.SYS_GETPPID}
	assert.GreaterOrEqual(t, after.Syscalls[key].Calls-before.Syscalls[key].Calls, uint64(spec.Getppid))
	ekey := ErrorKey{Nr: unix.SYS_OPENAT, Errno: uint32(unix.ENOENT)}
	assert.GreaterOrEqual(t, after.Errors[ekey]-before.Errors[ekey], uint64(spec.OpenMissing))
}

// TestCallsOnly checks that switched-off features really are off: no
// errors, no durations. On tp_btf calls are counted at sys_exit and
// sys_enter still runs, for the sigreturns (see sigreturn_test.go); the
// other hooks count at sys_enter and need no sys_exit.
func TestCallsOnly(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	c := load(t, Options{GroupByProcess: true, CountCalls: true})
	if c.Hook() == HookTPBTF {
		assert.Len(t, c.links, 3, "sys_enter, sys_exit and sched_process_exit")
	} else {
		assert.Len(t, c.links, 2, "%s: sys_enter and sched_process_exit", c.Hook())
	}

	pid, err := workload.Run(bin, workload.Spec{Getppid: 10, OpenMissing: 10})
	require.NoError(t, err)
	counts, err := c.ReadCounts()
	require.NoError(t, err)
	s := counts.Syscalls[SyscallKey{processGroup(t, c, counts, pid), unix.SYS_GETPPID, ABINative}]
	assert.EqualValues(t, 10, s.Calls)
	assert.Zero(t, s.DurationNs)
	assert.Empty(t, counts.Errors)
}

func TestMissingCapabilities(t *testing.T) {
	err := missingCaps(0)
	var perr *PrivilegeError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, []string{"CAP_BPF", "CAP_PERFMON"}, perr.Missing)
	assert.Contains(t, err.Error(), "lacks CAP_BPF and CAP_PERFMON")
	assert.Contains(t, err.Error(), "setcap cap_bpf,cap_perfmon+ep")
	assert.ErrorContains(t, missingCaps(1<<capBPF), "lacks CAP_PERFMON:")
	assert.NoError(t, missingCaps(1<<capBPF|1<<capPerfmon))
	assert.NoError(t, missingCaps(1<<capSysAdmin))

	caps, ok := effectiveCaps("Name:\tx\nCapEff:\t000001ffffffffff\n")
	assert.True(t, ok)
	assert.EqualValues(t, 0x1ffffffffff, caps)
}

// TestFullMapsAreCounted: system-wide, the numbers past the array's slots
// share a hash of 1,024 entries; calls of further numbers cannot be kept
// and must be counted as dropped, exactly, never lost silently.
func TestFullMapsAreCounted(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	c := load(t, Options{CountCalls: true, CountErrors: true, Filter: Filter{Comms: []string{workload.Comm}}})
	const unknown = 1100
	_, err = workload.Run(bin, workload.Spec{Unknown: unknown})
	require.NoError(t, err)
	counts, err := c.ReadCounts()
	require.NoError(t, err)
	kept := 0
	for k, s := range counts.Syscalls {
		if k.Nr >= SyscallSlots {
			require.EqualValues(t, 1, s.Calls, "number %d", k.Nr)
			kept++
		}
	}
	assert.Equal(t, 1024, kept, "the hash for high numbers holds 1,024")
	assert.EqualValues(t, unknown-kept, counts.Dropped, "every call that did not fit is counted as dropped")
	enosys := 0
	for k, n := range counts.Errors {
		if k.Nr >= SyscallSlots && k.Errno == uint32(unix.ENOSYS) {
			require.EqualValues(t, 1, n)
			enosys++
		}
	}
	assert.Equal(t, unknown, enosys, "every ENOSYS is kept (the error hash is larger)")
}

// TestOverflowUntilRoomIsFreed: past max_groups a new process counts in the
// overflow group (and the programs stop trying the full map); once Forget
// frees room, the next process gets a group of its own again.
func TestOverflowUntilRoomIsFreed(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	// Only getppid: room for 16 (group, syscall) pairs per group is then
	// plenty, and only the group bound is tested.
	only := &SyscallSelection{}
	only.Selected[ABINative][unix.SYS_GETPPID] = true
	opts := Options{GroupByProcess: true, CountCalls: true, MaxGroups: 2, ExcludeTGID: uint32(os.Getpid()),
		Filter: Filter{Comms: []string{workload.Comm}, Syscalls: only}}
	c := load(t, opts)
	full := func() uint32 {
		var v uint32
		require.NoError(t, c.objs.GroupsFull.Lookup(uint32(0), &v))
		return v
	}
	getppid := func(counts *Counts, g Group) uint64 {
		return counts.Syscalls[SyscallKey{g, unix.SYS_GETPPID, ABINative}].Calls
	}
	var pids []int
	for range 3 {
		pid, err := workload.Run(bin, workload.Spec{Getppid: 10})
		require.NoError(t, err)
		pids = append(pids, pid)
	}
	counts, err := c.ReadCounts()
	require.NoError(t, err)
	require.Len(t, counts.Groups, 2)
	assert.EqualValues(t, 10, getppid(counts, processGroup(t, c, counts, pids[0])))
	assert.EqualValues(t, 10, getppid(counts, processGroup(t, c, counts, pids[1])))
	assert.EqualValues(t, 10, getppid(counts, OverflowGroup), "the third process counts as overflow")
	assert.EqualValues(t, 1, full(), "the programs know the groups map is full")

	require.NoError(t, c.Forget(counts, func(g Group) bool { return true }, nil))
	assert.Zero(t, full(), "Forget freed room")
	pid, err := workload.Run(bin, workload.Spec{Getppid: 7})
	require.NoError(t, err)
	counts, err = c.ReadCounts()
	require.NoError(t, err)
	assert.EqualValues(t, 7, getppid(counts, processGroup(t, c, counts, pid)), "a new process has its own group again")
	assert.EqualValues(t, 10, getppid(counts, OverflowGroup), "nothing more in overflow")
}
