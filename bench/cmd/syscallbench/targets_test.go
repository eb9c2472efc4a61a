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

	got = leastWork(target, results, "no such floor")
	assert.Empty(t, got.Detail, "a floor not measured says nothing")
}

func TestAgainstPeer(t *testing.T) {
	results := []*report.Result{
		{Name: floorExit, Over1: []float64{40, 42, 44}},
		{Name: bpftraceID, Over1: []float64{60, 60, 60}},
	}
	// An empty program alone: 42 / 60 = 0.70× the peer.
	target := report.Target{Goal: "x", Measured: 0.9, Limit: 0.5}
	got := againstPeer(target, results, bpftraceID, floorExit)
	assert.Equal(t, "; unreachable: the least work it needs ("+floorExit+") is 0.70× "+bpftraceID, got.Detail)

	target.Limit = 0.75
	got = againstPeer(target, results, bpftraceID, floorExit)
	assert.Equal(t, "; the least work it needs ("+floorExit+") is 0.70× "+bpftraceID, got.Detail)

	got = againstPeer(target, results, syscountP, floorExit)
	assert.Empty(t, got.Detail, "a peer not measured says nothing")
}

func TestLeastLoss(t *testing.T) {
	const ratio = "%.2f× the enter+exit floor's"
	assert.Equal(t, "unreachable: the least work it needs (the timing floor) loses 2.14× the enter+exit floor's; ",
		leastLoss("the timing floor", 12.2/5.7, 2, ratio))
	assert.Equal(t, "the least work it needs (the timing floor) loses 1.82× the enter+exit floor's; ",
		leastLoss("the timing floor", 10.4/5.7, 2, ratio))
	assert.Equal(t, "unreachable: the least work it needs (the counting floor) loses 3.6 points beyond the exit floor; ",
		leastLoss("the counting floor", 5.7-2.1, 2, "%.1f points beyond the exit floor"))
	assert.Empty(t, leastLoss("the timing floor", math.NaN(), 2, ratio), "a floor not measured")
	assert.Empty(t, leastLoss("the timing floor", math.Inf(1), 2, ratio), "an enter+exit floor that lost nothing")
}
