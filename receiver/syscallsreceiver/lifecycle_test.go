//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seed22255693/syscallsreceiver/internal/collectortest"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/internal/workload"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(entries)
}

// TestStartShutdown200Times: loading and unloading 200 times in one process
// leaves no file descriptor, goroutine or kernel program behind.
func TestStartShutdown200Times(t *testing.T) {
	kerneltest.Require(t)
	cycle := func() []uint32 {
		s := newSyscallsScraper(testConfig(), receivertest.NewNopSettings(metadata.Type))
		require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
		_, err := s.scrape(context.Background())
		require.NoError(t, err)
		progs, _ := loadedObjects(t, s)
		require.NoError(t, s.shutdown(context.Background()))
		return progs
	}
	heapInUse := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	cycle() // warm up lazily created state (feature probes, caches)
	fds, goroutines, heap := openFDs(t), runtime.NumGoroutine(), heapInUse()
	var progs []uint32
	for range 200 {
		progs = append(progs, cycle()...)
	}
	heapAfter := heapInUse()
	assert.Equal(t, fds, openFDs(t), "open file descriptors")
	assert.LessOrEqual(t, runtime.NumGoroutine(), goroutines, "goroutines")
	// A leak of even one snapshot per cycle would add tens of MiB.
	assert.Less(t, mib(heapAfter), mib(heap)+4, "heap in use grew over 200 cycles")
	// Programs are freed asynchronously after their last reference goes.
	require.Eventually(t, func() bool {
		for _, id := range progs {
			if p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id)); err == nil {
				_ = p.Close()
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "programs stayed loaded")
	t.Logf("200 start/shutdown cycles: %d programs loaded and unloaded, %d fds, %d goroutines, heap in use %.1f → %.1f MiB",
		len(progs), fds, goroutines, mib(heap), mib(heapAfter))
}

// flakyConsumer fails every other export, as a backend that is down half
// the time would.
type flakyConsumer struct {
	calls atomic.Int64
	sink  consumertest.MetricsSink
}

func (f *flakyConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (f *flakyConsumer) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	if f.calls.Add(1)%2 == 1 {
		return errors.New("backend unavailable")
	}
	return f.sink.ConsumeMetrics(ctx, md)
}

// TestFailingConsumerLosesNothing: counters are cumulative, so exports lost
// to a failing consumer lose nothing: the next one that gets through has
// the exact totals.
func TestFailingConsumerLosesNothing(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	next := &flakyConsumer{}
	cfg := testConfig()
	cfg.GroupBy = []string{}
	cfg.Filter.Syscalls = []string{"getppid"}
	cfg.Filter.Comms = []string{workload.Comm} // only what the test makes
	rcv, _, err := newMetricsReceiver(cfg, receivertest.NewNopSettings(metadata.Type), next)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })

	total := 0
	for i := range 10 {
		spec := workload.Spec{Getppid: 1000 + i}
		_, err := workload.Run(bin, spec)
		require.NoError(t, err)
		total += spec.Getppid
		time.Sleep(scrapeEvery / 2)
	}
	calls := func(md pmetric.Metrics) int64 {
		for _, rm := range md.ResourceMetrics().All() {
			for _, m := range rm.ScopeMetrics().At(0).Metrics().All() {
				if m.Name() == "syscall.calls" {
					return m.Sum().DataPoints().At(0).IntValue()
				}
			}
		}
		return 0
	}
	require.Eventually(t, func() bool {
		all := next.sink.AllMetrics()
		return len(all) > 0 && calls(all[len(all)-1]) >= int64(total)
	}, 10*time.Second, 20*time.Millisecond)
	all := next.sink.AllMetrics()
	assert.EqualValues(t, total, calls(all[len(all)-1]), "getppid calls of the host (only the workloads make them)")
	t.Logf("%d exports attempted, %d failed, last delivered total %d getppid calls", next.calls.Load(), next.calls.Load()-int64(len(all)), total)
}

// TestTwoReceiversAreIndependent: two syscalls receivers in one collector
// each load their own programs and maps (nothing is shared), so they count
// independently with their own configs, and shutting one down leaves the
// other counting.
func TestTwoReceiversAreIndependent(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	start := func(cfg *Config) (*consumertest.MetricsSink, *syscallsScraper, func() error) {
		sink := new(consumertest.MetricsSink)
		rcv, s, err := newMetricsReceiver(cfg, receivertest.NewNopSettings(metadata.Type), sink)
		require.NoError(t, err)
		require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
		stopped := false
		stop := func() error {
			if stopped {
				return nil
			}
			stopped = true
			return rcv.Shutdown(context.Background())
		}
		t.Cleanup(func() { require.NoError(t, stop()) })
		return sink, s, stop
	}
	perProcess := testConfig()
	perProcess.Filter.Comms = []string{workload.Comm}
	systemWide := testConfig()
	systemWide.GroupBy = []string{}
	systemWide.Filter.Comms = []string{workload.Comm}
	systemWide.Filter.Syscalls = []string{"getppid"}
	procSink, procScraper, stopProc := start(perProcess)
	hostSink, hostScraper, _ := start(systemWide)

	hostGetppid := func() int64 {
		all := hostSink.AllMetrics()
		if len(all) == 0 {
			return 0
		}
		var n int64
		for _, rm := range all[len(all)-1].ResourceMetrics().All() {
			for _, m := range rm.ScopeMetrics().At(0).Metrics().All() {
				if m.Name() == "syscall.calls" {
					n += m.Sum().DataPoints().At(0).IntValue()
				}
			}
		}
		return n
	}
	pid, err := workload.Run(bin, workload.Spec{Getppid: 777})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		for _, md := range procSink.AllMetrics() {
			if collectortest.Values(md, pid)["syscall.calls/getppid"] == 777 {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "the per-process receiver never exported pid %d's 777 getppid calls", pid)
	require.Eventually(t, func() bool { return hostGetppid() == 777 }, 10*time.Second, 20*time.Millisecond)

	procProgs, _ := loadedObjects(t, procScraper)
	hostProgs, _ := loadedObjects(t, hostScraper)
	assert.NotEmpty(t, procProgs)
	for _, id := range procProgs {
		assert.NotContains(t, hostProgs, id, "the receivers share a program")
	}

	require.NoError(t, stopProc())
	_, err = workload.Run(bin, workload.Spec{Getppid: 333})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return hostGetppid() == 777+333 }, 10*time.Second, 20*time.Millisecond,
		"the system-wide receiver stopped counting when the other one shut down (last: %d)", hostGetppid())
}

// TestRestartLeavesNothingLoaded starts, stops and starts the receiver again
// and checks with bpftool that nothing of the first run stays in the kernel.
func TestRestartLeavesNothingLoaded(t *testing.T) {
	kerneltest.Require(t)
	if _, err := exec.LookPath("bpftool"); err != nil {
		t.Fatal("bpftool is needed (apt-get install bpftool; .ci/run installs it)")
	}
	for round := range 2 {
		sink := new(consumertest.MetricsSink)
		rcv, s, err := newMetricsReceiver(testConfig(), receivertest.NewNopSettings(metadata.Type), sink)
		require.NoError(t, err)
		require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
		require.Eventually(t, func() bool { return len(sink.AllMetrics()) > 0 }, 10*time.Second, 10*time.Millisecond)

		progs, maps := loadedObjects(t, s)
		require.Len(t, progs, 3, "round %d", round)
		for _, id := range progs {
			require.Contains(t, bpftoolJSON(t, "prog", "show", "id", fmt.Sprint(id)), `"name"`)
		}

		require.NoError(t, rcv.Shutdown(context.Background()))
		require.NoError(t, s.shutdown(context.Background()), "a second shutdown of the scraper must be harmless")
		// Maps are freed asynchronously after their last reference goes.
		require.Eventually(t, func() bool {
			for _, id := range progs {
				if bpftoolShows(t, "prog", id) {
					return false
				}
			}
			for _, id := range maps {
				if bpftoolShows(t, "map", id) {
					return false
				}
			}
			return true
		}, 10*time.Second, 50*time.Millisecond, "programs or maps stayed loaded after Shutdown")
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	rcv, err := NewFactory().CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type), testConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, rcv.Shutdown(context.Background()))
}

// TestNamesMatchTheKernel cross-checks the generated name table with the
// running kernel's syscall tracepoints (mounting tracefs where needed):
// nearly every syscall the kernel has must have a name in our table.
func TestNamesMatchTheKernel(t *testing.T) {
	events := "/sys/kernel/tracing/events/syscalls"
	if _, err := os.Stat(events); err != nil {
		_ = exec.Command("mount", "-t", "tracefs", "tracefs", "/sys/kernel/tracing").Run()
	}
	entries, err := os.ReadDir(events)
	if err != nil {
		t.Skipf("this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS): %v", err)
	}
	table := sysnames.Native()
	var found, missing []string
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), "sys_enter_")
		if !ok {
			continue
		}
		if nr, ok := table.Number(name); ok && table.Name(nr) == name {
			found = append(found, name)
		} else {
			missing = append(missing, name)
		}
	}
	t.Logf("%s: %d kernel syscalls named by our table; not in it: %v", runtime.GOARCH, len(found), missing)
	assert.Greater(t, len(found), 250)
	assert.Less(t, len(missing)*20, len(found), "more than 5%% of the kernel's syscalls have no name")
}

func firstDataPoint(md pmetric.Metrics) pmetric.NumberDataPoint {
	return md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0)
}

// loadedObjects reaches into the running receiver for the kernel ids of its
// programs and maps.
func loadedObjects(t *testing.T, s *syscallsScraper) ([]uint32, []uint32) {
	t.Helper()
	require.NotNil(t, s.engine.Counters())
	progIDs, mapIDs := s.engine.Counters().ObjectIDs()
	var progs, maps []uint32
	for _, id := range progIDs {
		progs = append(progs, uint32(id))
	}
	for _, id := range mapIDs {
		maps = append(maps, uint32(id))
	}
	return progs, maps
}

func bpftoolJSON(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("bpftool", append([]string{"-j"}, args...)...).CombinedOutput()
	require.NoError(t, err, "bpftool %v: %s", args, out)
	var v any
	require.NoError(t, json.Unmarshal(out, &v), "bpftool printed no JSON: %s", out)
	return string(out)
}

// bpftoolShows tells whether a program or map id is still in the kernel.
func bpftoolShows(t *testing.T, kind string, id uint32) bool {
	t.Helper()
	return exec.Command("bpftool", kind, "show", "id", fmt.Sprint(id)).Run() == nil
}

// TestThousandsOfProcessesComeAndGo: 3000 short-lived processes are all
// exported by the next scrape after they exit, named, and then nothing of
// them stays in the kernel maps or in the receiver, so memory is bounded by
// the live processes. The scraper is driven by hand to make this exact.
func TestThousandsOfProcessesComeAndGo(t *testing.T) {
	kerneltest.Require(t)
	cfg := testConfig()
	cfg.Filter.Comms = []string{"true"} // the test's processes, not the host's
	s := newSyscallsScraper(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })

	const n = 3000
	pids := map[int64]bool{}
	for range n {
		cmd := exec.Command("/bin/true")
		require.NoError(t, cmd.Run())
		pids[int64(cmd.ProcessState.Pid())] = true
	}

	md, err := s.scrape(context.Background())
	require.NoError(t, err)
	exported := 0
	for _, rm := range md.ResourceMetrics().All() {
		attrs := rm.Resource().Attributes()
		if v, _ := attrs.Get("process.pid"); pids[v.Int()] {
			exported++
			name, _ := attrs.Get("process.executable.name")
			require.Equal(t, "true", name.Str(), "pid %d", v.Int())
			_, hasPath := attrs.Get("process.executable.path")
			require.False(t, hasPath, "an exited process has no path")
		}
	}
	assert.Equal(t, n, exported, "every short-lived process is exported after it exits")

	counts, err := s.engine.Counters().ReadCounts()
	require.NoError(t, err)
	for k := range counts.Syscalls {
		require.False(t, pids[int64(k.Group.TGID)], "pid %d still has counters in the kernel", k.Group.TGID)
	}
	for _, g := range counts.Groups {
		require.False(t, pids[int64(g.TGID)], "pid %d still in the group map", g.TGID)
	}
	exited, err := s.engine.Counters().ExitedTasks()
	require.NoError(t, err)
	for tgid := range exited {
		require.False(t, pids[int64(tgid)], "pid %d still in exited_processes", tgid)
	}
	for _, g := range s.engine.Tracked() {
		require.False(t, pids[int64(g.TGID)], "pid %d still remembered", g.TGID)
	}
	t.Logf("after %d processes: %d kernel counters, %d remembered processes, %d exit records",
		n, len(counts.Syscalls), len(s.engine.Tracked()), len(exited))

	md, err = s.scrape(context.Background())
	require.NoError(t, err)
	for _, rm := range md.ResourceMetrics().All() {
		v, _ := rm.Resource().Attributes().Get("process.pid")
		require.False(t, pids[v.Int()], "pid %d exported again", v.Int())
	}
}
