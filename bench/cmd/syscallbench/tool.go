//go:build linux && (amd64 || arm64)

package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/seed22255693/syscallsreceiver/bench/report"
)

// toolRun is one way to run the syscall-heavy command: bare, under our
// syscalls -c, or under strace -c -f.
type toolRun struct {
	name   string
	prefix []string
}

// measureTool runs `dd bs=512` (two syscalls per block) bare, under the
// syscalls tool and under strace, interleaved, and returns the wall times
// in seconds by run name. The tool's time includes loading its programs.
func measureTool(tool string, rounds, blocks int) (map[string][]float64, []toolRun) {
	runs := []toolRun{
		{"bare", nil},
		{"syscalls -c", []string{tool, "-c", "-o", os.DevNull, "--"}},
		{"strace -c -f", []string{"strace", "-c", "-f", "-o", os.DevNull, "--"}},
	}
	dd := []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=512", fmt.Sprintf("count=%d", blocks)}
	times := map[string][]float64{}
	for n := range rounds {
		for i := range runs {
			r := runs[(i+n)%len(runs)]
			args := append(append([]string{}, r.prefix...), dd...)
			start := time.Now()
			out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
			took := time.Since(start).Seconds()
			if err != nil {
				logf("[%d/%d] %s: FAILED, round discarded: %v: %s", n+1, rounds, r.name, err, out)
				continue
			}
			times[r.name] = append(times[r.name], took)
			logf("[%d/%d] %s: %.3f s", n+1, rounds, r.name, took)
		}
	}
	return times, runs
}

// writeToolCost prints each way's median wall time and its ratio to bare.
func writeToolCost(out io.Writer, tool string, rounds, blocks int) {
	if _, err := os.Stat(tool); err != nil {
		fmt.Fprintf(out, "The syscalls tool against strace: not measured (%s missing: run `make tool`)\n", tool)
		return
	}
	times, runs := measureTool(tool, rounds, blocks)
	fmt.Fprintf(out, "The syscalls tool against strace: dd bs=512 count=%s (%s syscalls), wall time, median of %d interleaved rounds:\n",
		group(blocks), group(2*blocks), rounds)
	bare := times["bare"]
	for _, r := range runs {
		ts := times[r.name]
		if len(ts) == 0 {
			fmt.Fprintf(out, "  %-14s failed\n", r.name)
			continue
		}
		fmt.Fprintf(out, "  %-14s %7.3f s  %6.2f× bare\n", r.name, report.Median(ts), report.Ratio(ts, bare))
	}
	if ours, theirs := times["syscalls -c"], times["strace -c -f"]; len(ours) > 0 && len(theirs) > 0 {
		fmt.Fprintf(out, "  strace -c -f takes %.1f× the syscalls tool's time (its time includes loading the programs)\n",
			report.Ratio(theirs, ours))
	}
}
