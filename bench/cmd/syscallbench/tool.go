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

// toolRun is one way to run a command: bare, under our syscalls -c, or
// under strace -c -f.
type toolRun struct {
	name   string
	prefix []string
}

// measureTool runs `dd bs=512` (two syscalls per block) and `true` bare,
// under the syscalls tool and under strace, interleaved, and returns the
// wall times in seconds by run and command. `true` gives each tool's fixed
// cost (for ours, loading the programs), dd minus true its cost per call.
func measureTool(tool string, rounds, blocks int) (map[string]map[string][]float64, []toolRun) {
	runs := []toolRun{
		{"bare", nil},
		{"syscalls -c", []string{tool, "-c", "-o", os.DevNull, "--"}},
		{"strace -c -f", []string{"strace", "-c", "-f", "-o", os.DevNull, "--"}},
	}
	commands := map[string][]string{
		"dd":   {"dd", "if=/dev/zero", "of=/dev/null", "bs=512", fmt.Sprintf("count=%d", blocks)},
		"true": {"true"},
	}
	times := map[string]map[string][]float64{}
	for n := range rounds {
		for i := range runs {
			r := runs[(i+n)%len(runs)]
			if times[r.name] == nil {
				times[r.name] = map[string][]float64{}
			}
			for _, c := range []string{"dd", "true"} {
				args := append(append([]string{}, r.prefix...), commands[c]...)
				start := time.Now()
				out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
				took := time.Since(start).Seconds()
				if err != nil {
					logf("[%d/%d] %s %s: FAILED, round discarded: %v: %s", n+1, rounds, r.name, c, err, out)
					continue
				}
				times[r.name][c] = append(times[r.name][c], took)
				logf("[%d/%d] %s %s: %.3f s", n+1, rounds, r.name, c, took)
			}
		}
	}
	return times, runs
}

// writeToolCost prints, for each way, the median wall time of dd, the
// fixed cost (true, minus bare true) and the cost per syscall (dd minus
// true, minus bare's), and how the two tools compare.
func writeToolCost(out io.Writer, tool string, rounds, blocks int) {
	if _, err := os.Stat(tool); err != nil {
		fmt.Fprintf(out, "The syscalls tool against strace: not measured (%s missing: run `make tool`)\n", tool)
		return
	}
	times, runs := measureTool(tool, rounds, blocks)
	calls := float64(2 * blocks)
	fmt.Fprintf(out, "The syscalls tool against strace on a command: dd bs=512 count=%s (%s syscalls) and true, wall time, medians of %d interleaved rounds:\n",
		group(blocks), group(2*blocks), rounds)
	bareDD, bareTrue := report.Median(times["bare"]["dd"]), report.Median(times["bare"]["true"])
	perCall := map[string]float64{}
	for _, r := range runs {
		dd, tr := report.Median(times[r.name]["dd"]), report.Median(times[r.name]["true"])
		perCall[r.name] = ((dd - tr) - (bareDD - bareTrue)) / calls * 1e9
		perCallText := "+" + num(perCall[r.name]) + " ns"
		if r.name != "bare" && perCall[r.name] < 1000 {
			// Loading the programs takes tenths of a second and varies
			// by more than the calls' whole cost.
			perCallText = "below the noise of the fixed cost"
		}
		fmt.Fprintf(out, "  %-14s dd %8.3f s (%6.2f× bare)   fixed +%6.3f s   per syscall %s\n",
			r.name, dd, dd/bareDD, tr-bareTrue, perCallText)
	}
	if ours, theirs := report.Median(times["syscalls -c"]["dd"]), report.Median(times["strace -c -f"]["dd"]); ours > 0 {
		fmt.Fprintf(out, "  strace -c -f takes %.1f× the syscalls tool's wall time on this dd\n", theirs/ours)
	}
}
