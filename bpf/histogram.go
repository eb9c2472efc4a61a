package bpf

import (
	"math"
	"math/big"
)

// Duration histograms are OTel base-2 exponential histograms of seconds:
// bucket i holds (2^(i/2^scale), 2^((i+1)/2^scale)] s.
const (
	// MaxDurationScale is the finest scale the kernel supports: 8 buckets
	// per doubling (about ±4.5 %).
	MaxDurationScale = 3
	// The bounds span 2^-30 s (under 1 ns) to 2^22 s (48 days); longer
	// syscalls land in the last bucket.
	lowestOctave  = -30
	highestOctave = 22
)

// The kernel's duration_bounds (MaxDurationBounds, from syscalls.h) must
// hold the bounds of the finest scale: else this does not compile.
var _ [MaxDurationBounds - ((highestOctave-lowestOctave)<<MaxDurationScale + 1)]struct{}

// Its array, DurationBoundSlots long, holds them, and the rest is filled
// with a bound no duration passes.
var _ [DurationBoundSlots - MaxDurationBounds]struct{}

// durationBounds returns the bucket bounds the kernel compares durations
// (integer ns) with: bounds[j] = floor(1e9 * 2^(k/2^scale)) for
// k = first+j. For an integer d, d <= bounds[j] exactly when d/1e9 <=
// 2^(k/2^scale), so the kernel's bucket is exact.
func durationBounds(scale int) (first int32, bounds []uint64) {
	perOctave := 1 << scale
	first = int32(lowestOctave * perOctave)
	last := int32(highestOctave * perOctave)
	for k := first; k <= last; k++ {
		bounds = append(bounds, boundNs(k, scale))
	}
	return first, bounds
}

// boundGuessOffset is what the kernel's bucket_of subtracts from its
// estimate g of y = 2^scale * log2(d) to start searching the bounds. g <= y
// < g + 1.69, and the bound index wanted is ceil(y - P) - first with P =
// 2^scale * log2(1e9), irrational: with c = floor(P) < P, y - P lies in
// (g-c-1, g-c+1.69), so the index lies in [g-c-first, g-c-first+2].
// Starting at g - (c+first), two steps up always reach it.
func boundGuessOffset(scale int) int32 {
	first, _ := durationBounds(scale)
	c := int32(math.Floor(math.Ldexp(math.Log2(1e9), scale)))
	return c + first
}

// boundNs is floor(1e9 * 2^(k/2^scale)), computed with 512-bit floats:
// where the bound is irrational no integer lies within the rounding error,
// and where it is rational the arithmetic is exact.
func boundNs(k int32, scale int) uint64 {
	perOctave := int32(1) << scale
	octave, step := k>>scale, k&(perOctave-1) // k = octave*2^scale + step
	x := new(big.Float).SetPrec(512).SetInt64(1 << step)
	for range scale { // 2^(step/2^scale) = (2^step)^(1/2^scale)
		x.Sqrt(x)
	}
	x.Mul(x, new(big.Float).SetPrec(512).SetInt64(1e9))
	x.SetMantExp(x, int(octave))
	ns, _ := x.Uint64() // truncates: floor for positive values
	return ns
}

// BucketUpperNs is the upper bound, in ns, of duration bucket index at
// scale: what a quantile that falls in the bucket is at most.
func BucketUpperNs(index int32, scale int) uint64 { return boundNs(index+1, scale) }
