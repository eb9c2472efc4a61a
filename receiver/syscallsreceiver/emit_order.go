//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"cmp"
	"slices"

	"github.com/seed22255693/syscallsreceiver/bpf"
)

// syscallEntry and errorEntry are counters taken out of the snapshot's
// maps to be ordered, with their values so that they are not looked up again.
type syscallEntry struct {
	key    bpf.SyscallKey
	totals bpf.SyscallTotals
}

type errorEntry struct {
	key   bpf.ErrorKey
	count uint64
}

// orderer puts a snapshot's counters in the order resources and points are
// written: by group, then ABI and syscall (then errno), so that each group's
// counters are a run in each slice. It sorts the groups, then places each
// counter in its group's run (a counting sort) and sorts only within runs:
// sorting all counters by whole keys took a sixth of a scrape of 10,000
// series (per thread, with many one-counter groups, it gains less). Its
// buffers are reused from one scrape to the next, and dropped once they are
// over 4 times (plus some slack) what a scrape needs, so that a burst of
// series does not keep its memory.
type orderer struct {
	seen     map[bpf.Group]int // each group's index in groups
	seenPeak int               // most entries seen has held (a cleared map keeps its size)
	groups   []bpf.Group       // in the order first seen
	byGroup  []int             // indices of groups, sorted by group
	rank     []int             // rank[i]: groups[i]'s place in byGroup
	starts   []int             // where each group's run begins, then place's next slot in each
	seenAs   [2][]int          // each counter's index in groups, in taken order
	syscalls [2][]syscallEntry
	errs     [2][]errorEntry
}

// order returns the snapshot's counters in order; the slices are valid
// until the next call. Not safe for concurrent use (nor is the emitter).
func (o *orderer) order(counts *bpf.Counts) ([]syscallEntry, []errorEntry) {
	if o.seen == nil {
		o.seen, o.seenPeak = map[bpf.Group]int{}, 0
	}
	clear(o.seen)
	o.groups = o.groups[:0]
	taken, calls := o.syscalls[0][:0], o.seenAs[0][:0]
	for k, st := range counts.Syscalls {
		taken = append(taken, syscallEntry{k, st})
		calls = append(calls, o.see(k.Group))
	}
	takenErrs, errors := o.errs[0][:0], o.seenAs[1][:0]
	for k, n := range counts.Errors {
		takenErrs = append(takenErrs, errorEntry{k, n})
		errors = append(errors, o.see(k.Group))
	}
	o.syscalls[0], o.errs[0], o.seenAs[0], o.seenAs[1] = taken, takenErrs, calls, errors

	n := len(o.groups)
	o.byGroup = slices.Grow(o.byGroup[:0], n)[:n]
	for i := range o.byGroup {
		o.byGroup[i] = i
	}
	slices.SortFunc(o.byGroup, func(a, b int) int { return compareGroups(o.groups[a], o.groups[b]) })
	o.rank = slices.Grow(o.rank[:0], n)[:n]
	for r, i := range o.byGroup {
		o.rank[i] = r
	}

	syscalls := place(o, taken, calls, &o.syscalls[1])
	for r := range n {
		slices.SortFunc(syscalls[o.starts[r]:o.starts[r+1]], func(a, b syscallEntry) int {
			return compareSyscalls(a.key.ABI, a.key.Nr, b.key.ABI, b.key.Nr)
		})
	}
	errs := place(o, takenErrs, errors, &o.errs[1])
	for r := range n {
		slices.SortFunc(errs[o.starts[r]:o.starts[r+1]], func(a, b errorEntry) int {
			if c := compareSyscalls(a.key.ABI, a.key.Nr, b.key.ABI, b.key.Nr); c != 0 {
				return c
			}
			return cmp.Compare(a.key.Errno, b.key.Errno)
		})
	}
	o.shrink()
	return syscalls, errs
}

// shrink drops the buffers (the next scrape makes new ones at its size)
// that hold over 4 times (plus some slack) what this scrape used: a Go map
// never shrinks.
func (o *orderer) shrink() {
	o.seenPeak = max(o.seenPeak, len(o.groups))
	if o.seenPeak > 4*len(o.groups)+64 {
		o.seen = nil
	}
	o.groups, o.byGroup, o.rank = fit(o.groups), fit(o.byGroup), fit(o.rank)
	o.starts = fit(o.starts)
	for i := range 2 {
		o.seenAs[i], o.syscalls[i], o.errs[i] = fit(o.seenAs[i]), fit(o.syscalls[i]), fit(o.errs[i])
	}
}

// fit returns s, or nil if its capacity is over 4 times its length.
func fit[E any](s []E) []E {
	if cap(s) > 4*len(s)+256 {
		return nil
	}
	return s
}

// see returns g's index in groups, adding it the first time.
func (o *orderer) see(g bpf.Group) int {
	i, ok := o.seen[g]
	if !ok {
		i = len(o.groups)
		o.seen[g] = i
		o.groups = append(o.groups, g)
	}
	return i
}

// place copies taken into *into, each entry in its group's run (seenAs
// holds each entry's group), the runs in rank order, and leaves in o.starts
// where each run begins (and, last, where the last one ends).
func place[E any](o *orderer, taken []E, seenAs []int, into *[]E) []E {
	n := len(o.groups)
	o.starts = slices.Grow(o.starts[:0], 2*n+1)[:2*n+1]
	clear(o.starts)
	starts, next := o.starts[:n+1], o.starts[n+1:]
	for _, g := range seenAs {
		starts[o.rank[g]+1]++
	}
	for r := range n {
		starts[r+1] += starts[r]
		next[r] = starts[r]
	}
	out := slices.Grow((*into)[:0], len(taken))[:len(taken)]
	for i, e := range taken {
		r := o.rank[seenAs[i]]
		out[next[r]] = e
		next[r]++
	}
	*into = out
	return out
}

// compareSyscalls orders syscalls by ABI, then number.
func compareSyscalls(abiA, nrA, abiB, nrB uint32) int {
	if abiA != abiB {
		return cmp.Compare(abiA, abiB)
	}
	return cmp.Compare(nrA, nrB)
}
