//go:build linux && (amd64 || arm64)

package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/seed22255693/syscallsreceiver/bench/kstats"
	"github.com/seed22255693/syscallsreceiver/bench/peer"
	"github.com/seed22255693/syscallsreceiver/bench/report"
	"github.com/seed22255693/syscallsreceiver/bench/servers"
)

const (
	nothing      = "nothing attached"
	bpftraceHist = "bpftrace @[pid, id] = hist(duration)"
)

// realVariants are measured on every real workload, interleaved.
var realVariants = []string{nothing, floorExit, floorBoth, floorTimed, floorCounted, floorTimedCounted, oursProc, oursProcNoSigreturn, oursFull, oursSampled,
	oursNoClock, oursNoBucket, oursNoHistogram, bpftraceHist, syscountL}

func bpftraceHistVariant() variant {
	prog := `tracepoint:raw_syscalls:sys_enter { @s[tid] = nsecs; }
tracepoint:raw_syscalls:sys_exit /@s[tid]/ { @[pid, args->id] = hist(nsecs - @s[tid]); delete(@s[tid]); }`
	return variant{name: bpftraceHist, hooks: "tp enter+exit",
		start: startPeer(peer.Spec{Argv: []string{"bpftrace", "-e", prog}, Programs: 2, Parse: peer.ParseBpftraceMap})}
}

// realResult is one workload's throughput under each variant, by round.
type realResult struct {
	workload, unit string
	rates          map[string][]float64
	// kernel is, per eBPF variant, the ns its syscall hooks take per
	// syscall on this workload (one run with run-time stats on).
	kernel map[string]float64
	failed []string
}

// measureReal runs each real workload under each variant in turn, the
// order rotating from round to round.
func measureReal(cfg config, all []variant) []realResult {
	byName := map[string]variant{bpftraceHist: bpftraceHistVariant()}
	for _, v := range all {
		byName[v.name] = v
	}
	dir, err := os.MkdirTemp("", "syscallbench-servers-")
	if err != nil {
		return []realResult{{workload: "servers", failed: []string{err.Error()}}}
	}
	defer func() { _ = os.RemoveAll(dir) }()
	var results []realResult
	for _, start := range []func() (servers.Workload, error){
		func() (servers.Workload, error) { return servers.StartRedis(cfg.redisRequests) },
		func() (servers.Workload, error) {
			return servers.StartNginx(filepath.Join(dir, "nginx"), cfg.serverRun)
		},
		func() (servers.Workload, error) {
			return &servers.Fio{Dir: filepath.Join("/dev/shm", filepath.Base(dir)), Duration: cfg.serverRun}, nil
		},
	} {
		w, err := start()
		if err != nil {
			results = append(results, realResult{workload: "?", failed: []string{err.Error()}})
			logf("real workload failed to start: %v", err)
			continue
		}
		res := realResult{workload: w.Name(), unit: w.Unit(), rates: map[string][]float64{}}
		for round := range cfg.rounds {
			for i := range realVariants {
				name := realVariants[(i+round)%len(realVariants)]
				rate, err := runUnder(w, byName[name], name)
				if err != nil {
					res.failed = append(res.failed, fmt.Sprintf("%s, round %d: %v", name, round+1, err))
					logf("[%d/%d] %s, %s: FAILED: %v", round+1, cfg.rounds, w.Name(), name, err)
					continue
				}
				res.rates[name] = append(res.rates[name], rate)
				logf("[%d/%d] %s, %s: %.0f %s", round+1, cfg.rounds, w.Name(), name, rate, w.Unit())
			}
		}
		res.kernel = inKernel(w, byName, &res.failed)
		w.Stop()
		results = append(results, res)
	}
	return results
}

func runUnder(w servers.Workload, v variant, name string) (float64, error) {
	if name == nothing {
		return w.Run()
	}
	return whileAttached(v, name, func(session) (float64, error) { return w.Run() })
}

// whileAttached starts the variant, runs fn, and stops the variant.
func whileAttached(v variant, name string, fn func(session) (float64, error)) (float64, error) {
	if tool := toolOf(name); tool != "" {
		if _, err := exec.LookPath(tool); err != nil {
			return 0, fmt.Errorf("%s is not installed", tool)
		}
	}
	s, err := v.start()
	if err != nil {
		return 0, err
	}
	time.Sleep(200 * time.Millisecond) // let the attach settle
	got, runErr := fn(s)
	_, stopErr := s.stop()
	if runErr != nil {
		return 0, runErr
	}
	return got, stopErr
}

// inKernel runs the workload once more under each eBPF variant, with the
// kernel's run-time stats on: what its syscall hooks take per syscall on
// this workload, where caches and branch predictors are a server's, not a
// getppid loop's. Never during the throughput rounds, since the stats add
// a clock read to every program run.
func inKernel(w servers.Workload, byName map[string]variant, failed *[]string) map[string]float64 {
	out := map[string]float64{}
	stats, err := kstats.Enable()
	if err != nil {
		*failed = append(*failed, "in-kernel times: "+err.Error())
		return out
	}
	defer func() { _ = stats.Close() }()
	for _, name := range realVariants {
		if name == nothing {
			continue
		}
		ns, err := whileAttached(byName[name], name, func(s session) (float64, error) {
			ids := s.programs()
			before := kstats.Snapshot(ids)
			if _, err := w.Run(); err != nil {
				return 0, err
			}
			ns, ok := kstats.PerHookRun(before, kstats.Snapshot(ids))
			if !ok {
				return 0, fmt.Errorf("none of its programs %v ran", ids)
			}
			return ns, nil
		})
		if err != nil {
			*failed = append(*failed, fmt.Sprintf("%s, in-kernel time: %v", name, err))
			continue
		}
		out[name] = ns
		logf("%s, %s: %.0f ns per syscall in the kernel", w.Name(), name, ns)
	}
	return out
}

// loss is the median throughput lost against nothing attached, in percent.
func (r realResult) loss(name string) float64 {
	base, got := report.Median(r.rates[nothing]), report.Median(r.rates[name])
	if math.IsNaN(base) || math.IsNaN(got) || base <= 0 {
		return math.NaN()
	}
	return 100 * (1 - got/base)
}

func writeReal(out io.Writer, results []realResult, rounds int) {
	fmt.Fprintf(out, "Real workloads (server on CPU 0, load generator on CPU 1; medians of %d interleaved rounds [min…max];\n", rounds)
	fmt.Fprintln(out, "in-kernel: ns per syscall in the tool's syscall hooks, from one more run with run-time stats on):")
	fmt.Fprintf(out, "%-40s|%-52s|%30s|%8s|%13s|%17s|%14s|\n", "workload (throughput unit)", "attached", "throughput [min…max]", "loss",
		"÷ exit floor", "÷ enter+exit fl.", "in-kernel ns")
	for _, r := range results {
		for _, f := range r.failed {
			fmt.Fprintf(out, "  %s: %s\n", r.workload, f)
		}
		for _, name := range realVariants {
			rates := r.rates[name]
			if len(rates) == 0 {
				continue
			}
			lo, hi := slices.Min(rates), slices.Max(rates)
			loss := r.loss(name)
			ratio := func(floor string) string {
				if name == nothing || name == floor {
					return ""
				}
				f := r.loss(floor)
				if f <= 0 || math.IsNaN(f) {
					return "floor ≈ 0"
				}
				return fmt.Sprintf("%.2f×", loss/f)
			}
			lossText := ""
			if name != nothing {
				lossText = fmt.Sprintf("%.1f %%", loss)
			}
			cell := fmt.Sprintf("%s [%s…%s]", report.Thousands(int(report.Median(rates))), report.Thousands(int(lo)), report.Thousands(int(hi)))
			kernel := ""
			if ns, ok := r.kernel[name]; ok {
				kernel = fmt.Sprintf("%.0f", ns)
			}
			fmt.Fprintf(out, "%-40s|%-52s|%30s|%8s|%13s|%17s|%14s|\n", r.workload+" ("+r.unit+")", name, cell,
				lossText, ratio(floorExit), ratio(floorBoth), kernel)
		}
	}
}

// realTargets are the throughput targets on real servers (redis, nginx).
func realTargets(results []realResult) []report.Target {
	var ts []report.Target
	for _, r := range results {
		if r.unit != "requests/s" {
			continue
		}
		both, exit := r.loss(floorBoth), r.loss(floorExit)
		def, proc, hist := r.loss(oursFull), r.loss(oursProc), r.loss(bpftraceHist)
		// A per-process histogram needs the clock reads and one hash add.
		timedCounted := r.loss(floorTimedCounted)
		const least = "the timed counting floor"
		detail := fmt.Sprintf("losses: default %.1f %%, sampled 1/16 %.1f %%, calls+errors %.1f %% (%.1f %% sigreturns uncounted), exit floor %.1f %%, enter+exit floor %.1f %%, timing floor %.1f %%, counting floor %.1f %%, timed counting floor %.1f %%, bpftrace hist %.1f %%",
			def, r.loss(oursSampled), proc, r.loss(oursProcNoSigreturn), exit, both, r.loss(floorTimed), r.loss(floorCounted), timedCounted, hist)
		ts = append(ts,
			lossTarget(r.workload+": default loss ≤ 2× enter+exit floor's", def/both, 2, " ×",
				leastLoss(least, timedCounted/both, 2, def/both, "%.2f× the enter+exit floor's")+detail, both),
			lossTarget(r.workload+": calls+errors ≤ exit floor + 2 points", proc-exit, 2, " points",
				leastLoss("the counting floor", r.loss(floorCounted)-exit, 2, proc-exit, "%.1f points beyond the exit floor")+detail, 1),
			// The same without the sys_enter program that exact sigreturn
			// counts need: what the exit program alone adds.
			lossTarget(r.workload+": calls+errors, sigreturns uncounted ≤ exit floor + 2 points",
				r.loss(oursProcNoSigreturn)-exit, 2, " points", detail, 1),
			lossTarget(r.workload+": default loss ≤ 0.5× bpftrace hist's", def/hist, 0.5, " ×",
				leastLoss(least, timedCounted/hist, 0.5, def/hist, "%.2f× bpftrace hist's")+detail, hist))
	}
	return ts
}

// leastLoss says what the floors of the least work a target needs (the
// timing floor: two clock reads and nothing else; the counting floor: one
// per-process hash add) measure in the target's own terms, as format
// prints it: beyond limit, no program doing that work can meet the target.
func leastLoss(floor string, least, limit, measured float64, format string) string {
	if math.IsNaN(least) || math.IsInf(least, 0) {
		return ""
	}
	return fmt.Sprintf("%s (%s) loses "+format+"; ", leastWorkVerdict(least, limit, measured), floor, least)
}

// lossTarget is inconclusive when the yardstick's loss is within noise.
func lossTarget(goal string, measured, limit float64, unit, detail string, yardstick float64) report.Target {
	return report.Target{Goal: goal, Measured: measured, Limit: limit, Unit: unit, Detail: detail,
		Kernel: math.NaN(), Inconclusive: math.IsNaN(measured) || yardstick < 1}
}
