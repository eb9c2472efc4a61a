//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/internal/workload"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// These tests load the real programs into the running kernel: they need
// root (or CAP_BPF + CAP_PERFMON), as CI has.

const scrapeEvery = 100 * time.Millisecond

func testConfig() *Config {
	cfg := createDefaultConfig()
	cfg.CollectionInterval = scrapeEvery
	cfg.InitialDelay = 0
	return cfg
}

// skipIfKernelLacks skips a test whose config forces a hook this kernel
// cannot give, with the kernel's reason (as on the older kernels of
// make test-kernels); any other error is left to the caller.
func skipIfKernelLacks(t *testing.T, cfg *Config, err error) {
	t.Helper()
	var lacks *bpf.LacksError
	if cfg.Hook != hookAuto && errors.As(err, &lacks) {
		t.Skipf("%s: %v", cfg.Hook, lacks)
	}
}

// startReceiver starts the receiver through its factory, as a collector
// would, with a sink that keeps every export.
func startReceiver(t *testing.T, cfg *Config) (*consumertest.MetricsSink, func()) {
	t.Helper()
	sink := new(consumertest.MetricsSink)
	rcv, err := NewFactory().CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	err = rcv.Start(context.Background(), componenttest.NewNopHost())
	skipIfKernelLacks(t, cfg, err)
	require.NoError(t, err)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			require.NoError(t, rcv.Shutdown(context.Background()))
		}
	}
	t.Cleanup(stop)
	return sink, stop
}

// point is one data point of one process, flattened for assertions.
type point struct {
	metric, syscall, errType string
	value                    float64
}

// processPoints returns the data points of one pid in one export, and its
// resource attributes.
func processPoints(md pmetric.Metrics, pid int) (map[point]bool, map[string]any) {
	points := map[point]bool{}
	var attrs map[string]any
	for _, rm := range md.ResourceMetrics().All() {
		if v, ok := rm.Resource().Attributes().Get("process.pid"); !ok || v.Int() != int64(pid) {
			continue
		}
		attrs = rm.Resource().Attributes().AsRaw()
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				if m.Type() == pmetric.MetricTypeExponentialHistogram {
					// Flattened to its sum of seconds.
					for _, dp := range m.ExponentialHistogram().DataPoints().All() {
						name, _ := dp.Attributes().Get("syscall.name")
						points[point{metric: m.Name(), syscall: name.Str(), value: dp.Sum()}] = true
					}
					continue
				}
				for _, dp := range m.Sum().DataPoints().All() {
					p := point{metric: m.Name()}
					if v, ok := dp.Attributes().Get("syscall.name"); ok {
						p.syscall = v.Str()
					}
					if v, ok := dp.Attributes().Get("error.type"); ok {
						p.errType = v.Str()
					}
					p.value = dp.DoubleValue()
					if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
						p.value = float64(dp.IntValue())
					}
					points[p] = true
				}
			}
		}
	}
	return points, attrs
}

func has(points map[point]bool, metric, syscall, errType string, value float64) bool {
	return points[point{metric, syscall, errType, value}]
}

// TestExactCountsOfAShortLivedProcess is the end-to-end contract: a child
// that makes a known number of syscalls and exits within milliseconds
// appears in the next export with exactly those counts, then disappears.
// It holds with every way of hooking the syscall path.
func TestExactCountsOfAShortLivedProcess(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	for _, hook := range bpf.Hooks {
		t.Run(string(hook), func(t *testing.T) {
			cfg := testConfig()
			cfg.Hook = string(hook)
			exactCountsOfAShortLivedProcess(t, bin, cfg)
		})
	}
}

func exactCountsOfAShortLivedProcess(t *testing.T, bin string, cfg *Config) {
	sink, _ := startReceiver(t, cfg)

	spec := workload.Spec{Getppid: 1234, OpenMissing: 56, WriteDevNull: 78}
	pid, err := workload.Run(bin, spec)
	require.NoError(t, err)
	exited := time.Now()
	// Export n may have started before the exit; n+1 started after it.
	n := len(sink.AllMetrics())
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) >= n+4 }, 10*time.Second, 10*time.Millisecond)
	var withPid []int
	for i, md := range sink.AllMetrics()[n:] {
		if _, attrs := processPoints(md, pid); attrs != nil {
			withPid = append(withPid, n+i)
		}
	}
	require.NotEmpty(t, withPid, "pid %d was never exported after it exited", pid)
	last := withPid[len(withPid)-1]
	require.LessOrEqual(t, last, n+1, "pid %d was still exported in export %d, long after it exited (exports with it: %v)", pid, last, withPid)

	md := sink.AllMetrics()[last]
	points, attrs := processPoints(md, pid)
	t.Logf("pid %d: in exports %v of %d after its exit; resource %v", pid, withPid, len(sink.AllMetrics())-n, attrs)
	for p := range points {
		if p.syscall == "getppid" || p.syscall == "write" || p.errType != "" {
			t.Logf("  %s{syscall.name=%s error.type=%s} = %v", p.metric, p.syscall, p.errType, p.value)
		}
	}

	assert.True(t, has(points, "syscall.calls", "getppid", "", float64(spec.Getppid)), "getppid calls")
	assert.True(t, has(points, "syscall.calls", "write", "", float64(spec.WriteDevNull)), "write calls")
	assert.True(t, has(points, "syscall.errors", "openat", "ENOENT", float64(spec.OpenMissing)), "openat ENOENT errors")
	for p := range points {
		// The Go runtime's own futex and nanosleep calls may fail with
		// ERESTARTSYS and the like; the workload's writes never fail.
		if p.metric == "syscall.errors" {
			assert.NotContains(t, []string{"getppid", "write"}, p.syscall, "unexpected error %v", p)
			if p.syscall == "openat" {
				assert.Equal(t, "ENOENT", p.errType)
			}
		}
		if p.metric == "syscall.duration" && p.syscall == "getppid" {
			assert.Positive(t, p.value)
			assert.Less(t, p.value, 1.0, "1234 getppid calls took a second?")
		}
	}
	// The process had exited before the export, so only its comm is known.
	assert.Equal(t, map[string]any{"process.pid": int64(pid), "process.executable.name": workload.Comm}, attrs)

	dp := firstDataPoint(md)
	assert.Less(t, dp.StartTimestamp().AsTime(), exited, "start time is when counting began")
}

// TestLiveProcessResource checks the attributes of a process that is alive
// when scraped: its path and parent come from /proc.
func TestLiveProcessResource(t *testing.T) {
	kerneltest.Require(t)
	sink, _ := startReceiver(t, testConfig())
	cmd := exec.Command("sleep", "30")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	path, err := exec.LookPath("sleep")
	require.NoError(t, err)
	resolved, err := filepath.EvalSymlinks(path)
	require.NoError(t, err)
	// A scrape between fork and exec sees the test binary: wait for the
	// first export after the exec.
	var attrs map[string]any
	require.Eventually(t, func() bool {
		for _, md := range sink.AllMetrics() {
			if _, a := processPoints(md, cmd.Process.Pid); a != nil && a["process.executable.name"] == "sleep" {
				attrs = a
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "sleep was never exported under its name")
	assert.Equal(t, "sleep", attrs["process.executable.name"])
	assert.Equal(t, resolved, attrs["process.executable.path"], "sleep is %s", path)
	assert.Equal(t, int64(os.Getpid()), attrs["process.parent_pid"])
}

// TestExcludeSelf: by default the receiver's own process is never counted;
// with exclude_self: false it is.
func TestExcludeSelf(t *testing.T) {
	kerneltest.Require(t)
	for _, exclude := range []bool{true, false} {
		t.Run(strconv.FormatBool(exclude), func(t *testing.T) {
			cfg := testConfig()
			cfg.ExcludeSelf = exclude
			sink, _ := startReceiver(t, cfg)
			// Make our own syscalls, then wait for a few exports.
			for range 100 {
				_ = os.Getppid()
			}
			require.Eventually(t, func() bool { return len(sink.AllMetrics()) >= 3 }, 10*time.Second, 10*time.Millisecond)
			seen := false
			for _, md := range sink.AllMetrics() {
				if _, attrs := processPoints(md, os.Getpid()); attrs != nil {
					seen = true
				}
			}
			assert.Equal(t, !exclude, seen)
		})
	}
}

// TestSystemWide: with group_by [] there is one resource, without process
// attributes, and the host's totals include the workload's.
func TestSystemWide(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	cfg := testConfig()
	cfg.GroupBy = []string{}
	sink, _ := startReceiver(t, cfg)

	spec := workload.Spec{Getppid: 4321}
	_, err = workload.Run(bin, spec)
	require.NoError(t, err)
	ran := len(sink.AllMetrics())
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) > ran+1 }, 10*time.Second, 10*time.Millisecond)

	md := sink.AllMetrics()[len(sink.AllMetrics())-1]
	require.Equal(t, 1, md.ResourceMetrics().Len())
	assert.Zero(t, md.ResourceMetrics().At(0).Resource().Attributes().Len())
	var getppid int64
	for _, m := range md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().All() {
		if m.Name() != "syscall.calls" {
			continue
		}
		for _, dp := range m.Sum().DataPoints().All() {
			if v, _ := dp.Attributes().Get("syscall.name"); v.Str() == "getppid" {
				getppid = dp.IntValue()
			}
		}
	}
	assert.GreaterOrEqual(t, getppid, int64(spec.Getppid))
}

// TestDisabledMetricsAreNotCollected: a metric switched off in the config
// is absent from the export and its kernel hook is not attached.
func TestDisabledMetricsAreNotCollected(t *testing.T) {
	kerneltest.Require(t)
	cfg := testConfig()
	cfg.Metrics.SyscallDuration.Enabled = false
	cfg.Metrics.SyscallErrors.Enabled = false
	sink := new(consumertest.MetricsSink)
	rcv, s, err := newMetricsReceiver(cfg, receivertest.NewNopSettings(metadata.Type), sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	// A workload of our own, with failing calls, so the export is never
	// empty on a quiet machine; wait until its calls were exported.
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	pid, err := workload.Run(bin, workload.Spec{Getppid: 100, OpenMissing: 10})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		for _, md := range sink.AllMetrics() {
			for _, rm := range md.ResourceMetrics().All() {
				if v, ok := rm.Resource().Attributes().Get("process.pid"); ok && v.Int() == int64(pid) {
					return true
				}
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond)
	names := map[string]bool{}
	for _, md := range sink.AllMetrics() {
		for _, rm := range md.ResourceMetrics().All() {
			for _, m := range rm.ScopeMetrics().At(0).Metrics().All() {
				names[m.Name()] = true
			}
		}
	}
	assert.Equal(t, map[string]bool{"syscall.calls": true}, names)

	// Our programs: sys_exit counts calls, sched_process_exit exit and
	// exit_group, and sys_enter the sigreturns (whose number is gone at
	// sys_exit); nothing is timed. Other tools' links are ignored.
	progs, _ := loadedObjects(t, s)
	var links []struct {
		ProgID uint32 `json:"prog_id"`
		TPName string `json:"tp_name"`
	}
	require.NoError(t, json.Unmarshal([]byte(bpftoolJSON(t, "link", "show")), &links))
	attached := map[string]bool{}
	for _, l := range links {
		if slices.Contains(progs, l.ProgID) {
			attached[l.TPName] = true
		}
	}
	assert.Equal(t, map[string]bool{"sys_enter": true, "sys_exit": true, "sched_process_exit": true}, attached)
}
