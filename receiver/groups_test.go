//go:build linux && (amd64 || arm64)

package receiver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/internal/cgroupv2"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/internal/workload"
	"github.com/seed22255693/syscallsreceiver/receiver/internal/metadata"
)

// Kernel integration tests of group_by, filters, max_groups, churn, the
// i386 ABI and pid reuse. Each drives the scraper by hand (start, then
// scrape when the test's workloads have exited) so that every count is
// exact: the workloads make known numbers of getppid, write and failing
// openat calls (the Go runtime makes none of those on its own). Other
// processes on the host are told apart by pid, comm or cgroup.

// liveScraper starts a scraper on the real kernel; the test scrapes by hand.
func liveScraper(t *testing.T, cfg *Config) *syscallsScraper {
	t.Helper()
	require.NoError(t, cfg.Validate())
	s := newSyscallsScraper(cfg, receivertest.NewNopSettings(metadata.Type))
	err := s.start(context.Background(), componenttest.NewNopHost())
	skipIfKernelLacks(t, cfg, err)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })
	return s
}

func liveScrape(t *testing.T, s *syscallsScraper) []liveResource {
	t.Helper()
	md, err := s.scrape(context.Background())
	require.NoError(t, err)
	return liveResources(md)
}

// sysKey is a syscall of one ABI.
type sysKey struct{ name, abi string }

// liveResource is one exported resource, flattened for assertions.
type liveResource struct {
	attrs  map[string]any
	calls  map[sysKey]int64
	errors map[string]int64 // "name errno" (any ABI)
}

func liveResources(md pmetric.Metrics) []liveResource {
	var out []liveResource
	for _, rm := range md.ResourceMetrics().All() {
		r := liveResource{attrs: rm.Resource().Attributes().AsRaw(), calls: map[sysKey]int64{}, errors: map[string]int64{}}
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				if m.Type() != pmetric.MetricTypeSum { // the duration histogram
					continue
				}
				for _, dp := range m.Sum().DataPoints().All() {
					name, _ := dp.Attributes().Get("syscall.name")
					abi, _ := dp.Attributes().Get("syscall.abi")
					switch m.Name() {
					case "syscall.calls":
						r.calls[sysKey{name.Str(), abi.Str()}] += dp.IntValue()
					case "syscall.errors":
						errType, _ := dp.Attributes().Get("error.type")
						r.errors[name.Str()+" "+errType.Str()] += dp.IntValue()
					}
				}
			}
		}
		out = append(out, r)
	}
	return out
}

var nativeABI = sysnames.Native().ABI()

// native is the count of a syscall of the running architecture's own ABI.
func (r liveResource) native(name string) int64 { return r.calls[sysKey{name, nativeABI}] }

func (r liveResource) int(attr string) int64 {
	v, _ := r.attrs[attr].(int64)
	return v
}

func (r liveResource) str(attr string) string {
	v, _ := r.attrs[attr].(string)
	return v
}

func (r liveResource) overflow() bool {
	v, _ := r.attrs["otel.metric.overflow"].(bool)
	return v
}

// withAttr returns the resources whose attribute attr equals value.
func withAttr(rs []liveResource, attr string, value any) []liveResource {
	var out []liveResource
	for _, r := range rs {
		if r.attrs[attr] == value {
			out = append(out, r)
		}
	}
	return out
}

func workloadBin(t *testing.T) string {
	t.Helper()
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	return bin
}

func runWorkload(t *testing.T, cmd *exec.Cmd) workload.Result {
	t.Helper()
	r, err := workload.RunCommand(cmd)
	require.NoError(t, err)
	return r
}

// uniqueComm is a comm no other process on the host has.
func uniqueComm(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, os.Getpid()%100000)
}

// liveCgroups creates cgroup v2 directories for one test, under a parent of
// its own, and removes them (deepest first) when the test ends, once the
// processes in them have exited.
type liveCgroups struct {
	t    *testing.T
	root string // the v2 mount point
	base string // this test's parent, relative to root ("/...")
	dirs []string
}

var cgroupSeq atomic.Int32

func newLiveCgroups(t *testing.T) *liveCgroups {
	t.Helper()
	root, err := cgroupv2.Root()
	require.NoError(t, err, "these tests need cgroup v2")
	c := &liveCgroups{t: t, root: root, base: fmt.Sprintf("/syscallsreceiver-test-%d-%d", os.Getpid(), cgroupSeq.Add(1))}
	t.Cleanup(c.remove)
	c.make("")
	return c
}

// make creates base+rel (and its missing parents) and returns its path
// relative to the v2 root, as process.linux.cgroup spells it.
func (c *liveCgroups) make(rel string) string {
	path := c.base + rel
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i := range parts {
		dir := filepath.Join(c.root, filepath.Join(parts[:i+1]...))
		if slices.Contains(c.dirs, dir) {
			continue
		}
		err := os.Mkdir(dir, 0o755)
		require.NoError(c.t, err)
		c.dirs = append(c.dirs, dir)
		if i > 0 {
			// As container runtimes do, the cpu controller is enabled down
			// to the container: a Go program (the workload) opens its
			// cgroup's cpu.max at start, and where there is none that
			// openat fails (ENOENT) among the errors the tests count.
			// Best effort: a hybrid host keeps cpu in v1, which Go reads.
			_ = os.WriteFile(filepath.Join(filepath.Dir(dir), "cgroup.subtree_control"), []byte("+cpu"), 0)
		}
	}
	return path
}

func (c *liveCgroups) dir(path string) string { return filepath.Join(c.root, path) }

func (c *liveCgroups) remove() {
	// A process that was just reaped may keep its cgroup busy briefly.
	slices.SortFunc(c.dirs, func(a, b string) int { return len(b) - len(a) })
	for _, dir := range c.dirs {
		deadline := time.Now().Add(5 * time.Second)
		for {
			err := os.Remove(dir)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				c.t.Errorf("removing cgroup %s: %v", dir, err)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// in makes cmd start inside the cgroup (clone3 CLONE_INTO_CGROUP), so that
// every syscall of the process, from its first, is made there.
func (c *liveCgroups) in(cmd *exec.Cmd, path string) *exec.Cmd {
	f, err := os.Open(c.dir(path))
	require.NoError(c.t, err)
	c.t.Cleanup(func() { f.Close() })
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(f.Fd())}
	return cmd
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, (n+1)/2)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)[:n]
}

// TestGroupByThread: one resource per thread, with thread.id and
// thread.name, each with exactly its thread's calls; together they make
// the process's.
func TestGroupByThread(t *testing.T) {
	bin := workloadBin(t)
	cfg := testConfig()
	cfg.GroupBy = []string{GroupByThread}
	s := liveScraper(t, cfg)

	spec := workload.Spec{Getppid: 100, WriteDevNull: 7, Threads: []int{11, 222, 3333, 4}}
	r := runWorkload(t, workload.Command(bin, spec))
	require.Len(t, r.TIDs, len(spec.Threads))

	rs := withAttr(liveScrape(t, s), "process.pid", int64(r.Pid))
	byTID := map[int64]liveResource{}
	var sum int64
	for _, res := range rs {
		tid := res.int("thread.id")
		require.NotZero(t, tid, "a resource without thread.id: %v", res.attrs)
		require.NotContains(t, byTID, tid, "thread %d exported twice", tid)
		byTID[tid] = res
		sum += res.native("getppid")
		assert.Equal(t, workload.Comm, res.str("process.executable.name"), "thread %d", tid)
	}
	t.Logf("pid %d: %d thread resources (the extra threads and the Go runtime's)", r.Pid, len(rs))

	main := byTID[int64(r.Pid)]
	require.NotNil(t, main.attrs, "the main thread (tid = pid) was not exported")
	assert.EqualValues(t, spec.Getppid, main.native("getppid"))
	assert.EqualValues(t, spec.WriteDevNull+1, main.native("write"), "and one write of the tid report to stdout")
	assert.Equal(t, workload.Comm, main.str("thread.name"))
	for i, tid := range r.TIDs {
		res, ok := byTID[int64(tid)]
		require.True(t, ok, "thread %d (tid %d) was not exported", i, tid)
		assert.Equal(t, workload.ThreadName(i), res.str("thread.name"))
		assert.EqualValues(t, spec.Threads[i], res.native("getppid"), "thread %d (tid %d)", i, tid)
		assert.Zero(t, res.native("write"), "thread %d", i)
		t.Logf("  tid %d %s: getppid %d", tid, res.str("thread.name"), res.native("getppid"))
	}
	assert.EqualValues(t, spec.TotalGetppid(), sum, "the threads' calls add up to the process's")
}

// TestGroupByContainer: one resource per cgroup, with its path and the
// container id and pod uid the path encodes; [container, process] gives
// one resource per process with its container fields.
func TestGroupByContainer(t *testing.T) {
	bin := workloadBin(t)
	cg := newLiveCgroups(t)
	dockerID, criID := randomHex(t, 64), randomHex(t, 64)
	podUID := strings.Join([]string{randomHex(t, 8), randomHex(t, 4), randomHex(t, 4), randomHex(t, 4), randomHex(t, 12)}, "-")
	docker := cg.make("/docker-" + dockerID + ".scope")
	pod := cg.make("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
		strings.ReplaceAll(podUID, "-", "_") + ".slice/cri-containerd-" + criID + ".scope")

	t.Run("container", func(t *testing.T) {
		cfg := testConfig()
		cfg.GroupBy = []string{GroupByContainer}
		s := liveScraper(t, cfg)
		runWorkload(t, cg.in(workload.Command(bin, workload.Spec{Getppid: 1111, WriteDevNull: 11}), docker))
		runWorkload(t, cg.in(workload.Command(bin, workload.Spec{Getppid: 2222, OpenMissing: 22}), pod))
		runWorkload(t, cg.in(workload.Command(bin, workload.Spec{Getppid: 3}), pod))

		for scrape := range 2 { // the cgroups live on: exported again, same totals
			rs := liveScrape(t, s)
			d := withAttr(rs, "process.linux.cgroup", docker)
			require.Len(t, d, 1, "scrape %d: one resource for the docker cgroup", scrape)
			assert.Equal(t, map[string]any{"process.linux.cgroup": docker, "container.id": dockerID}, d[0].attrs)
			assert.EqualValues(t, 1111, d[0].native("getppid"))
			assert.EqualValues(t, 11, d[0].native("write"))

			p := withAttr(rs, "process.linux.cgroup", pod)
			require.Len(t, p, 1, "scrape %d: one resource for the pod's container cgroup", scrape)
			assert.Equal(t, map[string]any{"process.linux.cgroup": pod, "container.id": criID, "k8s.pod.uid": podUID}, p[0].attrs)
			assert.EqualValues(t, 2222+3, p[0].native("getppid"))
			assert.EqualValues(t, 22, p[0].errors["openat ENOENT"])
			for _, r := range rs {
				assert.NotContains(t, r.attrs, "process.pid")
			}
			t.Logf("scrape %d: %d resources; %s getppid=%d; %s getppid=%d", scrape, len(rs),
				docker, d[0].native("getppid"), pod, p[0].native("getppid"))
		}
	})

	t.Run("container,process", func(t *testing.T) {
		cfg := testConfig()
		cfg.GroupBy = []string{GroupByContainer, GroupByProcess}
		s := liveScraper(t, cfg)
		type run struct {
			cgroup, containerID, podUID string
			getppid                     int
		}
		runs := []run{{docker, dockerID, "", 501}, {docker, dockerID, "", 502}, {pod, criID, podUID, 503}}
		pids := map[int]run{}
		for _, r := range runs {
			res := runWorkload(t, cg.in(workload.Command(bin, workload.Spec{Getppid: r.getppid}), r.cgroup))
			pids[res.Pid] = r
		}
		rs := liveScrape(t, s)
		for pid, r := range pids {
			got := withAttr(rs, "process.pid", int64(pid))
			require.Len(t, got, 1, "pid %d: one resource per process", pid)
			want := map[string]any{"process.pid": int64(pid), "process.executable.name": workload.Comm,
				"process.linux.cgroup": r.cgroup, "container.id": r.containerID}
			if r.podUID != "" {
				want["k8s.pod.uid"] = r.podUID
			}
			assert.Equal(t, want, got[0].attrs)
			assert.EqualValues(t, r.getppid, got[0].native("getppid"), "pid %d", pid)
		}
	})
}

// TestFilterCgroups: only processes inside the listed cgroup or its
// descendants are counted.
func TestFilterCgroups(t *testing.T) {
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

// TestMaxGroupsOverflow: with max_groups 5, no export has more than 5
// groups plus the overflow resource, and the sum of getppid calls over all
// resources is exactly what the workloads made.
func TestMaxGroupsOverflow(t *testing.T) {
	bin := workloadBin(t)
	comm := uniqueComm("ovf")
	cfg := testConfig()
	cfg.MaxGroups = 5
	cfg.Filter.Comms = []string{comm} // the workloads only
	s := liveScraper(t, cfg)

	const n = 50
	want := map[int64]int64{} // pid → its getppid calls
	var total, exported, overflow int64
	var exports, overflowed, maxResources int
	seen := map[int64]bool{}
	check := func() {
		rs := liveScrape(t, s)
		exports++
		maxResources = max(maxResources, len(rs))
		require.LessOrEqual(t, len(rs), cfg.MaxGroups+1, "more than max_groups groups plus the overflow resource")
		overflows := 0
		for _, r := range rs {
			if r.overflow() {
				overflows++
				assert.Equal(t, map[string]any{"otel.metric.overflow": true}, r.attrs)
				overflow = r.native("getppid") // cumulative since start
				continue
			}
			pid := r.int("process.pid")
			require.Contains(t, want, pid, "a process that is not a workload: %v", r.attrs)
			require.False(t, seen[pid], "pid %d exported twice: its exit was seen, so it is final once exported", pid)
			seen[pid] = true
			assert.Equal(t, want[pid], r.native("getppid"), "pid %d: a group admitted to the maps has all its calls", pid)
			exported += r.native("getppid")
		}
		require.LessOrEqual(t, overflows, 1)
	}
	for i := range n {
		spec := workload.Spec{Getppid: 1000 + i, Comm: comm}
		pid, err := workload.Run(bin, spec)
		require.NoError(t, err)
		want[int64(pid)] = int64(spec.Getppid)
		total += int64(spec.Getppid)
		if i%10 == 9 {
			check()
		}
	}
	check()
	for pid := range want {
		if !seen[pid] {
			overflowed++
		}
	}
	t.Logf("%d workloads, %d exports (at most %d resources each): %d processes with their own resource, %d in overflow; "+
		"getppid %d in own resources + %d in overflow = %d", n, exports, maxResources, len(seen), overflowed, exported, overflow, exported+overflow)
	assert.Equal(t, total, exported+overflow, "the sum over all resources is exact")
	assert.Positive(t, overflow, "max_groups 5 must have overflowed")
}

// TestChurn: 20,000 short-lived processes with distinct names, scraped every
// 100 ms while they come and go: no export holds more than max_groups+1
// resources, every count is exported and exact in total, and nothing of
// them stays in the kernel maps or in the receiver.
func TestChurn(t *testing.T) {
	bin := workloadBin(t)
	cg := newLiveCgroups(t)
	box := cg.make("/churn")
	cfg := testConfig()
	cfg.MaxGroups = 500
	cfg.Filter.Cgroups = []string{box} // the spawner and its children only
	s := liveScraper(t, cfg)

	spec := workload.Spec{Fork: 20000, ForkMod: 7, ForkPrefix: "c"}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)

	type key struct {
		pid  int64
		comm string
	}
	type seen struct {
		getppid, exitGroup int64
		exports            int
		lastExport         int
	}
	// A process is known by pid and name; its name may be missing from an
	// export made while it was exiting, and appear in the next one. Pids
	// wrap around (pid_max) during the run: a nameless export is the same
	// process only if it is adjacent to the named one.
	last := map[key]*seen{}
	byPid := map[int64]key{} // the latest process seen with each pid
	var exports int
	find := func(pid int64, comm string) *seen {
		prev, ok := byPid[pid]
		if ok && (prev.comm == comm || ((prev.comm == "" || comm == "") && last[prev].lastExport >= exports-1)) {
			v := last[prev]
			if prev.comm == "" && comm != "" { // the name arrived
				delete(last, prev)
				prev.comm = comm
				last[prev] = v
				byPid[pid] = prev
			}
			return v
		}
		k := key{pid, comm}
		last[k], byPid[pid] = &seen{}, k
		return last[k]
	}
	var overflowGetppid, overflowExit int64
	var maxResources, overflowExports int
	var peakHeap uint64
	var scrapeTime time.Duration
	scrape := func() {
		began := time.Now()
		rs := liveScrape(t, s)
		scrapeTime += time.Since(began)
		exports++
		maxResources = max(maxResources, len(rs))
		require.LessOrEqual(t, len(rs), cfg.MaxGroups+1, "export %d", exports)
		for _, r := range rs {
			if r.overflow() {
				overflowExports++
				overflowGetppid, overflowExit = r.native("getppid"), r.native("exit_group")
				continue
			}
			k := key{r.int("process.pid"), r.str("process.executable.name")}
			v := find(k.pid, k.comm)
			// Cumulative: a later export of the same process never has less.
			require.GreaterOrEqual(t, r.native("getppid"), v.getppid, "%v", k)
			v.getppid, v.exitGroup = r.native("getppid"), r.native("exit_group")
			v.exports++
			v.lastExport = exports
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, ms.HeapInuse)
	}

	p, err := workload.Start(cg.in(workload.Command(bin, spec), box))
	require.NoError(t, err)
	started := time.Now()
	done := make(chan error, 1)
	go func() { done <- p.Finish() }()
	tick := time.NewTicker(scrapeEvery)
	defer tick.Stop()
	for running := true; running; {
		select {
		case err := <-done:
			require.NoError(t, err)
			running = false
		case <-tick.C:
			scrape()
		}
	}
	ran := time.Since(started)
	scrape() // the last children and the spawner, dead
	scrape() // nothing of them any more
	runtime.GC()
	runtime.ReadMemStats(&after)

	var getppid, exitGroup int64
	var named, exact, nameless, maxExports int
	for k, v := range last {
		getppid += v.getppid
		exitGroup += v.exitGroup
		if k.pid == int64(p.Pid()) {
			continue // the spawner, alive through every scrape
		}
		maxExports = max(maxExports, v.exports)
		require.LessOrEqual(t, v.exports, 2, "%v: exported at most while alive and once after its exit", k)
		if i, ok := childIndex(k.comm); ok {
			named++
			// A child that started past max_groups counts in the
			// overflow group until a scrape frees room: its calls may be
			// split between the two, never more than it made.
			require.LessOrEqual(t, v.getppid, int64(spec.ForkGetppid(i)), "%v", k)
			if v.getppid == int64(spec.ForkGetppid(i)) {
				exact++
			}
		} else if k.comm == "" {
			nameless++
		}
	}
	t.Logf("%d processes in %v (%.0f/s); %d exports (%v scraping in all), at most %d resources in one, %d with an overflow resource",
		spec.Fork, ran.Round(time.Millisecond), float64(spec.Fork)/ran.Seconds(), exports, scrapeTime.Round(time.Millisecond),
		maxResources, overflowExports)
	t.Logf("children with their own resource: %d named c<i> (%d of them with all their calls), %d without a name; "+
		"at most %d exports of one child", named, exact, nameless, maxExports)
	t.Logf("getppid: %d in own resources + %d in overflow (want %d); exit_group: %d + %d (want %d)",
		getppid, overflowGetppid, spec.TotalGetppid(), exitGroup, overflowExit, spec.Fork+1)
	t.Logf("collector heap in use: %.1f MiB before, %.1f MiB peak after a scrape, %.1f MiB after (GC'd)",
		mib(before.HeapInuse), mib(peakHeap), mib(after.HeapInuse))
	assert.EqualValues(t, spec.TotalGetppid(), getppid+overflowGetppid, "every getppid call is exported")
	assert.EqualValues(t, spec.Fork+1, exitGroup+overflowExit, "every process's exit_group is exported")

	// Nothing of them stays: the filter counts nobody else.
	assert.Empty(t, s.known, "the receiver still remembers groups")
	counts, err := s.counters.ReadCounts()
	require.NoError(t, err)
	assert.Empty(t, counts.Groups, "groups still in the kernel map")
	for k := range counts.Syscalls {
		require.Equal(t, bpf.OverflowGroup, k.Group, "counters still in the kernel")
	}
	exited, err := s.counters.ExitedTasks()
	require.NoError(t, err)
	for tid, task := range exited {
		_, child := childIndex(task.Comm)
		require.False(t, child, "exit record of %d (%s) not forgotten", tid, task.Comm)
	}
	assert.Zero(t, counts.Dropped)
}

// childIndex parses the comm TestChurn's children have: c<i>.
func childIndex(comm string) (int, bool) {
	digits, ok := strings.CutPrefix(comm, "c")
	i, err := strconv.Atoi(digits)
	return i, ok && err == nil
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// TestI386SyscallNames runs a real static 32-bit binary: its getppid calls
// (number 64 in the i386 table; 64 is semop on x86_64) are reported as
// getppid with syscall.abi i386.
func TestI386SyscallNames(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("the i386 ABI exists on amd64 only, not %s", runtime.GOARCH)
	}
	bin, err := workload.Prebuilt("getppid32") // where no gcc runs (test/kernels)
	require.NoError(t, err)
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "getppid32")
		out, err := exec.Command("gcc", "-m32", "-static", "-O2", "-o", bin, "testdata/i386/getppid32.c").CombinedOutput()
		if err != nil {
			t.Fatalf("building a static i386 binary failed (install Debian's gcc-multilib: apt-get install -y gcc-multilib): %v\n%s", err, out)
		}
	}
	cfg := testConfig()
	s := liveScraper(t, cfg)

	const n = 4321
	cmd := exec.Command(bin, strconv.Itoa(n))
	if out, err := cmd.CombinedOutput(); err != nil {
		if errors.Is(err, syscall.ENOEXEC) {
			t.Skipf("this kernel does not run 32-bit programs (IA-32 emulation is off: see dmesg; ia32_emulation=): %v", err)
		}
		t.Fatalf("%s: %v\n%s", bin, err, out)
	}
	pid := cmd.ProcessState.Pid()

	rs := withAttr(liveScrape(t, s), "process.pid", int64(pid))
	require.Len(t, rs, 1)
	t.Logf("pid %d: %v", pid, rs[0].calls)
	assert.EqualValues(t, n, rs[0].calls[sysKey{"getppid", "i386"}])
	assert.Zero(t, rs[0].native("semop"), "the i386 number read in the x86_64 table")
	assert.Zero(t, rs[0].native("getppid"))
	assert.Positive(t, rs[0].native("execve"), "execve was entered as a 64-bit call")
}

// TestReusedPidIsANewProcess forces the kernel to give a second process the
// pid of the first (ns_last_pid) between two scrapes: they are two
// resources with their own counts, never one with the sum.
func TestReusedPidIsANewProcess(t *testing.T) {
	bin := workloadBin(t)
	comm := uniqueComm("reuse")
	cfg := testConfig()
	cfg.Filter.Comms = []string{comm}
	s := liveScraper(t, cfg)

	first, second := workload.Spec{Getppid: 111, Comm: comm}, workload.Spec{Getppid: 222, Comm: comm}
	pid := runWithPid(t, bin, first, second)

	rs := withAttr(liveScrape(t, s), "process.pid", int64(pid))
	require.Len(t, rs, 2, "two processes had pid %d", pid)
	got := []int64{rs[0].native("getppid"), rs[1].native("getppid")}
	assert.ElementsMatch(t, []int64{111, 222}, got)
	for _, r := range rs {
		if r.str("process.executable.name") == comm { // the exit record names the second
			assert.EqualValues(t, 222, r.native("getppid"))
		}
	}
	// The first one's exit record was overwritten by the second's: it is
	// found dead on the next scrape, exported once more, then dropped.
	rs = withAttr(liveScrape(t, s), "process.pid", int64(pid))
	require.Len(t, rs, 1)
	assert.EqualValues(t, 111, rs[0].native("getppid"))
	assert.Empty(t, withAttr(liveScrape(t, s), "process.pid", int64(pid)))
}

// runWithPid runs first, then makes the kernel hand the same pid to second
// (by setting ns_last_pid to the pid before it), retrying when another
// process took the pid meanwhile. It returns the shared pid.
func runWithPid(t *testing.T, bin string, first, second workload.Spec) int {
	t.Helper()
	for range 20 {
		pid, err := workload.Run(bin, first)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0))
		again, err := workload.Run(bin, second)
		require.NoError(t, err)
		if again == pid {
			return pid
		}
	}
	t.Fatal("could not get the kernel to reuse a pid in 20 tries")
	return 0
}

// TestHostileComm: a process that renames itself (prctl PR_SET_NAME) with
// control characters, invalid UTF-8 and format verbs is exported with the
// documented safe rendering, as valid UTF-8, and counted exactly.
func TestHostileComm(t *testing.T) {
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	const raw = "\x1b[2J\xff%s%s%s\n%n!" // 15 bytes: escape, invalid byte, verbs, newline
	require.Len(t, raw, 15)
	cfg := testConfig()
	cfg.Filter.Comms = []string{raw}
	s := newSyscallsScraper(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })

	pid, err := workload.Run(bin, workload.Spec{Getppid: 321, Comm: raw})
	require.NoError(t, err)
	md, err := s.scrape(context.Background())
	require.NoError(t, err)
	var found bool
	for _, r := range liveResources(md) {
		if r.int("process.pid") != int64(pid) {
			continue
		}
		found = true
		name := r.str("process.executable.name")
		assert.Equal(t, `\x1b[2J`+"\uFFFD"+`%s%s%s\x0a%n!`, name)
		assert.True(t, utf8.ValidString(name))
		assert.EqualValues(t, 321, r.native("getppid"))
	}
	require.True(t, found, "the renamed process was not exported")
}
