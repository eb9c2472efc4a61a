//go:build linux

// Package e2e runs the ocb-built collector (`make otelcol`) with the syscalls
// receiver and reads back what it exported. `make test` builds the binary
// and passes its path in OTELCOL_BIN.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed22255693/syscallsreceiver/internal/collectortest"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protodelim"

	"github.com/seed22255693/syscallsreceiver/internal/workload"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// TestCollectorExportsExactCounts runs the real collector, makes a known
// workload, and finds its exact counts both in the file exporter's output
// and on the Prometheus exporter's endpoint.
func TestCollectorExportsExactCounts(t *testing.T) {
	kerneltest.Require(t)
	bin := collectortest.Otelcol(t)
	workloadBin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "metrics.jsonl")
	prom := collectortest.FreeAddr(t)

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config", "../testdata/e2e.yaml")
	cmd.Env = append(os.Environ(), "SYSCALLS_E2E_OUT="+out, "SYSCALLS_E2E_PROM="+prom)
	logs := &collectortest.LogBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("collector output:\n%s", logs.String())
		}
	})
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "Everything is ready") },
		60*time.Second, 100*time.Millisecond, "the collector did not start:\n%s", logs.String())

	spec := workload.Spec{Getppid: 2024, OpenMissing: 42, WriteDevNull: 99}
	pid, err := workload.Run(workloadBin, spec)
	require.NoError(t, err)

	want := collectortest.WantOf(spec)
	got := collectortest.AwaitValues(t, out, pid, want)
	t.Logf("file exporter, pid %d: %v", pid, filterKeys(got, want))

	// The duration histogram reaches Prometheus as a native histogram.
	checkNativeHistogram(t, "http://"+prom+"/metrics", pid)

	// The Prometheus exporter serves the same numbers.
	body := httpGet(t, "http://"+prom+"/metrics")
	for _, line := range []string{
		fmt.Sprintf(`syscall_calls_total{.*process_pid="%d".*syscall_name="getppid".*} %d`, pid, spec.Getppid),
		fmt.Sprintf(`syscall_errors_total{error_type="ENOENT".*process_pid="%d".*syscall_name="openat".*} %d`, pid, spec.OpenMissing),
	} {
		re := regexp.MustCompile(`(?m)^` + line + `$`)
		if assert.Regexp(t, re, body) {
			t.Logf("prometheus: %s", re.FindString(body))
		}
	}
}

func filterKeys(got, want map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k := range want {
		out[k] = got[k]
	}
	return out
}

// checkNativeHistogram scrapes the Prometheus exporter in the protobuf
// format (the only one carrying native histograms) and checks pid's
// getppid duration histogram: exponential schema 3, a count of one per
// call, and a positive sum.
func checkNativeHistogram(t *testing.T, url string, pid int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	r := bufio.NewReader(resp.Body)
	for {
		var mf dto.MetricFamily
		err := protodelim.UnmarshalFrom(r, &mf)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if !strings.HasPrefix(mf.GetName(), "syscall_duration") {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["process_pid"] != strconv.Itoa(pid) || labels["syscall_name"] != "getppid" {
				continue
			}
			h := m.GetHistogram()
			require.NotNil(t, h, "%s is not a histogram", mf.GetName())
			assert.EqualValues(t, 3, h.GetSchema(), "native histogram schema = OTel scale")
			assert.EqualValues(t, 2024, h.GetSampleCount())
			assert.Positive(t, h.GetSampleSum())
			assert.NotEmpty(t, h.GetPositiveSpan(), "not a native histogram")
			t.Logf("prometheus native histogram %s{pid=%d,getppid}: count %d, sum %gs, schema %d, %d spans",
				mf.GetName(), pid, h.GetSampleCount(), h.GetSampleSum(), h.GetSchema(), len(h.GetPositiveSpan()))
			return
		}
	}
	t.Errorf("no syscall_duration native histogram for pid %d getppid", pid)
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	return string(body)
}

// TestValidateNamesTheBadKey: `otelcol validate` rejects bad configs with a
// message that names the offending key.
func TestValidateNamesTheBadKey(t *testing.T) {
	bin := collectortest.Otelcol(t)
	for file, want := range map[string]string{
		"invalid-unknown-key.yaml": "grup_by",
		"invalid-group-by.yaml":    `group_by: unknown value "pod"`,
		"invalid-interval.yaml":    "collection_interval",
		"invalid-filter.yaml":      `filter.syscalls: unknown syscall "frobnicate"`,
	} {
		t.Run(file, func(t *testing.T) {
			out, err := exec.Command(bin, "validate", "--config", filepath.Join("../testdata", file)).CombinedOutput()
			require.Error(t, err, "validate accepted %s:\n%s", file, out)
			assert.Contains(t, string(out), want)
			if file == "invalid-filter.yaml" { // every problem at once
				assert.Contains(t, string(out), "max_groups: 0 is out of range")
				assert.Contains(t, string(out), `filter.cgroups: "/no/such/cgroup" does not exist`)
			}
			t.Logf("%s", bytes.TrimSpace(out))
		})
	}
	out, err := exec.Command(bin, "validate", "--config", "../config.yaml").CombinedOutput()
	require.NoError(t, err, "the default config must be valid: %s", out)
}

// TestUnprivilegedStartFails runs the collector as nobody, without any
// capability: it must exit with one clear sentence, not a stack trace.
func TestUnprivilegedStartFails(t *testing.T) {
	kerneltest.Require(t)
	bin := collectortest.Otelcol(t)
	// A directory nobody can read, holding copies of the binary and config.
	dir, err := os.MkdirTemp("", "syscalls-e2e-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	copyFile(t, bin, filepath.Join(dir, "otelcol"), 0o755)
	copyFile(t, "../config.yaml", filepath.Join(dir, "config.yaml"), 0o644)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "otelcol"), "--config", filepath.Join(dir, "config.yaml"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the collector started without privileges:\n%s", out)
	text := string(out)
	assert.Contains(t, text, "lacks CAP_BPF and CAP_PERFMON")
	assert.Contains(t, text, "setcap cap_bpf,cap_perfmon+ep")
	assert.NotContains(t, text, "panic")
	assert.NotContains(t, text, "goroutine ")
	logLineWith(t, text, "CAP_BPF")
}

// logLineWith logs the first line of the collector's output that holds
// substr: the error a user would see.
func logLineWith(t *testing.T, out, substr string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, substr) {
			t.Logf("%s", line)
			return
		}
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, data, mode))
}

// TestOwnPIDNamespaceFails runs the collector in a new PID namespace, as a
// container without hostPID would: per-process counts would be attributed
// to the wrong pids, so Start refuses with advice.
func TestOwnPIDNamespaceFails(t *testing.T) {
	kerneltest.Require(t)
	bin := collectortest.Otelcol(t)
	unshare, err := exec.LookPath("unshare")
	require.NoError(t, err, "unshare (util-linux) is needed")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, unshare, "--pid", "--fork", "--mount-proc", bin, "--config", "../config.yaml").CombinedOutput()
	require.Error(t, err, "the collector started in its own PID namespace:\n%s", out)
	assert.Contains(t, string(out), "runs in its own PID namespace")
	assert.Contains(t, string(out), "hostPID: true")
	assert.NotContains(t, string(out), "goroutine ")
}

// TestSIGKILLLeavesNothingAttached: the programs and links are owned by the
// collector's file descriptors, so a SIGKILL leaves nothing in the kernel,
// and a restart starts clean.
func TestSIGKILLLeavesNothingAttached(t *testing.T) {
	kerneltest.Require(t)
	bin := collectortest.Otelcol(t)
	// The programs a process holds, from its file descriptors' fdinfo.
	ourPrograms := func(pid int) []int {
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fdinfo", pid))
		require.NoError(t, err)
		var ids []int
		for _, fd := range fds {
			info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(info), "\n") {
				if v, ok := strings.CutPrefix(line, "prog_id:"); ok {
					id, err := strconv.Atoi(strings.TrimSpace(v))
					require.NoError(t, err)
					if !slices.Contains(ids, id) {
						ids = append(ids, id)
					}
				}
			}
		}
		return ids
	}
	for round := range 2 {
		out := filepath.Join(t.TempDir(), "metrics.jsonl")
		cmd := exec.Command(bin, "--config", "../testdata/e2e.yaml")
		cmd.Env = append(os.Environ(), "SYSCALLS_E2E_OUT="+out, "SYSCALLS_E2E_PROM="+collectortest.FreeAddr(t))
		logs := &collectortest.LogBuffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) // if an assertion stops the round early
		require.Eventually(t, func() bool { return strings.Contains(logs.String(), "Everything is ready") },
			60*time.Second, 100*time.Millisecond, "round %d: the collector did not start:\n%s", round, logs.String())
		ids := ourPrograms(cmd.Process.Pid)
		require.Len(t, ids, 3, "round %d: the collector's programs", round)

		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
		require.Eventually(t, func() bool {
			for _, id := range ids {
				if exec.Command("bpftool", "prog", "show", "id", strconv.Itoa(id)).Run() == nil {
					return false
				}
			}
			return true
		}, 10*time.Second, 100*time.Millisecond, "round %d: programs %v outlived the SIGKILLed collector", round, ids)
		t.Logf("round %d: programs %v gone after SIGKILL", round, ids)
	}
}

// TestWithoutTracefs runs the collector in a mount namespace where tracefs
// is not mounted: forced onto classic tracepoints, which need it, it stops
// with advice; on the default hook, which does not, it counts as usual.
func TestWithoutTracefs(t *testing.T) {
	kerneltest.Require(t)
	bin := collectortest.Otelcol(t)
	unshare, err := exec.LookPath("unshare")
	require.NoError(t, err, "unshare (util-linux) is needed")
	run := func(hook string, wait func(*collectortest.LogBuffer) bool) string {
		cfg := filepath.Join(t.TempDir(), "config.yaml")
		require.NoError(t, os.WriteFile(cfg, []byte(`receivers:
  syscalls:
    collection_interval: 1s
    hook: `+hook+`
exporters:
  debug:
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [syscalls]
      exporters: [debug]
`), 0o644))
		script := `for m in /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug; do umount -l $m 2>/dev/null; done
if [ -e /sys/kernel/tracing/events/raw_syscalls ] || [ -e /sys/kernel/debug/tracing/events/raw_syscalls ]; then
  echo "could not unmount tracefs"; exit 9
fi
exec "$0" --config "$1"`
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, unshare, "--mount", "--propagation", "private", "sh", "-c", script, bin, cfg)
		var out collectortest.LogBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		for {
			select {
			case _ = <-done:
				require.NotContains(t, out.String(), "could not unmount tracefs")
				return out.String()
			case <-time.After(50 * time.Millisecond):
				if wait != nil && wait(&out) {
					_ = cmd.Process.Signal(syscall.SIGTERM)
					_ = <-done
					return out.String()
				}
			}
		}
	}

	out := run("tracepoint", nil)
	assert.Contains(t, out, "tracefs is not mounted: classic tracepoints need it")
	assert.Contains(t, out, "mount -t tracefs tracefs /sys/kernel/tracing")
	assert.NotContains(t, out, "goroutine ")
	logLineWith(t, out, "tracefs is not mounted")

	out = run("auto", func(b *collectortest.LogBuffer) bool { return strings.Contains(b.String(), `"data points"`) })
	assert.Contains(t, out, `"hook": "tp_btf"`)
	assert.Contains(t, out, `"data points"`, "no export without tracefs on the default hook")
}
