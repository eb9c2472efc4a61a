//go:build linux && (amd64 || arm64)

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed22255693/syscallsreceiver/bench/kstats"
	"github.com/seed22255693/syscallsreceiver/bench/loop"
	"github.com/seed22255693/syscallsreceiver/bench/peer"
	"github.com/seed22255693/syscallsreceiver/bench/report"
)

// measure runs every variant once per round. Each measurement is paired with
// a baseline run just before it, so that a change of machine load between
// rounds moves both; the order of variants rotates from round to round so
// that none always follows the same neighbour.
func measure(cfg config, vs []variant) (results []*report.Result, shared, total int) {
	rounds := make([][]round, len(vs))
	failed := make([][]string, len(vs))
	waitBudget := cfg.wait
	for n := range cfg.rounds {
		for i := range vs {
			j := (i + n) % len(vs)
			start := time.Now()
			r, err := measureOnce(vs[j], &waitBudget)
			if err != nil {
				failed[j] = append(failed[j], fmt.Sprintf("round %d: %v", n+1, err))
				logf("[%d/%d] %s: FAILED, round discarded: %v", n+1, cfg.rounds, vs[j].name, err)
				continue
			}
			r.number = n + 1
			rounds[j] = append(rounds[j], r)
			total++
			if len(r.foreign) > 0 {
				shared++
			}
			kernelNote, sharedNote := "", ""
			if r.hasKernel {
				kernelNote = fmt.Sprintf(", in-kernel %.0f ns/syscall", r.kernel)
			}
			if len(r.foreign) > 0 {
				sharedNote = fmt.Sprintf(" [other programs on the syscall hooks: %v]", r.foreign)
			}
			logf("[%d/%d] %s: %+.0f ns (1 thread), %+.0f ns (all CPUs)%s  (%.1fs)%s", n+1, cfg.rounds, vs[j].name,
				r.over1, r.over2, kernelNote, time.Since(start).Seconds(), sharedNote)
		}
	}
	for i, v := range vs {
		r := summarize(v, rounds[i])
		r.Discarded = append(failed[i], r.Discarded...)
		results = append(results, r)
	}
	return results, shared, total
}

// round is one paired measurement of a variant.
type round struct {
	number                             int
	base1, base2, over1, over2, kernel float64
	hasKernel                          bool
	entries                            int      // per-process map entries, scaling variants
	foreign                            []string // other programs on the syscall hooks meanwhile
}

// summarize keeps the rounds measured with nobody else's programs on the
// syscall hooks when there are any: the others measured what a variant adds
// on top of another tool, which is less than what it costs alone.
func summarize(v variant, rounds []round) *report.Result {
	res := &report.Result{Name: v.name, Hooks: v.hooks, Floor: v.floor, N: v.n}
	clean := slices.DeleteFunc(slices.Clone(rounds), func(r round) bool { return len(r.foreign) > 0 })
	use := rounds
	if len(clean) > 0 {
		use = clean
		for _, r := range rounds {
			if len(r.foreign) > 0 {
				res.Discarded = append(res.Discarded, fmt.Sprintf("round %d: other eBPF programs were on the syscall hooks (%s)",
					r.number, strings.Join(r.foreign, ", ")))
			}
		}
	} else if len(rounds) > 0 && len(rounds[0].foreign) > 0 {
		res.Shared = true
		res.Note = fmt.Sprintf("every round ran while other eBPF programs were on the syscall hooks (%s): its overheads are understated",
			strings.Join(rounds[0].foreign, ", "))
	}
	entries := 0
	for _, r := range use {
		res.Base1 = append(res.Base1, r.base1)
		res.Base2 = append(res.Base2, r.base2)
		res.Over1 = append(res.Over1, r.over1)
		res.Over2 = append(res.Over2, r.over2)
		if r.hasKernel {
			res.Kernel = append(res.Kernel, r.kernel)
		}
		if r.entries > 0 {
			entries = r.entries
		}
	}
	if entries > 0 {
		note := fmt.Sprintf("%s groups in the maps when measured (one per exited process, plus the host's own)", report.Thousands(entries))
		res.Note = strings.TrimPrefix(res.Note+"; "+note, "; ")
	}
	return res
}

// measureOnce: baseline (1 thread, all CPUs), attach, the same two runs,
// short runs with BPF stats on, detach, then check that the tool saw every
// call the workload made while attached. Before starting, it waits (within
// the budget) for other tools' programs to leave the syscall hooks.
func measureOnce(v variant, waitBudget *time.Duration) (round, error) {
	var r round
	r.foreign = waitForQuiet(waitBudget)
	base1, err := runWorkload(nil, v.n, "1")
	if err != nil {
		return r, err
	}
	base2, err := runWorkload(nil, v.n, "all")
	if err != nil {
		return r, err
	}
	s, err := v.start()
	if err != nil {
		return r, err
	}
	runs, kernel, measured, statsOn, err := attachedRuns(s, v.n)
	counted, stopErr := s.stop()
	if err = errors.Join(err, stopErr); err != nil {
		return r, err
	}
	if v.key != nil {
		want := map[string]uint64{}
		for _, run := range runs {
			want[v.key(run)] += run.Calls
		}
		if err := peer.Counted(v.name, counted, want); err != nil {
			return r, err
		}
	}
	if statsOn {
		r.foreign = append(r.foreign, "run-time stats switched on by another process")
	}
	if len(r.foreign) == 0 {
		// Also those that came while we measured (ours are gone now,
		// a tool's links a moment after it exits).
		settle := 2 * time.Second
		r.foreign = waitForQuiet(&settle)
	}
	r.base1, r.base2 = base1.NsPerCall, base2.NsPerCall
	r.over1, r.over2 = runs[0].NsPerCall-base1.NsPerCall, runs[1].NsPerCall-base2.NsPerCall
	r.kernel, r.hasKernel = kernel, measured
	if b, ok := s.(*bpfSession); ok {
		r.entries = b.entries
	}
	return r, nil
}

// waitForQuiet waits while other programs are on the syscall hooks, taking
// the time from the budget, and returns those still there.
func waitForQuiet(budget *time.Duration) []string {
	for {
		hooks, err := kstats.SyscallHooks()
		if err != nil {
			return []string{"unknown: " + err.Error()}
		}
		if len(hooks) == 0 || *budget <= 0 {
			return hooks
		}
		time.Sleep(250 * time.Millisecond)
		*budget -= 250 * time.Millisecond
	}
}

// attachedRuns makes the wall-time runs (1 thread, all CPUs) and, for an
// eBPF variant, kernelWindows short runs with run-time stats on: in-kernel
// ns per syscall, the median over the windows (measured is false for
// strace). statsOn says that run-time stats were on during the wall-time
// runs, switched on by another process (another collector's
// program_stats, say), which adds their cost to every program run.
func attachedRuns(s session, n int) (runs []loop.Result, kernel float64, measured, statsOn bool, err error) {
	ids := s.programs()
	before := kstats.Snapshot(ids)
	for _, threads := range []string{"1", "all"} {
		r, err := runWorkload(s, n, threads)
		if err != nil {
			return runs, 0, false, false, err
		}
		runs = append(runs, r)
	}
	for id, after := range kstats.Snapshot(ids) {
		statsOn = statsOn || after.RunCount > before[id].RunCount
	}
	if ids == nil {
		return runs, 0, false, statsOn, nil
	}
	stats, err := kstats.Enable()
	if err != nil {
		return runs, 0, false, statsOn, err
	}
	defer func() { _ = stats.Close() }()
	var perWindow []float64
	for range kernelWindows {
		before := kstats.Snapshot(ids)
		r, err := runWorkload(s, max(n/20, 10_000), "1")
		after := kstats.Snapshot(ids)
		if err != nil {
			return runs, 0, false, statsOn, err
		}
		runs = append(runs, r)
		ns, ok := kstats.PerSyscall(before, after, r.Calls)
		if !ok {
			return runs, 0, false, statsOn, fmt.Errorf("no program of %v ran once per syscall of the workload: not attached", ids)
		}
		perWindow = append(perWindow, ns)
	}
	return runs, report.Median(perWindow), true, statsOn, nil
}

// kernelWindows: the kernel's run time is a mean, which an interrupt or a
// descheduled vCPU inflates; the median of short windows is steadier.
const kernelWindows = 5

// runWorkload runs the loop in a child process (this binary, "loop"
// command), wrapped by the session if any.
func runWorkload(s session, n int, threads string) (loop.Result, error) {
	self, err := os.Executable()
	if err != nil {
		return loop.Result{}, err
	}
	argv := []string{self, "loop", strconv.Itoa(n), threads}
	if s != nil {
		argv = s.command(argv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return loop.Result{}, fmt.Errorf("workload %v: %w\n%s", argv, err, stderr.Bytes())
	}
	var r loop.Result
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("workload printed %q: %w", out, err)
	}
	if s != nil {
		err = s.afterRun()
	}
	return r, err
}

// workloadMain is the child: `syscallbench loop N THREADS`, THREADS being 1
// (pinned to the last CPU we may use) or all (one thread per CPU).
func workloadMain(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: syscallbench loop N 1|all")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n <= 0 {
		return fmt.Errorf("bad N %q", args[0])
	}
	cpus, err := loop.CPUs()
	if err != nil {
		return err
	}
	if args[1] == "1" {
		cpus = cpus[len(cpus)-1:]
	}
	r, err := loop.Run(n, cpus)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}
