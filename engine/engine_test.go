//go:build linux && (amd64 || arm64)

package engine

import (
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/internal/workload"
)

// TestSnapshotEndsAProcessOnce is the engine's contract without any
// adapter: a process that exited before a snapshot is in it once, marked
// ended, with its exact totals and its name; the engine has released it
// in the kernel, so the next snapshot and the tracked groups lack it.
func TestSnapshotEndsAProcessOnce(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	e, err := Open(Options{Options: bpf.Options{
		GroupByProcess: true, CountCalls: true, CountErrors: true,
		ExcludeTGID: uint32(os.Getpid()), Filter: bpf.Filter{Comms: []string{"syscall-workloa"}},
	}})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })

	spec := workload.Spec{Getppid: 321, OpenMissing: 7}
	pid, err := workload.Run(bin, spec)
	require.NoError(t, err)

	snap, err := e.Snapshot()
	require.NoError(t, err)
	require.NoError(t, snap.ReleaseError)
	getppid, ok := sysnames.Native().Number("getppid")
	require.True(t, ok)
	openat, ok := sysnames.Native().Number("openat")
	require.True(t, ok)
	var ended []bpf.Group
	var calls, errs uint64
	for g, info := range snap.Info {
		if g.TGID != uint32(pid) {
			continue
		}
		require.True(t, info.Ended, "the workload has exited")
		assert.Equal(t, "syscall-workloa", info.Comm, "named from its exit record")
		ended = append(ended, g)
		for k, st := range snap.Counts.Syscalls {
			if k.Group == g && k.Nr == getppid && k.ABI == bpf.ABINative {
				calls += st.Calls
			}
		}
		for k, n := range snap.Counts.Errors {
			if k.Group == g && k.Nr == openat {
				errs += n
			}
		}
	}
	require.Len(t, ended, 1, "one group for pid %d", pid)
	assert.EqualValues(t, spec.Getppid, calls, "getppid calls")
	assert.EqualValues(t, spec.OpenMissing, errs, "openat errors")
	t.Logf("pid %d ended: getppid %d, openat errors %d", pid, calls, errs)

	next, err := e.Snapshot()
	require.NoError(t, err)
	_, again := next.Info[ended[0]]
	assert.False(t, again, "an ended group is reported once")
	for k := range next.Counts.Syscalls {
		require.NotEqual(t, ended[0], k.Group, "the ended group's counters were released in the kernel")
	}
	assert.False(t, slices.Contains(e.Tracked(), ended[0]), "the engine no longer tracks it")
}
