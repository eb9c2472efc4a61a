package bpf

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"sort"
	"testing"
)

// guessBound is bucket_of's start (histogram.h) in Go: the same integer
// estimate of 2^scale * log2(d), minus offset (boundGuessOffset).
func guessBound(d uint64, scale int, offset int32) int64 {
	log2 := 63 - bits.LeadingZeros64(d|1)
	frac := (d << (63 - log2)) >> (63 - scale) & (1<<scale - 1)
	start := int64(log2)<<scale + int64(frac) - int64(offset)
	if d == 0 {
		start-- // log2(0) is no number: bound 0, which only 0 ns is under
	}
	return start
}

// TestBoundGuessWithinTwoSteps: for every bound and its neighbours and for
// log-uniform durations, the index bucket_of starts from is at most 2
// below the smallest bound >= d (where it takes its two steps up), and
// never above it. With TestKernelBucketIndex, this holds for the kernel's
// code on any machine, not only on the values tried there.
func TestBoundGuessWithinTwoSteps(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for scale := range MaxDurationScale + 1 {
		_, bounds := durationBounds(scale)
		offset := boundGuessOffset(scale)
		values := []uint64{0, 1, 2, 3}
		for _, b := range bounds[1:] {
			values = append(values, b-1, b, b+1)
		}
		for range 100000 {
			values = append(values, uint64(math.Exp2(rng.Float64()*62)))
		}
		worst := 0
		for _, d := range values {
			want := sort.Search(len(bounds), func(j int) bool { return d <= bounds[j] })
			if want == len(bounds) {
				continue // past the last bound: clamped
			}
			start := max(guessBound(d, scale, offset), 0)
			if gap := int64(want) - start; gap < 0 || gap > 2 {
				t.Fatalf("scale %d, %d ns: starts at bound %d, the answer is %d", scale, d, start, want)
			} else if int(gap) > worst {
				worst = int(gap)
			}
		}
		t.Logf("scale %d: %d values, at most %d steps up", scale, len(values), worst)
	}
}
