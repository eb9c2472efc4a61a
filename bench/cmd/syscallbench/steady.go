//go:build linux && (amd64 || arm64)

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seed22255693/syscallsreceiver/bench/procs"
)

// steadyConfig is the steady state the targets are set for: per-process counting, a 10 s
// interval, and only the debug exporter (one log line per export), so that
// what is measured is the receiver rather than an exporter.
const steadyConfig = `receivers:
  syscalls:
    collection_interval: 10s
    group_by: [process]
exporters:
  debug:
    verbosity: basic
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [syscalls]
      exporters: [debug]
`

type steadyResult struct {
	cpuPercent float64 // of one core, over the measured window
	rssMiB     float64 // at the end of the window
	hwmMiB     float64 // peak RSS since start
	anonMiB    float64 // of rssMiB: heap, stacks (the rest is the binary and other files)
	points     int     // data points in the last export
	exports    int     // exports during the window
}

// warmupFor lets the collector make its first scrapes after the processes
// start, which read /proc for every process it has not seen yet.
const warmupFor = 15 * time.Second

// measureSteady runs the ocb-built collector with n idle processes alive
// and reads its CPU time and memory from /proc over the window. The
// processes start once the collector counts, so that it sees all their
// syscalls.
func measureSteady(bin string, n int, window time.Duration) (res steadyResult, err error) {
	dir, err := os.MkdirTemp("", "syscallbench-collector-")
	if err != nil {
		return res, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte(steadyConfig), 0o600); err != nil {
		return res, err
	}
	logPath := filepath.Join(dir, "collector.log")
	log, err := os.Create(logPath)
	if err != nil {
		return res, err
	}
	defer func() { _ = log.Close() }()
	cmd := exec.Command(bin, "--config", config)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return res, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	pid := cmd.Process.Pid

	// The first export (initial_delay 1 s) says the programs are attached.
	for deadline := time.Now().Add(time.Minute); len(exportedPoints(logPath)) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			return res, fmt.Errorf("no export within a minute:\n%s", tail(logPath))
		}
	}
	idle, err := procs.ForkIdle(n)
	defer func() {
		if killErr := idle.Kill(); err == nil {
			err = killErr
		}
	}()
	if err != nil {
		return res, err
	}
	time.Sleep(warmupFor)

	exportsBefore := len(exportedPoints(logPath))
	cpu0, err := cpuTime(pid)
	if err != nil {
		return res, fmt.Errorf("collector not running: %w\n%s", err, tail(logPath))
	}
	t0 := time.Now()
	time.Sleep(window)
	cpu1, err := cpuTime(pid)
	if err != nil {
		return res, fmt.Errorf("collector exited: %w\n%s", err, tail(logPath))
	}
	res.cpuPercent = 100 * (cpu1 - cpu0).Seconds() / time.Since(t0).Seconds()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return res, err
	}
	res.rssMiB = statusMiB(string(status), "VmRSS:")
	res.hwmMiB = statusMiB(string(status), "VmHWM:")
	res.anonMiB = statusMiB(string(status), "RssAnon:")
	points := exportedPoints(logPath)
	res.exports = len(points) - exportsBefore
	res.points = points[len(points)-1]
	if res.points < 20*n {
		return res, fmt.Errorf("the last export had %d data points, fewer than the %d of the idle processes alone", res.points, 20*n)
	}
	return res, nil
}

// cpuTime is a process's user+system CPU time, all threads included
// (fields 14 and 15 of /proc/PID/stat, in clock ticks of 1/100 s).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

func statusMiB(status, field string) float64 {
	for line := range strings.Lines(status) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// The debug exporter logs each export as {..., "data points": N}.
var dataPoints = regexp.MustCompile(`"data points": (\d+)`)

func exportedPoints(logPath string) []int {
	b, _ := os.ReadFile(logPath)
	var points []int
	for _, m := range dataPoints.FindAllSubmatch(b, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		points = append(points, n)
	}
	return points
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	return string(b[max(0, len(b)-2000):])
}
