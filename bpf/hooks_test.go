//go:build linux && (amd64 || arm64)

package bpf

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/seed22255693/syscallsreceiver/internal/workload"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// TestAutoPicksTPBTF: on a kernel with BTF (like the CI's), the cheapest
// hook is the one used, unless the kernel lacks what it needs (5.10 has
// BTF but not bpf_get_current_task_btf): then the skip says what.
func TestAutoPicksTPBTF(t *testing.T) {
	kerneltest.Require(t)
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("this kernel lacks kernel BTF at /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF=y)")
	}
	c := load(t, allOn(true))
	t.Logf("auto picked %s", c.Hook())
	var lacks *LacksError
	if c.Hook() != HookTPBTF && len(c.UnusableHooks()) > 0 && errors.As(c.UnusableHooks()[0], &lacks) {
		t.Skipf("auto picked %s: %v", c.Hook(), c.UnusableHooks()[0])
	}
	assert.Equal(t, HookTPBTF, c.Hook())
	assert.Empty(t, c.UnusableHooks())
}

// TestEveryHookCountsTheSame forces each way of hooking the syscall path on
// this kernel and checks the same exact counts: a parent with known calls
// and errors, and vforked children whose only syscalls are known (prctl,
// getppid, exit_group). It shows that counting at sys_exit neither counts
// a child's return from vfork as a call nor misses exit_group, which never
// returns.
func TestEveryHookCountsTheSame(t *testing.T) {
	kerneltest.Require(t)
	bin := buildWorkload(t)
	spec := workload.Spec{Getppid: 1000, OpenMissing: 37, WriteDevNull: 250, Fork: 3, ForkMod: 3}
	for _, hook := range Hooks {
		t.Run(string(hook), func(t *testing.T) {
			opts := allOn(true)
			opts.Hook = hook
			c := load(t, opts)
			require.Equal(t, hook, c.Hook())
			if hook != HookTracepoint {
				// With the kernel's BTF, raw_tracepoint reads them too.
				ok, why := c.StartTimes()
				assert.Equal(t, kernelBTF(), ok, "start times (%v)", why)
			}

			pid, err := workload.Run(bin, spec)
			require.NoError(t, err)
			counts, err := c.ReadCounts()
			require.NoError(t, err)
			exited, err := c.ExitedTasks()
			require.NoError(t, err)

			calls := func(g Group, nr uint32) uint64 { return counts.Syscalls[SyscallKey{g, nr, ABINative}].Calls }
			parent := groupOf(t, counts, uint32(pid))
			assert.EqualValues(t, spec.Getppid, calls(parent, unix.SYS_GETPPID))
			assert.EqualValues(t, spec.WriteDevNull, calls(parent, unix.SYS_WRITE))
			assert.EqualValues(t, 1, calls(parent, unix.SYS_EXIT_GROUP))
			// The vforks and the Go runtime's threads.
			assert.GreaterOrEqual(t, calls(parent, unix.SYS_CLONE), uint64(spec.Fork))
			assert.EqualValues(t, spec.OpenMissing, counts.Errors[ErrorKey{parent, unix.SYS_OPENAT, ABINative, uint32(unix.ENOENT)}])
			var timed uint64
			for _, n := range counts.Durations[SyscallKey{parent, unix.SYS_GETPPID, ABINative}] {
				timed += n
			}
			assert.EqualValues(t, spec.Getppid, timed, "every getppid is timed")

			children := 0
			for tid, task := range exited {
				i := -1
				for j := range spec.Fork {
					if task.Comm == spec.ForkComm(j) {
						i = j
					}
				}
				if i < 0 {
					continue
				}
				children++
				got := map[uint32]uint64{}
				for k, s := range counts.Syscalls {
					if k.Group.TGID == tid {
						got[k.Nr] += s.Calls
					}
				}
				want := map[uint32]uint64{unix.SYS_PRCTL: 1, unix.SYS_GETPPID: uint64(spec.ForkGetppid(i)), unix.SYS_EXIT_GROUP: 1}
				assert.Equal(t, want, got, "child %s (tid %d)", task.Comm, tid)
			}
			assert.Equal(t, spec.Fork, children)
			assert.Zero(t, counts.Dropped)
		})
	}
}

// kernelBTF says whether the kernel has BTF.
func kernelBTF() bool {
	_, err := os.Stat("/sys/kernel/btf/vmlinux")
	return err == nil
}

// groupOf finds the group of a pid among the counted ones; without BTF
// its start time is unknown (0).
func groupOf(t *testing.T, counts *Counts, pid uint32) Group {
	t.Helper()
	for _, g := range counts.Groups {
		if g.TGID == pid {
			return g
		}
	}
	t.Fatalf("pid %d was not counted", pid)
	return Group{}
}

// hiddenKernelBTF makes the loader see a kernel without BTF: an empty type
// spec instead of the kernel's.
func hiddenKernelBTF(t *testing.T) *ebpf.CollectionOptions {
	t.Helper()
	b, err := btf.NewBuilder([]btf.Type{&btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}}, nil)
	require.NoError(t, err)
	raw, err := b.Marshal(nil, nil)
	require.NoError(t, err)
	noKernelTypes, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	require.NoError(t, err)
	return &ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{KernelTypes: noKernelTypes}}
}

// TestFallbacksNeedNoKernelBTF loads the programs as on a kernel without
// BTF. The tp_btf build must then fail to load, and the two fallbacks must
// load and count exactly: kernels without BTF still count. On auto, the
// receiver falls back to raw_tracepoint and says why tp_btf did not work.
func TestFallbacksNeedNoKernelBTF(t *testing.T) {
	kerneltest.Require(t)
	noBTF := hiddenKernelBTF(t)
	bin := buildWorkload(t)
	spec := workload.Spec{Getppid: 321, OpenMissing: 12}

	for _, hook := range append([]Hook{HookAuto}, Hooks...) {
		name := string(hook)
		if hook == HookAuto {
			name = "auto"
		}
		t.Run(name, func(t *testing.T) {
			opts := allOn(true)
			opts.Filter.Comms = []string{workload.Comm}
			opts.Hook = hook
			c, err := loadWith(opts, noBTF)
			if hook != HookTPBTF {
				skipIfKernelLacks(t, hook, err)
			}
			if hook == HookTPBTF {
				require.Error(t, err, "the tp_btf build loaded without the kernel's types: the test hides nothing")
				t.Logf("tp_btf without kernel BTF: %v", err)
				return
			}
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			if hook == HookAuto {
				assert.Equal(t, HookRawTracepoint, c.Hook())
				require.Len(t, c.UnusableHooks(), 1)
				assert.ErrorContains(t, c.UnusableHooks()[0], "tp_btf: ")
			}
			pid, err := workload.Run(bin, spec)
			require.NoError(t, err)
			counts, err := c.ReadCounts()
			require.NoError(t, err)
			g := groupOf(t, counts, uint32(pid))
			assert.Zero(t, g.StartNs, "without BTF the start time is unknown")
			ok, why := c.StartTimes()
			assert.False(t, ok)
			if c.Hook() == HookRawTracepoint {
				assert.Error(t, why, "why the build with start times did not load")
				t.Logf("raw_tracepoint without kernel BTF: %v", why)
			}
			assert.EqualValues(t, spec.Getppid, counts.Syscalls[SyscallKey{g, unix.SYS_GETPPID, ABINative}].Calls)
			assert.EqualValues(t, spec.OpenMissing, counts.Errors[ErrorKey{g, unix.SYS_OPENAT, ABINative, uint32(unix.ENOENT)}])
		})
	}
}

// Every hook HookAuto may pick has its entry in the table, in that order.
func TestHookTableFollowsHooks(t *testing.T) {
	require.Len(t, hookSpecs, len(Hooks))
	for i, h := range Hooks {
		assert.Equal(t, h, hookSpecs[i].hook)
	}
}
