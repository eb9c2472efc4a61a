//go:build linux && (amd64 || arm64)

package main

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/seed22255693/syscallsreceiver/bench/report"
)

// The verdict "unreachable" is the benchmark's own reasoning: it must say
// so exactly when the floors of the least work exceed the limit.
func TestLeastWork(t *testing.T) {
	results := []*report.Result{
		{Name: floorBoth, Over1: []float64{40, 40, 40}},
		{Name: floorTimed, Over1: []float64{90, 90, 90}},   // +50 over the empty programs
		{Name: floorCounted, Over1: []float64{50, 50, 50}}, // +10
	}
	// 40 + 50 + 10 = 100 ns: 2.5× the empty programs' 40.
	target := report.Target{Goal: "x", Measured: 3, Limit: 2}
	got := leastWork(target, results, floorTimed, floorCounted)
	assert.Equal(t, "; unreachable: the least work it needs ("+floorTimed+" + "+floorCounted+") is 2.50× the floor", got.Detail)

	target.Limit = 3
	got = leastWork(target, results, floorTimed, floorCounted)
	assert.Contains(t, got.Detail, "; the least work it needs (")
	assert.NotContains(t, got.Detail, "unreachable")

	// The target met though its floors read past the limit.
	target.Limit, target.Measured = 2, 1.9
	got = leastWork(target, results, floorTimed, floorCounted)
	assert.Equal(t, "; within noise, measured above ours: the least work it needs ("+floorTimed+" + "+floorCounted+") is 2.50× the floor", got.Detail)

	got = leastWork(target, results, "no such floor")
	assert.Empty(t, got.Detail, "a floor not measured says nothing")
}

func TestAgainstPeer(t *testing.T) {
	results := []*report.Result{
		{Name: floorExit, Over1: []float64{40, 42, 44}},
		{Name: floorBoth, Over1: []float64{50, 50, 50}},
		{Name: floorTimed, Over1: []float64{80, 80, 80}},   // +30 over the empty programs
		{Name: floorCounted, Over1: []float64{55, 55, 55}}, // +5
		{Name: bpftraceID, Over1: []float64{60, 60, 60}},
		{Name: syscountL, Over1: []float64{100, 100, 100}},
	}
	// An empty program alone: 42 / 60 = 0.70× the peer.
	target := report.Target{Goal: "x", Measured: 0.9, Limit: 0.5}
	got := againstPeer(target, results, bpftraceID, floorExit)
	assert.Equal(t, "; unreachable: the least work it needs ("+floorExit+") is 0.70× "+bpftraceID, got.Detail)

	target.Limit = 0.75
	got = againstPeer(target, results, bpftraceID, floorExit)
	assert.Equal(t, "; the least work it needs ("+floorExit+") is 0.70× "+bpftraceID, got.Detail)

	// Both empty programs: 50 / 60.
	got = againstPeer(target, results, bpftraceID, floorBoth)
	assert.Equal(t, "; unreachable: the least work it needs ("+floorBoth+") is 0.83× "+bpftraceID, got.Detail)

	// The floors add up over the empty programs: 50 + 30 + 5 = 85 ns,
	// 0.85× the peer's 100.
	target.Limit = 0.7
	got = againstPeer(target, results, syscountL, floorTimed, floorCounted)
	assert.Equal(t, "; unreachable: the least work it needs ("+floorTimed+" + "+floorCounted+") is 0.85× "+syscountL, got.Detail)

	got = againstPeer(target, results, syscountP, floorExit)
	assert.Empty(t, got.Detail, "a peer not measured says nothing")
	got = againstPeer(target, results[2:], bpftraceID, floorTimed)
	assert.Empty(t, got.Detail, "without the empty programs, no floor is known")
}

// On a real server the default mode's least work is the timed counting
// floor: the clock reads and one per-process hash add, in one program.
func TestRealTargetsOnTheTimedCountingFloor(t *testing.T) {
	r := realResult{workload: "redis", unit: "requests/s", rates: map[string][]float64{
		nothing:           {100, 100, 100},
		floorExit:         {97, 97, 97},
		floorBoth:         {92, 92, 92}, // 8 % lost
		floorTimed:        {86, 86, 86},
		floorCounted:      {90, 90, 90},
		floorTimedCounted: {82, 82, 82}, // 18 %
		oursFull:          {80, 80, 80},
		oursProc:          {88, 88, 88},
		bpftraceHist:      {60, 60, 60}, // 40 %
	}}
	byGoal := map[string]report.Target{}
	for _, target := range realTargets([]realResult{r}) {
		byGoal[target.Goal] = target
	}
	vsFloor := byGoal["redis: default loss ≤ 2× enter+exit floor's"]
	assert.InDelta(t, 20.0/8, vsFloor.Measured, 1e-9)
	// 18 / 8 = 2.25: past the limit of 2 before any work of ours.
	assert.Contains(t, vsFloor.Detail, "unreachable: the least work it needs (the timed counting floor) loses 2.25× the enter+exit floor's")
	vsPeer := byGoal["redis: default loss ≤ 0.5× bpftrace hist's"]
	assert.InDelta(t, 20.0/40, vsPeer.Measured, 1e-9)
	// 18 / 40 = 0.45: reachable.
	assert.Contains(t, vsPeer.Detail, "the least work it needs (the timed counting floor) loses 0.45× bpftrace hist's")
	assert.NotContains(t, vsPeer.Detail, "unreachable")
}

func TestLeastLoss(t *testing.T) {
	const ratio = "%.2f× the enter+exit floor's"
	assert.Equal(t, "unreachable: the least work it needs (the timing floor) loses 2.14× the enter+exit floor's; ",
		leastLoss("the timing floor", 12.2/5.7, 2, 2.5, ratio))
	assert.Equal(t, "the least work it needs (the timing floor) loses 1.82× the enter+exit floor's; ",
		leastLoss("the timing floor", 10.4/5.7, 2, 2.5, ratio))
	assert.Equal(t, "unreachable: the least work it needs (the counting floor) loses 3.6 points beyond the exit floor; ",
		leastLoss("the counting floor", 5.7-2.1, 2, 4, "%.1f points beyond the exit floor"))
	// Met, though its floor read past the limit: noise, not unreachable.
	assert.Equal(t, "within noise, measured above ours: the least work it needs (the timing floor) loses 2.14× the enter+exit floor's; ",
		leastLoss("the timing floor", 12.2/5.7, 2, 1.9, ratio))
	assert.Empty(t, leastLoss("the timing floor", math.NaN(), 2, 1, ratio), "a floor not measured")
	assert.Empty(t, leastLoss("the timing floor", math.Inf(1), 2, 1, ratio), "an enter+exit floor that lost nothing")
}
