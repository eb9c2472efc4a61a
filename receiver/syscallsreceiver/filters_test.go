//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/internal/workload"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// TestFilterCgroups: only processes inside the listed cgroup or its
// descendants are counted.
func TestFilterCgroups(t *testing.T) {
	kerneltest.Require(t)
	bin := workloadBin(t)
	cg := newLiveCgroups(t)
	parent := cg.make("/parent")
	child := cg.make("/parent/child")

	cfg := testConfig()
	cfg.Filter.Cgroups = []string{parent}
	s := liveScraper(t, cfg)
	in := runWorkload(t, cg.in(workload.Command(bin, workload.Spec{Getppid: 321, OpenMissing: 3}), child))
	inParent := runWorkload(t, cg.in(workload.Command(bin, workload.Spec{Getppid: 5}), parent))
	out := runWorkload(t, workload.Command(bin, workload.Spec{Getppid: 654}))

	rs := liveScrape(t, s)
	var pids []int64
	for _, r := range rs {
		pids = append(pids, r.int("process.pid"))
	}
	assert.ElementsMatch(t, []int64{int64(in.Pid), int64(inParent.Pid)}, pids,
		"only the processes in the cgroup are counted (outside: %d)", out.Pid)
	for _, r := range rs {
		switch r.int("process.pid") {
		case int64(in.Pid):
			assert.EqualValues(t, 321, r.native("getppid"))
			assert.EqualValues(t, 3, r.errors["openat ENOENT"])
		case int64(inParent.Pid):
			assert.EqualValues(t, 5, r.native("getppid"))
		}
	}
}

// TestFilterCommsAndCgroups: two filters combine with AND.
func TestFilterCommsAndCgroups(t *testing.T) {
	kerneltest.Require(t)
	bin := workloadBin(t)
	cg := newLiveCgroups(t)
	box := cg.make("/box")
	yes, no := uniqueComm("and-y"), uniqueComm("and-n")

	cfg := testConfig()
	cfg.Filter.Cgroups = []string{box}
	cfg.Filter.Comms = []string{yes}
	s := liveScraper(t, cfg)
	both := runWorkload(t, cg.in(workload.Command(bin, workload.Spec{Getppid: 77, Comm: yes}), box))
	wrongComm := runWorkload(t, cg.in(workload.Command(bin, workload.Spec{Getppid: 88, Comm: no}), box))
	outside := runWorkload(t, workload.Command(bin, workload.Spec{Getppid: 99, Comm: yes}))

	rs := liveScrape(t, s)
	require.Len(t, rs, 1, "only pid %d is in the cgroup with the comm (not %d, %d)", both.Pid, wrongComm.Pid, outside.Pid)
	assert.EqualValues(t, both.Pid, rs[0].int("process.pid"))
	assert.Equal(t, yes, rs[0].str("process.executable.name"))
	assert.EqualValues(t, 77, rs[0].native("getppid"))
}

// TestFilterSyscallNames: filter.syscalls and filter.exclude_syscalls, by
// name through the configuration.
func TestFilterSyscallNames(t *testing.T) {
	kerneltest.Require(t)
	bin := workloadBin(t)
	spec := workload.Spec{Getppid: 40, OpenMissing: 30, WriteDevNull: 20}

	t.Run("syscalls", func(t *testing.T) {
		cfg := testConfig()
		cfg.Filter.Syscalls = []string{"getppid", "write"}
		s := liveScraper(t, cfg)
		pid, err := workload.Run(bin, spec)
		require.NoError(t, err)
		rs := liveScrape(t, s)
		for _, r := range rs {
			for k := range r.calls {
				require.Contains(t, []string{"getppid", "write"}, k.name, "pid %d", r.int("process.pid"))
			}
			require.Empty(t, r.errors, "pid %d", r.int("process.pid"))
		}
		w := withAttr(rs, "process.pid", int64(pid))
		require.Len(t, w, 1)
		assert.Equal(t, map[sysKey]int64{{"getppid", nativeABI}: 40, {"write", nativeABI}: 20}, w[0].calls)
	})

	t.Run("exclude_syscalls", func(t *testing.T) {
		cfg := testConfig()
		cfg.Filter.ExcludeSyscalls = []string{"getppid"}
		s := liveScraper(t, cfg)
		pid, err := workload.Run(bin, spec)
		require.NoError(t, err)
		rs := liveScrape(t, s)
		for _, r := range rs {
			require.Zero(t, r.native("getppid"), "pid %d", r.int("process.pid"))
		}
		w := withAttr(rs, "process.pid", int64(pid))
		require.Len(t, w, 1)
		assert.EqualValues(t, 20, w[0].native("write"))
		assert.EqualValues(t, 30, w[0].errors["openat ENOENT"])
		assert.Greater(t, w[0].native("openat"), int64(30))
		assert.Positive(t, w[0].native("execve"))
	})
}
