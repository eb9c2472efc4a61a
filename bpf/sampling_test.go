//go:build linux && (amd64 || arm64)

package bpf

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
	"github.com/seed22255693/syscallsreceiver/internal/workload"
)

// TestDurationSampling: with 1 in 8 calls timed, on every hook, calls and
// errors stay exact while the histogram holds about an eighth of the
// calls: binomial(n, 1/8) within 6 standard deviations (a false failure
// once in 10^9 runs), and never nothing.
func TestDurationSampling(t *testing.T) {
	kerneltest.Require(t)
	bin := buildWorkload(t)
	spec := workload.Spec{Getppid: 20000, OpenMissing: 3000, WriteDevNull: 500}
	const oneIn = 8
	for _, hook := range Hooks {
		t.Run(string(hook), func(t *testing.T) {
			opts := allOn(true)
			opts.Hook = hook
			opts.DurationSampleOneIn = oneIn
			c := load(t, opts)
			pid, err := workload.Run(bin, spec)
			require.NoError(t, err)
			counts, err := c.ReadCounts()
			require.NoError(t, err)
			g := groupOf(t, counts, uint32(pid))

			for nr, want := range map[uint32]int{unix.SYS_GETPPID: spec.Getppid, unix.SYS_WRITE: spec.WriteDevNull} {
				key := SyscallKey{g, nr, ABINative}
				assert.EqualValues(t, want, counts.Syscalls[key].Calls, "calls of %d", nr)
				var timed uint64
				for _, n := range counts.Durations[key] {
					timed += n
				}
				mean := float64(want) / oneIn
				sd := math.Sqrt(float64(want) * (1.0 / oneIn) * (1 - 1.0/oneIn))
				assert.InDelta(t, mean, float64(timed), 6*sd, "timed calls of %d", nr)
				assert.Positive(t, timed)
				t.Logf("syscall %d: %d calls, %d timed (expected %.0f ± %.0f)", nr, want, timed, mean, sd)
			}
			assert.EqualValues(t, spec.OpenMissing, counts.Errors[ErrorKey{g, unix.SYS_OPENAT, ABINative, uint32(unix.ENOENT)}])
			assert.Zero(t, counts.Dropped)
			if t.Failed() {
				logCountsOf(t, counts, uint32(pid))
			}
		})
	}
}

// logCountsOf logs every group and call count of a pid: where its calls
// went when they are not where a test looked.
func logCountsOf(t *testing.T, counts *Counts, pid uint32) {
	t.Helper()
	for _, g := range counts.Groups {
		if g.TGID == pid {
			t.Logf("group %+v", g)
		}
	}
	for k, s := range counts.Syscalls {
		if k.Group.TGID == pid && s.Calls > 0 {
			t.Logf("  %+v: %d calls", k, s.Calls)
		}
	}
	kerneltest.LogPrograms(t)
}
