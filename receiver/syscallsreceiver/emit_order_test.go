//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/bpf"
)

// The counting sort must give the order a plain sort of the whole keys
// gives: resources are written group by group from it, so an entry out of
// its run would split a group into two resources.
func TestOrderIsAFullSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var o orderer
	for round := range 20 {
		counts := &bpf.Counts{Syscalls: map[bpf.SyscallKey]bpf.SyscallTotals{}, Errors: map[bpf.ErrorKey]uint64{}}
		groups := []bpf.Group{{}, bpf.OverflowGroup}
		for range rng.IntN(50) {
			// Few distinct values, so that groups often differ in one field only.
			groups = append(groups, bpf.Group{TGID: rng.Uint32N(4), TID: rng.Uint32N(3),
				CgroupID: rng.Uint64N(3), StartNs: rng.Uint64N(3)})
		}
		for range rng.IntN(400) {
			g := groups[rng.IntN(len(groups))]
			nr, abi := rng.Uint32N(20), rng.Uint32N(3)
			counts.Syscalls[bpf.SyscallKey{Group: g, Nr: nr, ABI: abi}] = bpf.SyscallTotals{Calls: uint64(round)}
			counts.Errors[bpf.ErrorKey{Group: g, Nr: nr, ABI: abi, Errno: rng.Uint32N(5)}] = 1
		}
		// Groups with errors only, and rounds with no errors at all.
		for range rng.IntN(5) {
			g := bpf.Group{TGID: 100 + rng.Uint32N(4), StartNs: rng.Uint64N(2)}
			counts.Errors[bpf.ErrorKey{Group: g, Nr: rng.Uint32N(20), Errno: 1}] = 2
		}
		if round%5 == 4 {
			counts.Errors = nil
		}
		if round%7 == 6 {
			counts.Syscalls = nil // and a shrink of every buffer before the next round
		}

		syscalls, errs := o.order(counts)

		wantSyscalls := []bpf.SyscallKey{}
		for k := range counts.Syscalls {
			wantSyscalls = append(wantSyscalls, k)
		}
		slices.SortFunc(wantSyscalls, func(a, b bpf.SyscallKey) int {
			return cmp.Or(compareGroups(a.Group, b.Group), cmp.Compare(a.ABI, b.ABI), cmp.Compare(a.Nr, b.Nr))
		})
		wantErrs := []bpf.ErrorKey{}
		for k := range counts.Errors {
			wantErrs = append(wantErrs, k)
		}
		slices.SortFunc(wantErrs, func(a, b bpf.ErrorKey) int {
			return cmp.Or(compareGroups(a.Group, b.Group), cmp.Compare(a.ABI, b.ABI), cmp.Compare(a.Nr, b.Nr),
				cmp.Compare(a.Errno, b.Errno))
		})
		gotSyscalls := make([]bpf.SyscallKey, 0, len(syscalls))
		for _, e := range syscalls {
			require.Equal(t, counts.Syscalls[e.key], e.totals)
			gotSyscalls = append(gotSyscalls, e.key)
		}
		gotErrs := make([]bpf.ErrorKey, 0, len(errs))
		for _, e := range errs {
			require.Equal(t, counts.Errors[e.key], e.count)
			gotErrs = append(gotErrs, e.key)
		}
		require.Equal(t, wantSyscalls, gotSyscalls, "round %d", round)
		require.Equal(t, wantErrs, gotErrs, "round %d", round)
	}
}

// A burst of series must not keep its memory once it is over, and the
// buffers made anew still order correctly.
func TestOrderDropsTheBuffersOfABurst(t *testing.T) {
	snapshot := func(groups, syscalls int) *bpf.Counts {
		counts := &bpf.Counts{Syscalls: map[bpf.SyscallKey]bpf.SyscallTotals{}, Errors: map[bpf.ErrorKey]uint64{}}
		for g := range groups {
			for nr := range syscalls {
				counts.Syscalls[bpf.SyscallKey{Group: bpf.Group{TGID: uint32(g + 1)}, Nr: uint32(nr)}] = bpf.SyscallTotals{Calls: 1}
			}
		}
		return counts
	}
	var o orderer
	syscalls, _ := o.order(snapshot(2000, 10))
	require.Len(t, syscalls, 20_000)
	require.GreaterOrEqual(t, cap(o.syscalls[0]), 20_000, "a steady size keeps its buffers")

	syscalls, _ = o.order(snapshot(3, 2))
	require.Len(t, syscalls, 6)
	require.Less(t, cap(o.syscalls[0])+cap(o.syscalls[1])+cap(o.seenAs[0]), 1000)
	require.Nil(t, o.seen, "the map of 2,000 groups is dropped")

	syscalls, _ = o.order(snapshot(3, 2))
	want := []bpf.SyscallKey{}
	for g := range 3 {
		for nr := range 2 {
			want = append(want, bpf.SyscallKey{Group: bpf.Group{TGID: uint32(g + 1)}, Nr: uint32(nr)})
		}
	}
	got := []bpf.SyscallKey{}
	for _, e := range syscalls {
		got = append(got, e.key)
	}
	require.Equal(t, want, got)
}
