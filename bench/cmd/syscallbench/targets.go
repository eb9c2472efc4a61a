//go:build linux && (amd64 || arm64)

package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/seed22255693/syscallsreceiver/bench/report"
)

// leastWorkNs is what the floors of some work cost together, in ns added
// per syscall: the empty programs once, plus what each floor adds to them
// (a floor on one hook alone, such as the empty sys_exit, counts as
// itself). false when a floor was not measured.
func leastWorkNs(results []*report.Result, floors ...string) (float64, bool) {
	empty := report.Find(results, floorBoth)
	if empty == nil || len(empty.Over1) == 0 || len(floors) == 0 {
		return 0, false
	}
	base := report.Median(empty.Over1)
	least := base
	for _, name := range floors {
		f := report.Find(results, name)
		if f == nil || len(f.Over1) == 0 {
			return 0, false
		}
		least += report.Median(f.Over1) - base
	}
	return least, true
}

// leastWork adds to a target on the enter+exit floor what the floors of
// the least work it needs cost together. When that alone exceeds the
// limit, no program doing the work can meet it, and the detail says so.
func leastWork(t report.Target, results []*report.Result, floors ...string) report.Target {
	least, ok := leastWorkNs(results, floors...)
	if !ok || math.IsNaN(t.Measured) {
		return t
	}
	ratio := least / report.Median(report.Find(results, floorBoth).Over1)
	t.Detail += fmt.Sprintf("; %s (%s) is %.2f× the floor", leastWorkVerdict(ratio, t.Limit, t.Measured), strings.Join(floors, " + "), ratio)
	return t
}

// againstPeer adds to a target on a peer what the floors of the least work
// it needs cost together (see leastWorkNs) against that same peer. An exact
// count needs both hooks: sys_exit for errors and for the number a call
// returns with, sys_enter for sigreturns (and execve's entry ABI); a
// duration also needs the two clock reads. When the floors alone exceed the
// limit, the detail says so.
func againstPeer(t report.Target, results []*report.Result, peer string, floors ...string) report.Target {
	p := report.Find(results, peer)
	least, ok := leastWorkNs(results, floors...)
	if p == nil || len(p.Over1) == 0 || !ok || math.IsNaN(t.Measured) {
		return t
	}
	ratio := least / report.Median(p.Over1)
	t.Detail += fmt.Sprintf("; %s (%s) is %.2f× %s", leastWorkVerdict(ratio, t.Limit, t.Measured), strings.Join(floors, " + "), ratio, peer)
	return t
}

// leastWorkVerdict names the least work a target needs, and says when what
// it measures alone already exceeds the target's limit (unless the target
// was met all the same: then the floor's own noise is the news, and the
// verdict says so).
func leastWorkVerdict(least, limit, measured float64) string {
	switch {
	case least > limit && measured > limit:
		return "unreachable: the least work it needs"
	case least > measured:
		return "within noise, measured above ours: the least work it needs"
	}
	return "the least work it needs"
}

func targets(cfg config, results []*report.Result, bench map[string]map[string][]float64, steady *steadyResult, steadyWhy string) []report.Target {
	ts := []report.Target{
		report.RatioTarget("system-wide calls ≤ 1.25× floor", results, oursSystem, floorBoth, 1.25),
		againstPeer(report.RatioTarget("system-wide calls ≤ 0.5× bpftrace by id", results, oursSystem, bpftraceID, 0.5),
			results, bpftraceID, floorBoth),
		againstPeer(report.RatioTarget("per process calls+errors ≤ 0.6× syscount -P", results, oursProc, syscountP, 0.6),
			results, syscountP, floorCounted),
		againstPeer(report.RatioTarget("per process calls+errors ≤ 0.6× bpftrace @[pid, id] = count()", results, oursProc, bpftracePidID, 0.6),
			results, bpftracePidID, floorCounted),
		againstPeer(report.RatioTarget("full (duration histogram) ≤ 0.7× syscount -L", results, oursFull, syscountL, 0.7),
			results, syscountL, floorTimedCounted),
		leastWork(report.RatioTarget("per process calls+errors ≤ 1.5× floor", results, oursProc, floorBoth, 1.5),
			results, floorCounted),
		leastWork(report.RatioTarget("default (duration histogram) ≤ 2.5× enter+exit floor", results, oursFull, floorBoth, 2.5),
			results, floorTimedCounted),
	}
	scale := report.RatioTarget(fmt.Sprintf("per process: %s vs 10 processes in map ≤ 1.15× (no growth)", group(cfg.procs)),
		results, oursProcs(cfg.procs), oursProcs(10), 1.15)
	ts = append(ts, scale)

	emit := bench["BenchmarkEmit10kSeries"]
	ms := unmeasured("10,000 series → pdata < 5 ms", "no Go benchmark output (-gobench)")
	ms.Limit, ms.Strict, ms.Unit = 5, true, " ms"
	allocs := unmeasured("10,000 series → pdata < 2 allocs/point", ms.Detail)
	allocs.Limit, allocs.Strict = 2, true
	// The floor pdata's data model sets: what its own deep copy of the
	// same metrics allocates per point.
	vsCopy := unmeasured("10,000 series → pdata allocs ≤ 1.1× pdata's own copy", ms.Detail)
	vsCopy.Limit, vsCopy.Unit = 1.1, "×"
	if emit != nil {
		ms.Measured = report.Median(emit["ns/op"]) / 1e6
		ms.Detail = fmt.Sprintf("median of %d go test -bench runs; %s B/op", len(emit["ns/op"]), num(report.Median(emit["B/op"])))
		allocs.Measured = report.Median(emit["allocs/point"])
		allocs.Detail = fmt.Sprintf("%s allocs/op", num(report.Median(emit["allocs/op"])))
		if floor := report.Median(emit["copy-allocs/point"]); floor > 0 {
			why := "pdata's own CopyTo of these metrics makes"
			if floor >= allocs.Limit {
				why = "unreachable: " + why
			}
			allocs.Detail += fmt.Sprintf("; %s %.2f per point", why, floor)
			vsCopy.Measured = allocs.Measured / floor
			vsCopy.Detail = fmt.Sprintf("%.2f vs %.2f allocs/point", allocs.Measured, floor)
		}
	}
	cpu := unmeasured(fmt.Sprintf("collector, %s live processes, 10 s interval: < 1%% of a core", group(cfg.steadyProcs)), steadyWhy)
	cpu.Limit, cpu.Strict, cpu.Unit = 1, true, " %"
	rss := unmeasured("collector steady state: RSS < 80 MiB (peak)", steadyWhy)
	rss.Limit, rss.Strict, rss.Unit = 80, true, " MiB"
	if steady != nil {
		cpu.Measured = steady.cpuPercent
		cpu.Detail = fmt.Sprintf("utime+stime over %s, %d exports of %s data points", cfg.steadyWindow, steady.exports, group(steady.points))
		rss.Measured = steady.hwmMiB
		rss.Detail = fmt.Sprintf("VmHWM; VmRSS %.1f MiB at the end, of which %.1f MiB anonymous (heap), the rest the binary's pages",
			steady.rssMiB, steady.anonMiB)
	}
	return append(ts, ms, allocs, vsCopy, cpu, rss)
}
