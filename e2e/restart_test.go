//go:build linux && (amd64 || arm64)

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/seed22255693/syscallsreceiver/internal/collectortest"
	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
	"github.com/seed22255693/syscallsreceiver/internal/workload"
)

// pinnedCollector is one run of the collector on testdata/e2e-pinned.yaml.
type pinnedCollector struct {
	cmd  *exec.Cmd
	out  string
	logs *collectortest.LogBuffer
}

func startPinned(t *testing.T, bin, pin string, duration bool) *pinnedCollector {
	t.Helper()
	c := &pinnedCollector{out: filepath.Join(t.TempDir(), "metrics.jsonl"), logs: &collectortest.LogBuffer{}}
	c.cmd = exec.Command(bin, "--config", "../testdata/e2e-pinned.yaml")
	c.cmd.Env = append(os.Environ(), "SYSCALLS_E2E_OUT="+c.out, "SYSCALLS_E2E_PIN="+pin,
		"SYSCALLS_E2E_DURATION="+strconv.FormatBool(duration))
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	require.NoError(t, c.cmd.Start())
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
		if t.Failed() {
			t.Logf("collector output:\n%s", c.logs.String())
		}
	})
	require.Eventually(t, func() bool { return strings.Contains(c.logs.String(), "Everything is ready") },
		60*time.Second, 100*time.Millisecond, "the collector did not start:\n%s", c.logs.String())
	return c
}

func (c *pinnedCollector) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(sig))
	_ = c.cmd.Wait()
}

// startTimes returns the start timestamps of pid's sum points over every
// export in the file.
func startTimes(t *testing.T, path string, pid int) map[int64]bool {
	t.Helper()
	starts := map[int64]bool{}
	collectortest.ForEachExport(t, path, func(md pmetric.Metrics) {
		for _, rm := range md.ResourceMetrics().All() {
			if v, ok := rm.Resource().Attributes().Get("process.pid"); !ok || v.Int() != int64(pid) {
				continue
			}
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					if m.Type() == pmetric.MetricTypeSum {
						for _, dp := range m.Sum().DataPoints().All() {
							starts[int64(dp.StartTimestamp())] = true
						}
					}
				}
			}
		}
	})
	return starts
}

// exportsWith counts the exports in the file that hold pid.
func exportsWith(t *testing.T, path string, pid int) (n int) {
	collectortest.ForEachExport(t, path, func(md pmetric.Metrics) {
		if collectortest.Values(md, pid) != nil {
			n++
		}
	})
	return n
}

// pinnedProgramID is the id of a program pinned under pin, by bpftool.
func pinnedProgramID(t *testing.T, pin, name string) int {
	t.Helper()
	out, err := exec.Command("bpftool", "-j", "prog", "show", "pinned", filepath.Join(pin, "progs", name)).Output()
	require.NoError(t, err, "bpftool is needed")
	var info struct{ ID int }
	require.NoError(t, json.Unmarshal(out, &info), "%s", out)
	return info.ID
}

func programExists(id int) bool {
	return exec.Command("bpftool", "prog", "show", "id", strconv.Itoa(id)).Run() == nil
}

// TestRestartKeepsCounting kills the collector (SIGKILL, then a graceful
// SIGTERM) in the middle of a workload and starts it again with the same
// pin_path: the totals are exact, made of calls before, during and after
// the gap, under the same start time; a process that exited during the gap
// is reported once. A config change then replaces the pins cleanly, and
// removing them leaves nothing in the kernel.
func TestRestartKeepsCounting(t *testing.T) {
	kerneltest.Require(t)
	bin := collectortest.Otelcol(t)
	dir := t.TempDir()
	steadyBin, err := workload.BuildSteady(dir)
	require.NoError(t, err)
	oneShotBin, err := workload.Build(dir)
	require.NoError(t, err)
	kerneltest.MountBPFFS(t)
	pin := fmt.Sprintf("/sys/fs/bpf/syscalls-e2e-%d", os.Getpid())
	t.Cleanup(func() { _ = os.RemoveAll(pin) })

	var lastExitID int
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			first := startPinned(t, bin, pin, true)
			round := workload.Spec{Getppid: 10, OpenMissing: 1, WriteDevNull: 2}
			const rounds = 40 // 100 ms apart: about 4 s
			steady := workload.SteadyCommand(steadyBin, rounds, 100*time.Millisecond, round)
			require.NoError(t, steady.Start())
			pid := steady.Process.Pid
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- steady.Wait() }()

			require.Eventually(t, func() bool { return exportsWith(t, first.out, pid) > 0 }, 30*time.Second, 100*time.Millisecond)
			first.stop(t, sig)
			before := lastGetppid(t, first.out, pid)

			// While nobody collects: the steady workload goes on, and a
			// process comes and goes.
			gap := workload.Spec{Getppid: 77, OpenMissing: 3, WriteDevNull: 5}
			gapPid, err := workload.Run(oneShotBin, gap)
			require.NoError(t, err)
			time.Sleep(500 * time.Millisecond)

			second := startPinned(t, bin, pin, true)
			require.Contains(t, second.logs.String(), "syscall counting continues from the pins")
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-ctx.Done():
				t.Fatal("the steady workload did not end")
			}
			want := map[string]int64{
				"syscall.calls/getppid":        rounds * int64(round.Getppid),
				"syscall.calls/write":          rounds * int64(round.WriteDevNull),
				"syscall.errors/openat/ENOENT": rounds * int64(round.OpenMissing),
			}
			got := collectortest.AwaitValues(t, second.out, pid, want)
			t.Logf("%v: pid %d made %d getppid, %d exported before the collector stopped; after the restart: %v",
				sig, pid, want["syscall.calls/getppid"], before, filterKeys(got, want))
			assert.Less(t, before, want["syscall.calls/getppid"], "the workload was still running at the stop")
			collectortest.AwaitValues(t, second.out, gapPid, collectortest.WantOf(gap))

			firstStarts, secondStarts := startTimes(t, first.out, pid), startTimes(t, second.out, pid)
			assert.Len(t, firstStarts, 1)
			assert.Equal(t, firstStarts, secondStarts, "the cumulative series go on: same start time")

			time.Sleep(2500 * time.Millisecond) // two more collections
			assert.Equal(t, 1, exportsWith(t, second.out, gapPid), "a process that ended in the gap is reported once")
			lastExitID = pinnedProgramID(t, pin, "syscalls_exit")
			second.stop(t, syscall.SIGTERM)
			assert.True(t, programExists(lastExitID), "the pinned programs stay attached after the collector exits")
		})
	}

	t.Run("config change", func(t *testing.T) {
		third := startPinned(t, bin, pin, false)
		assert.Contains(t, third.logs.String(), "were replaced, so the counts start again")
		assert.Eventually(t, func() bool { return !programExists(lastExitID) }, 5*time.Second, 50*time.Millisecond,
			"the old programs are gone")
		newID := pinnedProgramID(t, pin, "syscalls_exit")
		third.stop(t, syscall.SIGTERM)

		// The documented removal: unpin, and nothing stays.
		require.NoError(t, os.RemoveAll(pin))
		assert.Eventually(t, func() bool { return !programExists(newID) }, 5*time.Second, 50*time.Millisecond,
			"nothing stays loaded once the pins are removed")
	})
}

func lastGetppid(t *testing.T, path string, pid int) int64 {
	var n int64
	collectortest.ForEachExport(t, path, func(md pmetric.Metrics) {
		if v := collectortest.Values(md, pid); v != nil {
			n = v["syscall.calls/getppid"]
		}
	})
	return n
}
