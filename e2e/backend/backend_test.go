//go:build linux

// Package backend runs the ocb-built collector against real metrics
// backends on loopback and reads the workload's counts back through each
// backend's own query API:
//
//   - OTLP/HTTP (protobuf) into VictoriaMetrics, which ingests OTLP natively
//     and answers PromQL/MetricsQL;
//   - OTLP/HTTP into Prometheus 3's own OTLP receiver, which turns the
//     exponential histogram into a native histogram;
//   - Debian's Prometheus 2 scraping the collector's Prometheus exporter.
//
// It also runs every query of the Grafana dashboard (deploy/grafana) against
// each: the VictoriaMetrics flavour against VictoriaMetrics, the Prometheus
// flavour (native histograms) against both Prometheus. `make e2e` and `make
// test` build or cache the binaries and pass their paths in OTELCOL_BIN,
// VICTORIA_METRICS_BIN, PROMETHEUS3_BIN and PROMETHEUS_BIN; without them
// the tests skip (and fail when CI is set).
package backend

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed22255693/syscallsreceiver/internal/collectortest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/internal/workload"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// Default places of the binaries, as the Makefile builds or caches them.
const (
	defaultOtelcol    = "_build/otelcol-syscalls"
	defaultVM         = "_build/tools/victoria-metrics-v1.151.0/victoria-metrics"
	defaultPrometheus = "_build/tools/prometheus/usr/bin/prometheus"
	// The module version v0.316.0 is Prometheus 3.
	defaultPrometheus3 = "_build/tools/prometheus-v0.316.0/prometheus"
)

// e2eNode is the k8s.node.name the collector's resource processor adds.
const e2eNode = "e2e-node"

func startVictoriaMetrics(t *testing.T) promAPI {
	t.Helper()
	bin := collectortest.Binary(t, "VICTORIA_METRICS_BIN", defaultVM)
	addr := collectortest.FreeAddr(t)
	base := "http://" + addr
	svc := startService(t, "victoria-metrics", bin, []string{
		"-storageDataPath=" + t.TempDir(),
		"-httpListenAddr=" + addr,
		"-retentionPeriod=1d",
		// syscall.calls → syscall_calls_total, syscall.duration →
		// syscall_duration_seconds_{count,sum,bucket}, dots → underscores:
		// the names the Prometheus exporter gives too.
		"-opentelemetry.usePrometheusNaming",
		// Answer with what was just ingested, not 30 s behind.
		"-search.latencyOffset=0s",
		"-search.disableCache",
	})
	svc.waitFor(t, "/health", 60*time.Second, func() bool { return httpOK(base + "/health") })
	return promAPI{name: "victoria-metrics", base: base, flush: func() {
		if resp, err := http.Get(base + "/internal/force_flush"); err == nil {
			_ = resp.Body.Close()
		}
	}}
}

// startPrometheus runs Debian's Prometheus scraping target every second,
// with native histograms on (the exporter turns exponential histograms
// into them).
func startPrometheus(t *testing.T, target string) promAPI {
	t.Helper()
	bin := collectortest.Binary(t, "PROMETHEUS_BIN", defaultPrometheus)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 10s
scrape_configs:
  - job_name: otelcol-syscalls
    static_configs:
      - targets: [%q]
`, target)), 0o644))
	addr := collectortest.FreeAddr(t)
	base := "http://" + addr
	svc := startService(t, "prometheus", bin, []string{
		"--config.file=" + cfg,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--enable-feature=native-histograms",
	})
	svc.waitFor(t, "/-/ready", 60*time.Second, func() bool { return httpOK(base + "/-/ready") })
	return promAPI{name: "prometheus", base: base}
}

// startPrometheusOTLP runs Prometheus 3 with its OTLP receiver on: the
// collector pushes to it, as to VictoriaMetrics. Resource attributes
// become labels only where promoted (the rest go to target_info): those
// the dashboard and the tests select by. features are Prometheus'
// --enable-feature flags.
func startPrometheusOTLP(t *testing.T, features ...string) promAPI {
	t.Helper()
	bin := collectortest.Binary(t, "PROMETHEUS3_BIN", defaultPrometheus3)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfg, []byte(`otlp:
  promote_resource_attributes: [process.pid, process.executable.name, container.id, k8s.pod.uid, k8s.node.name]
`), 0o644))
	addr := collectortest.FreeAddr(t)
	base := "http://" + addr
	args := []string{
		"--config.file=" + cfg,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--web.enable-otlp-receiver",
	}
	if len(features) > 0 {
		args = append(args, "--enable-feature="+strings.Join(features, ","))
	}
	svc := startService(t, "prometheus3", bin, args)
	svc.waitFor(t, "/-/ready", 60*time.Second, func() bool { return httpOK(base + "/-/ready") })
	return promAPI{name: "prometheus3", base: base}
}

// The workloads and what they do.
var (
	exactSpec    = workload.Spec{Getppid: 2024, OpenMissing: 42, WriteDevNull: 99}
	steadySpec   = workload.Spec{Getppid: 100, OpenMissing: 5, WriteDevNull: 10}
	steadyRounds = 12
	steadyPause  = 500 * time.Millisecond
	// nanosleeper: sleeps of a known length for the histogram's buckets.
	sleeps, sleepUS = 20, 20000
)

// run is what one run of the workloads left to look for.
type run struct {
	pid, steadyPid, sleeperPid int
	containerID, podUID        string
	sleeps                     workload.Sleeps // as the sleeper timed them
}

func TestBackends(t *testing.T) {
	kerneltest.Require(t)
	otelcol := collectortest.Binary(t, "OTELCOL_BIN", defaultOtelcol)
	binDir := t.TempDir()
	exactBin, err := workload.Build(binDir)
	require.NoError(t, err)
	steadyBin, err := workload.BuildSteady(binDir)
	require.NoError(t, err)
	sleeperBin, err := workload.BuildNanosleeper(binDir)
	require.NoError(t, err)

	vm := startVictoriaMetrics(t)
	prom3 := startPrometheusOTLP(t)
	exporter := collectortest.FreeAddr(t)
	prom := startPrometheus(t, exporter)
	col := startService(t, "collector", otelcol,
		[]string{"--config", filepath.Join(collectortest.RepoRoot(), "testdata", "e2e-backends.yaml")},
		"SYSCALLS_E2E_OTLP="+vm.base+"/opentelemetry/v1/metrics",
		"SYSCALLS_E2E_PROMETHEUS_OTLP="+prom3.base+"/api/v1/otlp/v1/metrics",
		"SYSCALLS_E2E_PROM="+exporter,
		"SYSCALLS_E2E_NODE="+e2eNode)
	col.waitReady(t)

	// The steady workload runs for a few seconds in a cgroup laid out as a
	// Kubernetes container's, while the one-shot workloads run.
	var r run
	c := fakeContainer(t)
	r.containerID, r.podUID = c.id, c.podUID
	steady := workload.SteadyCommand(steadyBin, steadyRounds, steadyPause, steadySpec)
	steady.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: c.fd}
	waitSteady := runInBackground(t, steady)
	r.steadyPid = steady.Process.Pid
	r.pid, err = workload.Run(exactBin, exactSpec)
	require.NoError(t, err)
	r.sleeperPid, r.sleeps, err = workload.RunNanosleeper(sleeperBin, sleeps, sleepUS, 0)
	require.NoError(t, err)
	waitSteady()
	t.Logf("workload pid %d, steady-workload pid %d (container %s, pod %s), nanosleeper pid %d",
		r.pid, r.steadyPid, r.containerID, r.podUID, r.sleeperPid)

	// The dashboard first: its rates look one rate interval back.
	t.Run("Dashboard", func(t *testing.T) {
		t.Run("VictoriaMetrics", func(t *testing.T) { checkDashboard(t, vm, r, vmDashboard) })
		t.Run("Prometheus3", func(t *testing.T) { checkDashboard(t, prom3, r, prometheusDashboard) })
		t.Run("Prometheus", func(t *testing.T) { checkDashboard(t, prom, r, prometheusDashboard) })
	})
	t.Run("VictoriaMetrics", func(t *testing.T) {
		checkExactCounts(t, vm, r)
		checkContainerLabels(t, vm, r)
		checkVMHistogram(t, vm, r)
	})
	t.Run("Prometheus3", func(t *testing.T) {
		checkExactCounts(t, prom3, r)
		checkContainerLabels(t, prom3, r)
		checkNativeHistogram(t, prom3, r)
		checkSameHistogram(t, prom3, vm, r)
	})
	t.Run("Prometheus", func(t *testing.T) {
		checkExactCounts(t, prom, r)
		checkContainerLabels(t, prom, r)
		checkNativeHistogram(t, prom, r)
	})
}

// checkExactCounts: the one-shot workload's exact calls and errors.
func checkExactCounts(t *testing.T, api promAPI, r run) {
	pid := fmt.Sprintf(`process_pid="%d"`, r.pid)
	api.eventually(t, `syscall_calls_total{`+pid+`,syscall_name="getppid"}`, float64(exactSpec.Getppid))
	api.eventually(t, `syscall_calls_total{`+pid+`,syscall_name="write"}`, float64(exactSpec.WriteDevNull))
	api.eventually(t, `syscall_errors_total{`+pid+`,syscall_name="openat",error_type="ENOENT"}`, float64(exactSpec.OpenMissing))
}

// checkContainerLabels: the steady workload's totals (rounds × spec)
// carry its container id, pod uid and the node name.
func checkContainerLabels(t *testing.T, api promAPI, r run) {
	sel := fmt.Sprintf(`process_pid="%d",container_id="%s",k8s_pod_uid="%s",k8s_node_name="%s"`,
		r.steadyPid, r.containerID, r.podUID, e2eNode)
	api.eventually(t, `syscall_calls_total{`+sel+`,syscall_name="getppid"}`, float64(steadyRounds*steadySpec.Getppid))
	api.eventually(t, `syscall_errors_total{`+sel+`,syscall_name="openat",error_type="ENOENT"}`, float64(steadyRounds*steadySpec.OpenMissing))
}

// checkVMHistogram: VictoriaMetrics stores an OTLP exponential histogram
// as NAME_count, NAME_sum and one NAME_bucket series per non-empty bucket,
// labelled vmrange="LOWER...UPPER".
func checkVMHistogram(t *testing.T, vm promAPI, r run) {
	pid := fmt.Sprintf(`process_pid="%d",syscall_name="getppid"`, r.pid)
	vm.eventually(t, `syscall_duration_seconds_count{`+pid+`}`, float64(exactSpec.Getppid))
	vm.eventually(t, `sum(syscall_duration_seconds_bucket{`+pid+`})`, float64(exactSpec.Getppid))
	sum, err := vm.query(`syscall_duration_seconds_sum{` + pid + `}`)
	require.NoError(t, err)
	require.Len(t, sum, 1)
	assert.Positive(t, sum[0].Value)
	t.Logf("getppid: %d calls took %.3g s in all", exactSpec.Getppid, sum[0].Value)

	// The sleeper's clock_nanosleep calls: none can land in a bucket that
	// ends below the requested length, and the median is near it. (A
	// signal, such as the Go runtime's preemption on a loaded machine, can
	// cut a sleep short; the sleeper then sleeps the rest in one more call.)
	want := float64(sleepUS) / 1e6
	sel := fmt.Sprintf(`process_pid="%d",syscall_name="clock_nanosleep"`, r.sleeperPid)
	vm.eventually(t, `syscall_duration_seconds_count{`+sel+`}`, float64(r.sleeps.Calls))
	buckets, err := vm.query(`syscall_duration_seconds_bucket{` + sel + `}`)
	require.NoError(t, err)
	require.NotEmpty(t, buckets)
	var n float64
	for _, b := range buckets {
		lo, hi, ok := strings.Cut(b.Metric["vmrange"], "...")
		require.True(t, ok, "vmrange %q", b.Metric["vmrange"])
		low, err1 := strconv.ParseFloat(lo, 64)
		high, err2 := strconv.ParseFloat(hi, 64)
		require.NoError(t, err1)
		require.NoError(t, err2)
		if r.sleeps.Calls == sleeps {
			assert.Greater(t, high, want, "%v sleeps in bucket %s, which ends below %v s", b.Value, b.Metric["vmrange"], want)
		}
		assert.InEpsilon(t, math.Pow(2, 1.0/8), high/low, 0.01, "a scale-3 bucket spans a factor 2^(1/8): %s", b.Metric["vmrange"])
		n += b.Value
	}
	assert.EqualValues(t, r.sleeps.Calls, n)
	median, err := vm.query(`histogram_quantile(0.5, sum by (vmrange) (syscall_duration_seconds_bucket{` + sel + `}))`)
	require.NoError(t, err)
	require.Len(t, median, 1)
	assert.GreaterOrEqual(t, median[0].Value, want*0.95)
	assert.Less(t, median[0].Value, want*1.5)
	t.Logf("clock_nanosleep(%v s) × %d: %d buckets, median %.4g s", want, sleeps, len(buckets), median[0].Value)
}

// checkNativeHistogram: Prometheus scrapes the exporter's native histogram
// (schema 3) and answers the native-histogram functions.
func checkNativeHistogram(t *testing.T, prom promAPI, r run) {
	pid := fmt.Sprintf(`process_pid="%d",syscall_name="getppid"`, r.pid)
	prom.eventually(t, `histogram_count(syscall_duration_seconds{`+pid+`})`, float64(exactSpec.Getppid))
	sel := fmt.Sprintf(`process_pid="%d",syscall_name="clock_nanosleep"`, r.sleeperPid)
	prom.eventually(t, `histogram_count(syscall_duration_seconds{`+sel+`})`, float64(r.sleeps.Calls))
	want := float64(sleepUS) / 1e6
	median, err := prom.query(`histogram_quantile(0.5, syscall_duration_seconds{` + sel + `})`)
	require.NoError(t, err)
	require.Len(t, median, 1)
	assert.GreaterOrEqual(t, median[0].Value, want*0.95)
	assert.Less(t, median[0].Value, want*1.5)
	t.Logf("prometheus: clock_nanosleep(%v s) × %d: median %.4g s", want, sleeps, median[0].Value)
}

// checkSameHistogram: the native histogram Prometheus 3 made of the OTLP
// exponential histogram has the count and sum VictoriaMetrics stored from
// the same exports.
func checkSameHistogram(t *testing.T, prom, vm promAPI, r run) {
	for _, sel := range []string{
		fmt.Sprintf(`process_pid="%d",syscall_name="getppid"`, r.pid),
		fmt.Sprintf(`process_pid="%d",syscall_name="clock_nanosleep"`, r.sleeperPid),
	} {
		native, err := prom.query(`histogram_sum(syscall_duration_seconds{` + sel + `})`)
		require.NoError(t, err)
		buckets, err := vm.query(`syscall_duration_seconds_sum{` + sel + `}`)
		require.NoError(t, err)
		require.Len(t, native, 1, sel)
		require.Len(t, buckets, 1, sel)
		assert.InEpsilon(t, buckets[0].Value, native[0].Value, 1e-9, "%s: the same sum in both", sel)
		t.Logf("%s: duration sum %.6g s in Prometheus 3 and %.6g s in VictoriaMetrics", sel, native[0].Value, buckets[0].Value)
	}
}
