//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/seed22255693/syscallsreceiver/internal/workload"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadatatest"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// gaugeValues returns an int gauge's points by their bpf.program attribute
// ("" when it has none).
func gaugeValues(t *testing.T, tt *componenttest.Telemetry, name string) map[string]int64 {
	t.Helper()
	m, err := tt.GetMetric(name)
	require.NoError(t, err, name)
	gauge, ok := m.Data.(metricdata.Gauge[int64])
	require.True(t, ok, "%s is a %T", name, m.Data)
	values := map[string]int64{}
	for _, dp := range gauge.DataPoints {
		program, _ := dp.Attributes.Value("bpf.program")
		values[program.AsString()] = dp.Value
	}
	return values
}

// TestSelfTelemetry: the receiver reports its groups against max_groups,
// the overflow, its collection time and, with program_stats, its programs'
// in-kernel run time, through the collector's own telemetry.
func TestSelfTelemetry(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	cfg := testConfig()
	cfg.MaxGroups = 3
	cfg.ProgramStats = true
	s := newSyscallsScraper(cfg, metadatatest.NewSettings(tt))
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })

	for range 5 { // more processes than max_groups
		_, err := workload.Run(bin, workload.Spec{Getppid: 100})
		require.NoError(t, err)
	}
	_, err = s.scrape(context.Background())
	require.NoError(t, err)

	assert.Equal(t, map[string]int64{"": 3}, gaugeValues(t, tt, "otelcol_receiver_syscalls_groups"))
	assert.Equal(t, map[string]int64{"": 3}, gaugeValues(t, tt, "otelcol_receiver_syscalls_groups_limit"))
	assert.Positive(t, gaugeValues(t, tt, "otelcol_receiver_syscalls_overflow_calls")[""])
	assert.Equal(t, map[string]int64{"": 0}, gaugeValues(t, tt, "otelcol_receiver_syscalls_dropped_updates"))

	runs := gaugeValues(t, tt, "otelcol_receiver_syscalls_program_run_count")
	runTime := gaugeValues(t, tt, "otelcol_receiver_syscalls_program_run_time")
	for _, program := range []string{"syscalls_enter", "syscalls_exit", "syscalls_task_exit"} {
		assert.Positive(t, runs[program], program)
		assert.Positive(t, runTime[program], program)
	}
	t.Logf("in-kernel cost: sys_enter %d runs, %.0f ns/run; sys_exit %d runs, %.0f ns/run",
		runs["syscalls_enter"], float64(runTime["syscalls_enter"])/float64(runs["syscalls_enter"]),
		runs["syscalls_exit"], float64(runTime["syscalls_exit"])/float64(runs["syscalls_exit"]))

	m, err := tt.GetMetric("otelcol_receiver_syscalls_collection_duration")
	require.NoError(t, err)
	hist := m.Data.(metricdata.Histogram[float64])
	require.Len(t, hist.DataPoints, 1)
	assert.EqualValues(t, 1, hist.DataPoints[0].Count)
}

// TestFullMapsInTelemetry: counter updates the kernel maps had no room for
// are reported through the receiver's telemetry (and logged), exactly.
func TestFullMapsInTelemetry(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	cfg := testConfig()
	cfg.GroupBy = []string{}
	cfg.Filter.Comms = []string{workload.Comm}
	// Timed calls are kept in the (larger) histogram map instead.
	cfg.Metrics.SyscallDuration.Enabled = false
	s := newSyscallsScraper(cfg, metadatatest.NewSettings(tt))
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })

	// Numbers past the array's slots share a hash of 1,024 entries.
	_, err = workload.Run(bin, workload.Spec{Unknown: 1100})
	require.NoError(t, err)
	md, err := s.scrape(context.Background())
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"": 1100 - 1024}, gaugeValues(t, tt, "otelcol_receiver_syscalls_dropped_updates"))
	names := map[string]bool{}
	for _, rm := range md.ResourceMetrics().All() {
		for _, m := range rm.ScopeMetrics().At(0).Metrics().All() {
			if m.Name() == "syscall.calls" {
				for _, dp := range m.Sum().DataPoints().All() {
					name, _ := dp.Attributes().Get("syscall.name")
					names[name.Str()] = true
				}
			}
		}
	}
	assert.True(t, names["syscall_1024"], "a number without a name gets a placeholder")
}
