//go:build linux && (amd64 || arm64)

package bpf

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
	"github.com/seed22255693/syscallsreceiver/internal/workload"
)

// pinDir returns a fresh directory on bpffs (mounting it as a node agent's
// host would have it), removed with its pins at the end of the test.
func pinDir(t *testing.T) string {
	t.Helper()
	kerneltest.MountBPFFS(t)
	dir := fmt.Sprintf("/sys/fs/bpf/syscalls-test-%d/%s", os.Getpid(), t.Name())
	t.Cleanup(func() { _ = RemovePins(filepath.Dir(dir)) })
	return dir
}

func programsLoaded(ids []ebpf.ProgramID) (n int) {
	for _, id := range ids {
		if p, err := ebpf.NewProgramFromID(id); err == nil {
			_ = p.Close()
			n++
		}
	}
	return n
}

// TestPinnedCountingOutlivesClose: with a pin path, the programs go on
// counting after Close, a Load with the same options adopts them with the
// first start time, another configuration replaces them cleanly, and
// RemovePins leaves nothing.
func TestPinnedCountingOutlivesClose(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	opts := allOn(true)
	opts.PinPath = pinDir(t)

	first, err := Load(opts)
	require.NoError(t, err)
	assert.False(t, first.Adopted())
	before, err := workload.Run(bin, workload.Spec{Getppid: 1000})
	require.NoError(t, err)
	firstProgs, _ := first.ObjectIDs()
	require.NoError(t, first.Close()) // the collector stops...

	during, err := workload.Run(bin, workload.Spec{Getppid: 500, OpenMissing: 7}) // ...while this runs
	require.NoError(t, err)
	assert.Equal(t, len(firstProgs), programsLoaded(firstProgs), "pinned programs stay loaded after Close")

	second, err := Load(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = second.Close() })
	assert.True(t, second.Adopted())
	assert.Empty(t, second.ReplacedPins())
	assert.True(t, first.AttachedAt().Equal(second.AttachedAt()), "the start time of the first Load")
	adoptedProgs, _ := second.ObjectIDs()
	assert.ElementsMatch(t, firstProgs, adoptedProgs, "the same programs, not new ones")

	counts, err := second.ReadCounts()
	require.NoError(t, err)
	for pid, want := range map[int]uint64{before: 1000, during: 500} {
		g := processGroup(t, second, counts, pid)
		assert.EqualValues(t, want, counts.Syscalls[SyscallKey{g, unix.SYS_GETPPID, ABINative}].Calls, "pid %d", pid)
	}
	g := processGroup(t, second, counts, during)
	assert.EqualValues(t, 7, counts.Errors[ErrorKey{g, unix.SYS_OPENAT, ABINative, uint32(unix.ENOENT)}])
	exited, err := second.ExitedTasks()
	require.NoError(t, err)
	assert.Contains(t, exited, uint32(during), "a process that exited while nobody read is still named")
	for k := range counts.Syscalls {
		require.NotEqual(t, uint32(os.Getpid()), k.Group.TGID, "the excluded process was counted")
	}
	require.NoError(t, second.Close())

	// Another configuration: the old pins go, the new ones start afresh.
	other := opts
	other.MeasureDuration = false
	third, err := Load(other)
	require.NoError(t, err)
	t.Cleanup(func() { _ = third.Close() })
	assert.False(t, third.Adopted())
	assert.Contains(t, third.ReplacedPins(), "another configuration")
	assert.True(t, third.AttachedAt().After(first.AttachedAt()))
	// The kernel frees released programs from a work queue.
	assert.Eventually(t, func() bool { return programsLoaded(firstProgs) == 0 }, 5*time.Second, 10*time.Millisecond,
		"the replaced programs are gone")
	thirdProgs, _ := third.ObjectIDs()
	require.NoError(t, third.Close())

	require.NoError(t, RemovePins(opts.PinPath))
	assert.NoDirExists(t, opts.PinPath)
	assert.Eventually(t, func() bool { return programsLoaded(thirdProgs) == 0 }, 5*time.Second, 10*time.Millisecond,
		"nothing stays loaded once the pins are removed")
}

// TestPinPathErrors: a pin path that cannot hold pins is refused with what
// to do, before anything is loaded.
func TestPinPathErrors(t *testing.T) {
	kerneltest.Require(t)
	for path, want := range map[string]string{
		"relative/dir":            "must be an absolute path on a bpffs",
		t.TempDir() + "/pins":     "is not on a bpffs",
		"/proc/self/not-on-bpffs": "is not on a bpffs",
	} {
		opts := allOn(false)
		opts.PinPath = path
		_, err := Load(opts)
		require.Error(t, err, path)
		assert.Contains(t, err.Error(), want)
		assert.Contains(t, err.Error(), "pin_path")
	}
}
