//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/engine"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"
)

// Regenerate with: go test ./receiver/ -run TestEmitGolden -update
// then read the diff: the golden files are the specification.
var update = flag.Bool("update", false, "rewrite testdata/golden/*.yaml from the current output of emit")

var (
	// When the programs were attached: the start of every cumulative point.
	testStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// When the counters were read.
	testNow = time.Date(2026, 1, 2, 3, 5, 35, 123456789, time.UTC)
)

// amd64 syscall numbers used below.
const (
	nrRead      = 0
	nrWrite     = 1
	nrGetpid    = 39
	nrExecve    = 59
	nrExitGroup = 231
	nrOpenat    = 257
	nrUnnamed   = 999 // no syscall has this number: exported as syscall_999
)

// testCounts is a snapshot of four processes:
//   - 1200 nginx, alive, with exe and ppid;
//   - 3400 curl, exited (only its comm is known), whose write failed with
//     two errnos without a name, 4000 and 4001, that merge into _OTHER;
//   - 5600, alive, with spaces and parentheses in comm and exe path;
//   - 7800, exited unseen: nothing but its pid is known.
func testCounts() *bpf.Counts {
	return &bpf.Counts{
		Syscalls: map[bpf.SyscallKey]bpf.SyscallTotals{
			{Group: pg(1200), Nr: nrRead}:      {Calls: 100, DurationNs: 1_500_000_000, MinNs: 1_000, MaxNs: 1_000_000_000},
			{Group: pg(1200), Nr: nrOpenat}:    {Calls: 40, DurationNs: 250, MinNs: 5, MaxNs: 10},
			{Group: pg(1200), Nr: nrUnnamed}:   {Calls: 3}, // no duration: no point
			{Group: pg(3400), Nr: nrWrite}:     {Calls: 7, DurationNs: 7_000, MinNs: 1_000, MaxNs: 1_000},
			{Group: pg(3400), Nr: nrExecve}:    {Calls: 1, DurationNs: 2_000_000},
			{Group: pg(5600), Nr: nrGetpid}:    {Calls: 5, DurationNs: 123_456_789},
			{Group: pg(7800), Nr: nrExitGroup}: {Calls: 1}, // never returns
		},
		// Bucket indexes at scale 3: 1 µs is in -160, 1 s in -1, 5 ns in -221,
		// 10 ns in -213.
		Durations: map[bpf.SyscallKey]bpf.Buckets{
			{Group: pg(1200), Nr: nrRead}:   {-160: 99, -1: 1},              // 99 × ~1 µs, one 1 s read
			{Group: pg(1200), Nr: nrOpenat}: {-221: 10, -214: 20, -213: 10}, // 5 to 10 ns
			{Group: pg(3400), Nr: nrWrite}:  {-160: 7},
		},
		Errors: map[bpf.ErrorKey]uint64{
			{Group: pg(1200), Nr: nrOpenat, Errno: 2}:   12, // ENOENT
			{Group: pg(1200), Nr: nrRead, Errno: 11}:    30, // EAGAIN
			{Group: pg(1200), Nr: nrRead, Errno: 512}:   2,  // ERESTARTSYS
			{Group: pg(1200), Nr: nrUnnamed, Errno: 38}: 3,  // ENOSYS
			{Group: pg(3400), Nr: nrWrite, Errno: 4000}: 4,  // _OTHER
			{Group: pg(3400), Nr: nrWrite, Errno: 4001}: 1,  // _OTHER too
			{Group: pg(3400), Nr: nrExecve, Errno: 13}:  1,  // EACCES
		},
	}
}

// pg is the group of a process counted per process.
func pg(pid uint32) bpf.Group { return bpf.Group{TGID: pid, StartNs: uint64(pid) * 1e7} }

func testProcs() map[bpf.Group]engine.GroupInfo {
	return map[bpf.Group]engine.GroupInfo{
		pg(1200): {Comm: "nginx", Exe: "/usr/sbin/nginx", PPID: 1},
		pg(3400): {Comm: "curl"},
		pg(5600): {Comm: "my (odd) app", Exe: "/opt/my app/bin/app", PPID: 1200},
		pg(7800): {},
	}
}

// systemWide is what the kernel reports for testCounts when counting
// system-wide: the same totals, all under TGID 0.
func systemWide(c *bpf.Counts) *bpf.Counts {
	out := &bpf.Counts{Syscalls: map[bpf.SyscallKey]bpf.SyscallTotals{}, Errors: map[bpf.ErrorKey]uint64{}, Durations: map[bpf.SyscallKey]bpf.Buckets{}}
	for k, v := range c.Syscalls {
		k.Group = bpf.Group{}
		prev := out.Syscalls[k]
		out.Syscalls[k] = bpf.SyscallTotals{Calls: prev.Calls + v.Calls, DurationNs: prev.DurationNs + v.DurationNs,
			MinNs: max(prev.MinNs, v.MinNs), MaxNs: max(prev.MaxNs, v.MaxNs)}
	}
	for k, v := range c.Durations {
		k.Group = bpf.Group{}
		if out.Durations[k] == nil {
			out.Durations[k] = bpf.Buckets{}
		}
		for b, n := range v {
			out.Durations[k][b] += n
		}
	}
	for k, v := range c.Errors {
		k.Group = bpf.Group{}
		out.Errors[k] += v
	}
	return out
}

// newTestEmitter builds an emitter with amd64 names, whatever the host,
// and a fixed start time.
func newTestEmitter(t *testing.T, cfg *Config) *emitter {
	t.Helper()
	names, err := sysnames.ForArch("amd64")
	require.NoError(t, err)
	return newEmitter(cfg, receivertest.NewNopSettings(metadata.Type), names, pcommon.NewTimestampFromTime(testStart))
}

func TestEmitGolden(t *testing.T) {
	noDuration := createDefaultConfig()
	noDuration.Metrics.SyscallDuration.Enabled = false
	systemCfg := createDefaultConfig()
	systemCfg.GroupBy = []string{}

	tests := []struct {
		name   string
		cfg    *Config
		counts *bpf.Counts
		procs  map[bpf.Group]engine.GroupInfo
	}{
		{name: "process", cfg: createDefaultConfig(), counts: testCounts(), procs: testProcs()},
		{name: "system_wide", cfg: systemCfg, counts: systemWide(testCounts()), procs: nil},
		{name: "duration_disabled", cfg: noDuration, counts: testCounts(), procs: testProcs()},
		{name: "threads_containers_overflow", cfg: allGroupsConfig(), counts: groupCounts(), procs: groupInfos()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestEmitter(t, tt.cfg)
			actual := s.emit(tt.counts, tt.procs, pcommon.NewTimestampFromTime(testNow))
			path := filepath.Join("testdata", "golden", tt.name+".yaml")
			if *update {
				// The golden file keeps the real timestamps: the start
				// time is part of what is checked.
				out := pmetric.NewMetrics()
				actual.CopyTo(out)
				require.NoError(t, golden.WriteMetricsToFile(path, out, golden.SkipMetricTimestampNormalization()))
				t.Logf("wrote %s", path)
			}
			expected, err := golden.ReadMetrics(path)
			require.NoError(t, err)
			// The golden files are sorted by attributes; the order emit
			// produces is checked by TestEmitOrder.
			require.NoError(t, pmetrictest.CompareMetrics(expected, actual,
				pmetrictest.IgnoreResourceMetricsOrder(),
				pmetrictest.IgnoreMetricDataPointsOrder(),
			))
		})
	}
}

// TestEmitOrder: emit is deterministic, whatever the map iteration order:
// resources by pid, points by syscall number then errno.
func TestEmitOrder(t *testing.T) {
	s := newTestEmitter(t, createDefaultConfig())
	var first pmetric.Metrics
	for i := range 5 {
		md := s.emit(testCounts(), testProcs(), pcommon.NewTimestampFromTime(testNow))
		if i == 0 {
			first = md
			continue
		}
		// Also shows that nothing is carried over from one emit to
		// the next.
		require.NoError(t, pmetrictest.CompareMetrics(first, md), "emit %d", i)
	}

	var pids []int64
	for _, rm := range first.ResourceMetrics().All() {
		pid, ok := rm.Resource().Attributes().Get("process.pid")
		require.True(t, ok)
		pids = append(pids, pid.Int())
	}
	assert.Equal(t, []int64{1200, 3400, 5600, 7800}, pids)

	nginx := first.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	require.Equal(t, 3, nginx.Len())
	var calls, errs []string
	for _, dp := range nginx.At(0).Sum().DataPoints().All() {
		name, _ := dp.Attributes().Get("syscall.name")
		calls = append(calls, name.Str())
	}
	for _, dp := range nginx.At(1).Sum().DataPoints().All() {
		name, _ := dp.Attributes().Get("syscall.name")
		errType, _ := dp.Attributes().Get("error.type")
		errs = append(errs, name.Str()+"/"+errType.Str())
	}
	assert.Equal(t, []string{"read", "openat", "syscall_999"}, calls)
	assert.Equal(t, []string{"read/EAGAIN", "read/ERESTARTSYS", "openat/ENOENT", "syscall_999/ENOSYS"}, errs)
}

// TestEmitTimestamps: every point starts when the programs were attached
// and ends when the counters were read, in every mode.
func TestEmitTimestamps(t *testing.T) {
	for _, procs := range []map[bpf.Group]engine.GroupInfo{testProcs(), nil} {
		s := newTestEmitter(t, createDefaultConfig())
		counts := testCounts()
		if procs == nil {
			counts = systemWide(counts)
		}
		md := s.emit(counts, procs, pcommon.NewTimestampFromTime(testNow))
		require.Positive(t, md.DataPointCount())
		for _, rm := range md.ResourceMetrics().All() {
			for _, m := range rm.ScopeMetrics().At(0).Metrics().All() {
				if m.Name() == "syscall.duration" {
					require.Equal(t, pmetric.MetricTypeExponentialHistogram, m.Type())
					assert.Equal(t, pmetric.AggregationTemporalityCumulative, m.ExponentialHistogram().AggregationTemporality())
					for _, dp := range m.ExponentialHistogram().DataPoints().All() {
						assert.Equal(t, testStart, dp.StartTimestamp().AsTime(), m.Name())
						assert.Equal(t, testNow, dp.Timestamp().AsTime(), m.Name())
					}
					continue
				}
				assert.Equal(t, pmetric.MetricTypeSum, m.Type(), m.Name())
				assert.True(t, m.Sum().IsMonotonic(), m.Name())
				assert.Equal(t, pmetric.AggregationTemporalityCumulative, m.Sum().AggregationTemporality(), m.Name())
				for _, dp := range m.Sum().DataPoints().All() {
					assert.Equal(t, testStart, dp.StartTimestamp().AsTime(), m.Name())
					assert.Equal(t, testNow, dp.Timestamp().AsTime(), m.Name())
				}
			}
		}
	}
}

func TestEmitNothing(t *testing.T) {
	s := newTestEmitter(t, createDefaultConfig())
	empty := &bpf.Counts{Syscalls: map[bpf.SyscallKey]bpf.SyscallTotals{}, Errors: map[bpf.ErrorKey]uint64{}}
	assert.Zero(t, s.emit(empty, map[bpf.Group]engine.GroupInfo{}, pcommon.NewTimestampFromTime(testNow)).ResourceMetrics().Len())
	assert.Zero(t, s.emit(empty, nil, pcommon.NewTimestampFromTime(testNow)).ResourceMetrics().Len())
}
