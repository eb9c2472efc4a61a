//go:build linux && (amd64 || arm64)

package bpf

import (
	"math"
	"math/big"
	"math/rand/v2"
	"os/exec"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/seed22255693/syscallsreceiver/internal/workload"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

var billion = big.NewInt(1e9)

// leq tells whether a/1e9 <= 2^(k/2^scale), exactly, in integers:
// a^n <= 1e9^n * 2^k with n = 2^scale (multiplying by 2^-k when k < 0).
func leq(a uint64, k int32, scale int) bool {
	n := int64(1) << scale
	lhs := new(big.Int).Exp(new(big.Int).SetUint64(a), big.NewInt(n), nil)
	rhs := new(big.Int).Exp(billion, big.NewInt(n), nil)
	if k >= 0 {
		rhs.Lsh(rhs, uint(k))
	} else {
		lhs.Lsh(lhs, uint(-k))
	}
	return lhs.Cmp(rhs) <= 0
}

// referenceBucket is the OTel exponential-histogram index of d ns in
// seconds at scale: the i with 2^(i/2^s) < d/1e9 <= 2^((i+1)/2^s),
// computed exactly; a float estimate only picks where to start.
func referenceBucket(d uint64, scale int) int32 {
	k := int32(math.Floor(math.Log2(float64(d)/1e9)*float64(int(1)<<scale))) - 2
	for !leq(d, k, scale) {
		k++
	}
	for leq(d, k-1, scale) {
		k--
	}
	return k - 1
}

// TestDurationBoundsExact: every bound is floor(1e9 * 2^(k/2^scale)).
func TestDurationBoundsExact(t *testing.T) {
	for scale := range MaxDurationScale + 1 {
		first, bounds := durationBounds(scale)
		require.LessOrEqual(t, len(bounds), MaxDurationBounds)
		for j, b := range bounds {
			k := first + int32(j)
			require.True(t, leq(b, k, scale), "scale %d k %d: %d ns is above the bound", scale, k, b)
			require.False(t, leq(b+1, k, scale), "scale %d k %d: %d ns is not the floor", scale, k, b)
		}
		require.Zero(t, bounds[0], "the first bound is below 1 ns")
	}
}

// TestKernelBucketIndex feeds the same integers to the kernel's bucket_of
// (through BPF_PROG_TEST_RUN) and to the exact reference, at every scale:
// small values, every bound and its neighbours, powers of two in ns and in
// seconds, and log-uniform random durations.
func TestKernelBucketIndex(t *testing.T) {
	kerneltest.Require(t)
	const indexOffset = 100000 // INDEX_OFFSET in histogram_test.bpf.c
	rng := rand.New(rand.NewPCG(1, 2))
	for scale := range MaxDurationScale + 1 {
		spec, err := loadHistogramTest()
		require.NoError(t, err)
		first, bounds := durationBounds(scale)
		for name, value := range durationVars(scale) {
			require.NoError(t, spec.Variables[name].Set(value), name)
		}
		var objs histogramTestObjects
		require.NoError(t, spec.LoadAndAssign(&objs, nil))
		defer func() { _ = objs.Close() }()

		values := []uint64{}
		for v := uint64(1); v <= 3000; v++ {
			values = append(values, v)
		}
		for _, b := range bounds[1:] {
			values = append(values, b-1, b, b+1)
		}
		for i := range 63 {
			values = append(values, 1<<i, 1<<i+1)
		}
		for k := -29; k <= highestOctave-1; k++ {
			if s := math.Ldexp(1e9, k); s >= 1 {
				values = append(values, uint64(s), uint64(s)+1)
			}
		}
		for range 3000 {
			values = append(values, uint64(math.Exp2(rng.Float64()*60)))
		}

		lastIndex := first + int32(len(bounds)) - 2
		checked := 0
		for _, v := range append(values, 0, 1<<62) {
			ret, err := objs.BucketOfArg.Run(&ebpf.RunOptions{Context: []uint64{v}})
			require.NoError(t, err)
			want := first - 1 // 0 ns: the lowest bucket, under the first bound (0)
			if v > 0 {
				want = min(referenceBucket(v, scale), lastIndex)
			}
			require.Equal(t, want, int32(ret)-indexOffset, "scale %d, %d ns", scale, v)
			checked++
		}
		t.Logf("scale %d: %d values, kernel index == exact index", scale, checked)
	}
}

// TestDurationHistogram: ten sleeps of 18.7 ms land in the buckets between
// the one holding 18.7 ms and the one holding the longest sleep as the
// workload timed it itself (on a quiet machine, all in the first: 18.7 ms
// is near the bottom of its bucket); the sum lies between 10 × 18.7 ms and
// what the workload timed; most calls of a tight getppid loop take under
// twice the mean the workload timed (sub-microsecond on hardware). Bounds
// come from the workload's own clock, never from a guess about the
// machine's load or speed.
func TestDurationHistogram(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.BuildNanosleeper(t.TempDir())
	require.NoError(t, err)
	const sleeps, sleepUs, getppids = 10, 18700, 5000
	for _, scale := range []int{0, 3} {
		opts := allOn(true)
		opts.DurationScale = scale
		c := load(t, opts)
		pid, timed, err := workload.RunNanosleeper(bin, sleeps, sleepUs, getppids)
		require.NoError(t, err)
		counts, err := c.ReadCounts()
		require.NoError(t, err)
		g := processGroup(t, c, counts, pid)

		sleep := SyscallKey{g, unix.SYS_CLOCK_NANOSLEEP, ABINative}
		lowest, highest := referenceBucket(sleepUs*1000, scale), referenceBucket(uint64(timed.Longest), scale)
		buckets := counts.Durations[sleep]
		st := counts.Syscalls[sleep]
		t.Logf("scale %d: clock_nanosleep buckets %v (18.7 ms is bucket %d; the longest sleep, %v, bucket %d); sum %v (%.1f%% over 187 ms), user-space total %v",
			scale, buckets, lowest, timed.Longest, highest, time.Duration(st.DurationNs),
			100*(float64(st.DurationNs)/(sleeps*sleepUs*1000)-1), timed.Total)
		var n uint64
		for b, count := range buckets {
			if timed.Calls == sleeps { // no sleep was cut short by a signal
				assert.True(t, b >= lowest && b <= highest, "bucket %d outside [%d, %d]", b, lowest, highest)
			}
			n += count
		}
		assert.EqualValues(t, timed.Calls, n, "one sample per clock_nanosleep call")
		assert.GreaterOrEqual(t, st.DurationNs, uint64(sleeps*sleepUs*1000))
		assert.LessOrEqual(t, st.DurationNs, uint64(timed.Total))
		assert.LessOrEqual(t, st.MaxNs, uint64(timed.Longest))
		if timed.Calls == sleeps {
			assert.GreaterOrEqual(t, st.MinNs, uint64(sleepUs*1000))
		}

		fast := counts.Durations[SyscallKey{g, unix.SYS_GETPPID, ABINative}]
		var total uint64
		for b, n := range fast {
			total += n
			if b >= 0 { // bucket 0 starts at 1 s; sub-µs buckets are far below
				t.Errorf("getppid took a second?")
			}
		}
		assert.EqualValues(t, getppids, total)
		// Most calls take under twice their mean as the workload timed the
		// loop (under 1 µs on hardware, microseconds under emulation).
		mean := uint64(timed.GetppidLoop) / getppids
		twice := referenceBucket(2*mean, scale)
		var fast2 uint64
		for b, n := range fast {
			if b <= twice {
				fast2 += n
			}
		}
		t.Logf("scale %d: %d of %d getppid calls under twice the loop's mean (%d ns)", scale, fast2, total, mean)
		assert.Greater(t, fast2, uint64(getppids/2), "most getppid calls take less than twice the mean")
		assert.LessOrEqual(t, counts.Syscalls[SyscallKey{g, unix.SYS_GETPPID, ABINative}].DurationNs, uint64(timed.GetppidLoop),
			"the time inside getppid lies within the loop")
		_ = c.Close()
	}
}

// TestNoStaleDurations: a syscall that entered before the programs were
// attached is not timed when it returns (no enter was seen), and a process
// killed inside a blocking syscall leaves a sane duration and nothing else.
func TestNoStaleDurations(t *testing.T) {
	kerneltest.Require(t)
	early := exec.Command("sleep", "0.3")
	require.NoError(t, early.Start())
	time.Sleep(50 * time.Millisecond) // inside its clock_nanosleep
	c := load(t, allOn(true))

	killed := exec.Command("sleep", "30")
	require.NoError(t, killed.Start())
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, killed.Process.Kill())
	_ = killed.Wait()
	require.NoError(t, early.Wait())
	attachedFor := time.Since(c.AttachedAt())

	counts, err := c.ReadCounts()
	require.NoError(t, err)
	for k, st := range counts.Syscalls {
		switch k.Group.TGID {
		case uint32(early.Process.Pid):
			if k.Nr == unix.SYS_CLOCK_NANOSLEEP || k.Nr == unix.SYS_NANOSLEEP {
				assert.Zero(t, st.DurationNs, "the sleep that began before attaching was timed")
				assert.Empty(t, counts.Durations[k])
			}
		case uint32(killed.Process.Pid):
			assert.LessOrEqual(t, st.MaxNs, uint64(attachedFor), "%v took longer than the test", k)
		}
		assert.LessOrEqual(t, st.MaxNs, uint64(attachedFor), "an absurd duration for %v", k)
	}
}
