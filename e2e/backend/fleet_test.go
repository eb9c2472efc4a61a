//go:build linux

package backend

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/internal/collectortest"
	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
	"github.com/seed22255693/syscallsreceiver/internal/workload"
)

// The fleet: agents on loopback stand for nodes, two loopback addresses
// behind one DNS name for a headless Service's gateway pods.
const (
	fleetNodes   = 3
	gatewaysName = "gateways.test"
	fleetRounds  = 24 // steady-workload rounds, fleetPause apart: ~12 s of load
	fleetPause   = 500 * time.Millisecond
)

// agentRetried is what the exporter logs when an export failed and goes
// back to its queue.
const agentRetried = "Will retry the request after interval"

// TestFleet runs the fleet path of deploy/fleet with the ocb-built
// collector: three agents (each counting its own container's cgroup, each
// with its own k8s.node.name) send OTLP/gRPC round-robin to two gateways,
// which batch and forward to VictoriaMetrics. Mid-run, one gateway stops
// (SIGSTOP: exports to it hang) while it holds points it has accepted but
// not yet forwarded, then dies (SIGKILL: those exports fail, and the points
// it held are gone). The agents retry on the other gateway, and since the
// sums are cumulative, the next export that gets through carries what the
// lost ones did: the backend ends with each node's exact totals.
func TestFleet(t *testing.T) {
	kerneltest.Require(t)
	otelcol := collectortest.Binary(t, "OTELCOL_BIN", defaultOtelcol)
	steadyBin, err := workload.BuildSteady(t.TempDir())
	require.NoError(t, err)
	vm := startVictoriaMetrics(t)

	// The gateways: one port on two loopback addresses, one name for both.
	_, port, err := net.SplitHostPort(collectortest.FreeAddr(t))
	require.NoError(t, err)
	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")}
	dns := startDNS(t, gatewaysName, addrs...)
	var gateways []*collector
	for i, a := range addrs {
		gw := startCollector(t, fmt.Sprintf("gateway-%d", i), otelcol,
			[]string{"--config", filepath.Join(collectortest.RepoRoot(), "deploy", "fleet", "gateway.yaml")},
			"GATEWAY_LISTEN="+net.JoinHostPort(a.String(), port),
			"BACKEND_OTLP="+vm.base+"/opentelemetry/v1/metrics",
			"HEALTH_ENDPOINT="+collectortest.FreeAddr(t))
		gateways = append(gateways, gw)
	}

	// The agents, each counting only its node's container, every second.
	containers := make([]container, fleetNodes)
	specs := make([]workload.Spec, fleetNodes)
	var agents []*collector
	for i := range containers {
		containers[i] = fakeContainer(t)
		specs[i] = workload.Spec{Getppid: 100 * (i + 1), OpenMissing: i + 1, WriteDevNull: 7}
		agents = append(agents, startCollector(t, fmt.Sprintf("agent-%d", i), otelcol, []string{
			"--config", filepath.Join(collectortest.RepoRoot(), "deploy", "fleet", "agent.yaml"),
			"--config", "yaml:receivers::syscalls::collection_interval: 1s",
			"--config", "yaml:receivers::syscalls::filter::cgroups: [" + containers[i].path + "]",
			"--config", "yaml:processors::batch::timeout: 200ms",
		}, fmt.Sprintf("NODE_NAME=node-%d", i), "GATEWAYS=dns://"+dns+"/"+gatewaysName+":"+port))
	}

	var waits []func()
	for i, c := range containers {
		cmd := workload.SteadyCommand(steadyBin, fleetRounds, fleetPause, specs[i])
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: c.fd}
		waits = append(waits, runInBackground(t, cmd))
	}

	// Both gateways take a share, then one fails while it holds points.
	for _, gw := range gateways {
		gw.awaitTelemetry(t, "otelcol_receiver_accepted_metric_points", func(v float64) bool { return v > 0 })
	}
	victim, survivor := gateways[0], gateways[1]
	var accepted, sent float64
	victim.svc.waitFor(t, "points accepted but not yet forwarded", 10*time.Second, func() bool {
		accepted, sent = victim.telemetry(t, "otelcol_receiver_accepted_metric_points"), victim.telemetry(t, "otelcol_exporter_sent_metric_points")
		return accepted > sent
	})
	require.NoError(t, victim.svc.cmd.Process.Signal(syscall.SIGSTOP))
	t.Logf("%s stopped holding %v of the %v points it accepted", victim.svc.name, accepted-sent, accepted)
	time.Sleep(2 * time.Second)
	require.NoError(t, victim.svc.cmd.Process.Kill())
	<-victim.svc.done
	before := survivor.telemetry(t, "otelcol_receiver_accepted_metric_points")
	t.Logf("%s killed; %s had accepted %v points", victim.svc.name, survivor.svc.name, before)

	for _, wait := range waits {
		wait()
	}
	for i, c := range containers {
		sel := fmt.Sprintf(`k8s_node_name="node-%d",container_id="%s"`, i, c.id)
		vm.eventually(t, `syscall_calls_total{`+sel+`,syscall_name="getppid"}`, float64(fleetRounds*specs[i].Getppid))
		vm.eventually(t, `syscall_errors_total{`+sel+`,syscall_name="openat",error_type="ENOENT"}`, float64(fleetRounds*specs[i].OpenMissing))
		vm.eventually(t, `syscall_calls_total{`+sel+`,syscall_name="write"}`, float64(fleetRounds*specs[i].WriteDevNull))
	}
	assert.Greater(t, survivor.telemetry(t, "otelcol_receiver_accepted_metric_points"), before,
		"the agents went on through %s", survivor.svc.name)
	retried := 0
	for _, a := range agents {
		// Retried, never given up on: nothing failed for good, nothing
		// was refused by a full queue.
		assert.Zero(t, a.telemetry(t, "otelcol_exporter_send_failed_metric_points"), a.svc.name)
		assert.Zero(t, a.telemetry(t, "otelcol_exporter_enqueue_failed_metric_points"), a.svc.name)
		if strings.Contains(a.svc.logs.String(), agentRetried) {
			retried++
		}
	}
	assert.Positive(t, retried, "no agent had an export in flight to the gateway that died")
	t.Logf("%d of %d agents retried an export that failed on %s", retried, len(agents), victim.svc.name)
}

// collector is an ocb-built collector serving its own metrics
// (service.telemetry, Prometheus format) on loopback.
type collector struct {
	svc       *service
	telemetry func(t *testing.T, name string) float64
}

// startCollector starts a collector whose config reads TELEMETRY_HOST and
// TELEMETRY_PORT for its own metrics, and waits until it is ready.
func startCollector(t *testing.T, name, bin string, args []string, env ...string) *collector {
	t.Helper()
	host, port, err := net.SplitHostPort(collectortest.FreeAddr(t))
	require.NoError(t, err)
	svc := startService(t, name, bin, args, append(env, "TELEMETRY_HOST="+host, "TELEMETRY_PORT="+port)...)
	svc.waitReady(t)
	url := "http://" + net.JoinHostPort(host, port) + "/metrics"
	return &collector{svc: svc, telemetry: func(t *testing.T, metric string) float64 {
		t.Helper()
		v, err := scrapeSum(url, metric)
		require.NoError(t, err, "%s's own metrics", name)
		return v
	}}
}

// awaitTelemetry polls one of the collector's own metrics until ok.
func (c *collector) awaitTelemetry(t *testing.T, metric string, ok func(float64) bool) {
	t.Helper()
	var v float64
	c.svc.waitFor(t, metric, 30*time.Second, func() bool {
		v = c.telemetry(t, metric)
		return ok(v)
	})
	t.Logf("%s: %s = %v", c.svc.name, metric, v)
}

// scrapeSum is the sum over every series of a counter (with or without
// its _total suffix) in a Prometheus text exposition; 0 if it has none.
func scrapeSum(url, metric string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, rest, ok := strings.Cut(line, "{")
		if !ok {
			name, rest, ok = strings.Cut(line, " ")
		} else {
			_, rest, ok = strings.Cut(rest, "} ")
		}
		if !ok || (name != metric && name != metric+"_total") {
			continue
		}
		value, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q: %v", url, line, err)
		}
		sum += v
	}
	return sum, sc.Err()
}
