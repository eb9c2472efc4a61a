//go:build linux && (amd64 || arm64)

package bpf

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
	"github.com/seed22255693/syscallsreceiver/internal/workload"
)

// TestSilentHookIsAttachedAgain: a hook the kernel does not run is found by
// its run count and attached again, on every hook type. The test makes
// sys_exit silent as the arm64 guest did, by closing its link behind the
// loader's back, and then checks the counts of a workload are exact.
func TestSilentHookIsAttachedAgain(t *testing.T) {
	kerneltest.Require(t)
	bin := buildWorkload(t)
	spec := workload.Spec{Getppid: 3000, OpenMissing: 30, WriteDevNull: 50}
	for _, hook := range Hooks {
		t.Run(string(hook), func(t *testing.T) {
			opts := allOn(true)
			opts.Hook = hook
			c := load(t, opts)
			require.Empty(t, c.silentHooks(), "every hook runs once attached")
			require.Empty(t, c.Reattached())

			exit := slices.Index(c.linkNames, "sys_exit")
			require.GreaterOrEqual(t, exit, 0, "links: %v", c.linkNames)
			require.NoError(t, c.links[exit].Close())
			silent := c.silentHooks()
			require.Len(t, silent, 1)
			assert.Contains(t, silent[0], "sys_exit (0 runs during 64 syscalls)")

			require.NoError(t, c.ensureFiring())
			assert.Contains(t, c.Reattached(), "sys_exit")
			assert.Empty(t, c.silentHooks())
			pid, err := workload.Run(bin, spec)
			require.NoError(t, err)
			counts, err := c.ReadCounts()
			require.NoError(t, err)
			g := groupOf(t, counts, uint32(pid))
			assert.EqualValues(t, spec.Getppid, counts.Syscalls[SyscallKey{g, unix.SYS_GETPPID, ABINative}].Calls)
			assert.EqualValues(t, spec.OpenMissing, counts.Errors[ErrorKey{g, unix.SYS_OPENAT, ABINative, uint32(unix.ENOENT)}])
		})
	}
}
