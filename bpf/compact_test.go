//go:build linux && (amd64 || arm64)

package bpf

import (
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// Syscall numbers no table has, each in another range of the compact keys:
// in both words; too large for the bucket word; too large for either (the
// kernel reads only 32 bits of arm64's number, so amd64 only).
var (
	nrCompact     = uint32(600)
	nrWideBuckets = uint32(1<<BucketABIShift + 7)
	nrWide        = uint32(1<<31 + 7) // past 2^CallABIShift, with bit 30 (x32's) clear
)

// TestCompactAndWideKeys makes syscalls whose counters take compact keys,
// wide keys, or compact calls and wide buckets, and checks that each is
// counted exactly for this process, in the map it belongs in, and that
// Forget removes every one of them.
func TestCompactAndWideKeys(t *testing.T) {
	kerneltest.Require(t)
	for _, timed := range []bool{false, true} {
		t.Run(map[bool]string{false: "calls", true: "durations"}[timed], func(t *testing.T) {
			c := load(t, Options{GroupByProcess: true, CountCalls: true, CountErrors: true, MeasureDuration: timed})
			require.True(t, c.opts.compact())
			numbers := map[uint32]int{nrCompact: 3, nrWideBuckets: 5}
			// sys_enter gets the number as an int, negative past 2^31: only
			// the hooks that count calls at exit count such a call.
			if runtime.GOARCH == "amd64" && c.hook.countsAtExit {
				numbers[nrWide] = 7
			}
			for nr, n := range numbers {
				for range n {
					_, _, errno := unix.Syscall(uintptr(nr), 0, 0, 0)
					require.Equal(t, unix.ENOSYS, errno)
				}
			}
			counts, err := c.ReadCounts()
			require.NoError(t, err)
			g := groupOf(t, counts, uint32(os.Getpid()))
			for nr, n := range numbers {
				key := SyscallKey{g, nr, ABINative}
				assert.EqualValues(t, n, counts.Syscalls[key].Calls, "calls of %d", nr)
				assert.EqualValues(t, n, counts.Errors[ErrorKey{g, nr, ABINative, uint32(unix.ENOSYS)}], "errors of %d", nr)
				// Untimed for the same reason.
				if timed && nr != nrWide {
					var inBuckets uint64
					for _, calls := range counts.Durations[key] {
						inBuckets += calls
					}
					assert.EqualValues(t, n, inBuckets, "timed calls of %d", nr)
				}
			}

			// Which maps hold them: the numbers under this process's compact
			// id, and under its wide key.
			id := c.opts.compactID(g)
			compact := map[uint32]bool{}
			if timed {
				require.NoError(t, readMap(c.objs.CompactBuckets, c.cpus, func(k syscallsCompactKey, _ []syscallsBucketChunk) {
					if uint64(k.IdHi)<<32|uint64(k.IdLo) == id {
						compact[k.Word&(1<<BucketABIShift-1)] = true
					}
				}))
			} else {
				require.NoError(t, readMap(c.objs.CompactCalls, c.cpus, func(k syscallsCompactKey, _ []uint64) {
					if uint64(k.IdHi)<<32|uint64(k.IdLo) == id {
						compact[k.Word&(1<<CallABIShift-1)] = true
					}
				}))
			}
			wideNrs := map[uint32]bool{}
			require.NoError(t, readMap(c.objs.GroupCalls, c.cpus, func(k syscallsSyscallKey, _ []uint64) {
				if group(k.Group) == g {
					wideNrs[k.Nr] = true
				}
			}))
			require.NoError(t, readMap(c.objs.DurationBuckets, c.cpus, func(k syscallsBucketKey, _ []syscallsBucketDurations) {
				if group(k.Group) == g {
					wideNrs[k.Nr] = true
				}
			}))
			assert.True(t, compact[nrCompact], "%d under a compact key", nrCompact)
			assert.False(t, wideNrs[nrCompact], "%d under a wide key", nrCompact)
			if timed {
				assert.True(t, wideNrs[nrWideBuckets], "%d's buckets under wide keys", nrWideBuckets)
			} else {
				assert.True(t, compact[nrWideBuckets], "%d's calls under a compact key", nrWideBuckets)
			}
			if _, ok := numbers[nrWide]; ok {
				assert.True(t, wideNrs[nrWide], "%d under a wide key", nrWide)
				assert.False(t, compact[nrWide], "%d under a compact key", nrWide)
			}

			// Forget deletes keys that exist only: a batch delete stops at
			// the first missing one and falls back to a call per key.
			dead := func(x Group) bool { return x == g }
			calls, chunks := c.compactKeys(counts, dead)
			for _, k := range calls {
				var v []uint64
				assert.NoError(t, c.objs.CompactCalls.Lookup(&k, &v), "compact call key %+v", k)
			}
			for _, k := range chunks {
				var v []syscallsBucketChunk
				assert.NoError(t, c.objs.CompactBuckets.Lookup(&k, &v), "compact chunk key %+v", k)
			}
			require.NoError(t, c.Forget(counts, dead, nil))
			after, err := c.ReadCounts()
			require.NoError(t, err)
			// This process runs on: only the numbers it no longer calls
			// must be gone.
			for nr := range numbers {
				key := SyscallKey{g, nr, ABINative}
				assert.NotContains(t, after.Syscalls, key, "%d after Forget", nr)
				assert.NotContains(t, after.Durations, key, "%d's buckets after Forget", nr)
			}
		})
	}
}
