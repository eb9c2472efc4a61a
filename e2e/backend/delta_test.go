//go:build linux

package backend

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/seed22255693/syscallsreceiver/internal/collectortest"
	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
	"github.com/seed22255693/syscallsreceiver/internal/workload"
)

// deltaTotals adds up one process's delta points over every export: calls
// and errors per key (as collectortest.Values keys them), and the duration
// histogram's count and sum per syscall.
type deltaTotals struct {
	sums             map[string]int64
	nonzero          map[string]int // points with a value above zero, per key
	histCount        map[string]uint64
	histSum          map[string]float64
	points           int
	notDelta         int // metrics whose temporality is not delta
	malformed        int // histogram points whose buckets do not add up to their count
	histogramBuckets int // bucket counts seen, over all points
}

func addDeltas(md pmetric.Metrics, pid int, d *deltaTotals) {
	for _, rm := range md.ResourceMetrics().All() {
		if v, ok := rm.Resource().Attributes().Get("process.pid"); !ok || v.Int() != int64(pid) {
			continue
		}
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				switch m.Type() {
				case pmetric.MetricTypeSum:
					if m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityDelta {
						d.notDelta++
					}
					for _, dp := range m.Sum().DataPoints().All() {
						key := collectortest.PointKey(m.Name(), dp.Attributes())
						d.sums[key] += dp.IntValue()
						if dp.IntValue() > 0 {
							d.nonzero[key]++
						}
						d.points++
					}
				case pmetric.MetricTypeExponentialHistogram:
					if m.ExponentialHistogram().AggregationTemporality() != pmetric.AggregationTemporalityDelta {
						d.notDelta++
					}
					for _, dp := range m.ExponentialHistogram().DataPoints().All() {
						name, _ := dp.Attributes().Get("syscall.name")
						d.histCount[name.Str()] += dp.Count()
						d.histSum[name.Str()] += dp.Sum()
						var inBuckets uint64
						for _, c := range dp.Positive().BucketCounts().All() {
							inBuckets += c
						}
						if inBuckets+dp.ZeroCount() != dp.Count() {
							d.malformed++
						}
						d.histogramBuckets += dp.Positive().BucketCounts().Len()
						d.points++
					}
				}
			}
		}
	}
}

// TestDeltaTemporality: with cumulativetodelta in the pipeline
// (testdata/e2e-delta.yaml), every sum and exponential histogram leaves as
// deltas that add up to the workload's exact totals, and a backend that
// takes deltas (Prometheus 3, otlp-deltatocumulative) answers the same
// totals, counts and sums as the cumulative path does.
func TestDeltaTemporality(t *testing.T) {
	kerneltest.Require(t)
	otelcol := collectortest.Binary(t, "OTELCOL_BIN", defaultOtelcol)
	binDir := t.TempDir()
	steadyBin, err := workload.BuildSteady(binDir)
	require.NoError(t, err)
	sleeperBin, err := workload.BuildNanosleeper(binDir)
	require.NoError(t, err)

	prom := startPrometheusOTLP(t, "otlp-deltatocumulative")
	file := filepath.Join(t.TempDir(), "export.json")
	col := startService(t, "collector", otelcol,
		[]string{"--config", filepath.Join(collectortest.RepoRoot(), "testdata", "e2e-delta.yaml")},
		"SYSCALLS_E2E_PROMETHEUS_OTLP="+prom.base+"/api/v1/otlp/v1/metrics",
		"SYSCALLS_E2E_FILE="+file)
	col.waitReady(t)

	// A workload that lives over several exports, so that its deltas are
	// differences of cumulative values, not only a first value.
	steady := workload.SteadyCommand(steadyBin, steadyRounds, steadyPause, steadySpec)
	waitSteady := runInBackground(t, steady)
	pid := steady.Process.Pid
	sleeperPid, slept, err := workload.RunNanosleeper(sleeperBin, sleeps, sleepUS, 0)
	require.NoError(t, err)
	waitSteady()

	// The deltas in the file export add up to the exact totals.
	total := workload.Spec{Getppid: steadyRounds * steadySpec.Getppid, OpenMissing: steadyRounds * steadySpec.OpenMissing,
		WriteDevNull: steadyRounds * steadySpec.WriteDevNull}
	want := collectortest.WantOf(total)
	var d deltaTotals
	arrived := assert.Eventually(t, func() bool {
		d = deltaTotals{sums: map[string]int64{}, nonzero: map[string]int{}, histCount: map[string]uint64{}, histSum: map[string]float64{}}
		collectortest.ForEachExport(t, file, func(md pmetric.Metrics) { addDeltas(md, pid, &d) })
		for k, v := range want {
			if d.sums[k] != v {
				return false
			}
		}
		return d.histCount["getppid"] == uint64(total.Getppid)
	}, 30*time.Second, 200*time.Millisecond)
	require.True(t, arrived, "pid %d: want %v and %d getppid durations in the deltas, have %v and %d",
		pid, want, total.Getppid, pick(d.sums, want), d.histCount["getppid"])
	assert.Zero(t, d.notDelta, "metrics exported as cumulative")
	assert.Zero(t, d.malformed, "histogram points whose buckets do not add up")
	assert.Greater(t, d.nonzero["syscall.calls/getppid"], 2, "getppid's calls arrived in several deltas")
	t.Logf("pid %d: %d delta points (getppid's calls in %d of them), %d histogram buckets; they add up to %v, and %d getppid durations (%.3g s)",
		pid, d.points, d.nonzero["syscall.calls/getppid"], d.histogramBuckets, pick(d.sums, want), d.histCount["getppid"], d.histSum["getppid"])

	// The backend rebuilds the same totals from the deltas.
	sel := fmt.Sprintf(`process_pid="%d"`, pid)
	prom.eventually(t, `syscall_calls_total{`+sel+`,syscall_name="getppid"}`, float64(total.Getppid))
	prom.eventually(t, `syscall_calls_total{`+sel+`,syscall_name="write"}`, float64(total.WriteDevNull))
	prom.eventually(t, `syscall_errors_total{`+sel+`,syscall_name="openat",error_type="ENOENT"}`, float64(total.OpenMissing))
	prom.eventually(t, `histogram_count(syscall_duration_seconds{`+sel+`,syscall_name="getppid"})`, float64(total.Getppid))
	sum, err := prom.query(`histogram_sum(syscall_duration_seconds{` + sel + `,syscall_name="getppid"})`)
	require.NoError(t, err)
	require.Len(t, sum, 1)
	assert.InEpsilon(t, d.histSum["getppid"], sum[0].Value, 1e-9, "the backend's duration sum is the deltas' sum")

	// The sleeper's histogram keeps its shape: the median is near the
	// requested sleep.
	sleeperSel := fmt.Sprintf(`process_pid="%d",syscall_name="clock_nanosleep"`, sleeperPid)
	prom.eventually(t, `histogram_count(syscall_duration_seconds{`+sleeperSel+`})`, float64(slept.Calls))
	median, err := prom.query(`histogram_quantile(0.5, syscall_duration_seconds{` + sleeperSel + `})`)
	require.NoError(t, err)
	require.Len(t, median, 1)
	wantSleep := float64(sleepUS) / 1e6
	assert.GreaterOrEqual(t, median[0].Value, wantSleep*0.95)
	assert.Less(t, median[0].Value, wantSleep*1.5)
	t.Logf("delta backend: clock_nanosleep(%v s) × %d: median %.4g s", wantSleep, sleeps, median[0].Value)
}

// pick is the entries of m whose keys are in want.
func pick(m map[string]int64, want map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k := range want {
		out[k] = m[k]
	}
	return out
}
