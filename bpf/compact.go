//go:build linux && (amd64 || arm64)

package bpf

import "errors"

// Where one 64-bit word can name a group, the programs count calls and
// durations under 12-byte compact keys (compact_calls, and compact_buckets
// with a chunk of buckets per key):
// the kernel hashes them in one round where the 32-byte wide keys take
// three. The groups map keeps every group's full key, from which user
// space computes the same ids to tell whose counts they are.

// compact says whether the programs use compact keys (COMPACT in
// maps.bpf.h): every grouping but a cgroup with a process or thread.
func (o Options) compact() bool {
	return o.grouped() && !(o.GroupByCgroup && (o.GroupByProcess || o.GroupByThread))
}

// compactID is compact_key_of's id of g in the kernel.
func (o Options) compactID(g Group) uint64 {
	if o.GroupByCgroup {
		return g.CgroupID
	}
	pid := g.TGID
	if o.GroupByThread {
		pid = g.TID
	}
	return g.StartNs>>StartShift<<PidBits | uint64(pid)
}

// compactCall and compactBucket say whether the programs count syscall nr's
// calls, and its durations, under compact keys.
func (c *Counters) compactCall(nr uint32) bool   { return c.opts.compact() && nr < 1<<CallABIShift }
func (c *Counters) compactBucket(nr uint32) bool { return c.opts.compact() && nr < 1<<BucketABIShift }

func compactKey(id uint64, word uint32) syscallsCompactKey {
	return syscallsCompactKey{IdLo: uint32(id), IdHi: uint32(id >> 32), Word: word}
}

// compactCounts are the compact maps' entries, read before the groups map
// that names their groups (see ReadCounts).
type compactCounts struct {
	calls  []compactEntry[uint64]
	chunks []compactEntry[syscallsBucketChunk]
}

type compactEntry[V any] struct {
	key    syscallsCompactKey
	perCPU []V
}

func (c *Counters) readCompact() (*compactCounts, error) {
	var cc compactCounts
	err := errors.Join(
		readMap(c.objs.CompactCalls, c.cpus, func(k syscallsCompactKey, v []uint64) {
			cc.calls = append(cc.calls, compactEntry[uint64]{k, v})
		}),
		readMap(c.objs.CompactBuckets, c.cpus, func(k syscallsCompactKey, v []syscallsBucketChunk) {
			cc.chunks = append(cc.chunks, compactEntry[syscallsBucketChunk]{k, v})
		}),
	)
	return &cc, err
}

// add hands the compact entries to the same functions as the wide ones,
// under the groups whose ids they carry. A counter is created only after
// its group is admitted and deleted before it (Forget), and the groups are
// read after the counters, so each id has its group; one without would be
// counted as overflow, keeping sums exact.
func (cc *compactCounts) add(c *Counters, groups []Group, addCalls func(SyscallKey, []uint64),
	addChunk func(SyscallKey, int16, []syscallsBucketChunk)) {
	if len(cc.calls) == 0 && len(cc.chunks) == 0 {
		return
	}
	byID := make(map[uint64]Group, len(groups))
	for _, g := range groups {
		byID[c.opts.compactID(g)] = g
	}
	groupOf := func(k syscallsCompactKey) Group {
		if g, ok := byID[uint64(k.IdHi)<<32|uint64(k.IdLo)]; ok {
			return g
		}
		return OverflowGroup
	}
	for _, e := range cc.calls {
		nr, abi := e.key.Word&(1<<CallABIShift-1), e.key.Word>>CallABIShift
		addCalls(SyscallKey{Group: groupOf(e.key), Nr: nr, ABI: abi}, e.perCPU)
	}
	first, _ := durationBounds(int(c.opts.DurationScale))
	for _, e := range cc.chunks {
		nr := e.key.Word & (1<<BucketABIShift - 1)
		abi := e.key.Word >> BucketABIShift & (1<<(BucketIndexShift-BucketABIShift) - 1)
		firstBucket := int16(first + int32(e.key.Word>>BucketIndexShift)*ChunkBuckets - 1)
		addChunk(SyscallKey{Group: groupOf(e.key), Nr: nr, ABI: abi}, firstBucket, e.perCPU)
	}
}

// compactKeys are the compact keys of the dead groups' counters, for Forget:
// each chunk once, whichever of its buckets were read.
func (c *Counters) compactKeys(counts *Counts, dead func(Group) bool) (calls, chunks []syscallsCompactKey) {
	first, _ := durationBounds(int(c.opts.DurationScale))
	for k := range counts.Syscalls {
		if k.Group != OverflowGroup && dead(k.Group) && c.compactCall(k.Nr) && counts.inCallMaps(k) {
			calls = append(calls, compactKey(c.opts.compactID(k.Group), k.Nr|k.ABI<<CallABIShift))
		}
	}
	for k, bs := range counts.Durations {
		if k.Group == OverflowGroup || !dead(k.Group) || !c.compactBucket(k.Nr) {
			continue
		}
		seen := map[uint32]bool{}
		for b := range bs {
			word := k.Nr | k.ABI<<BucketABIShift | uint32(b-first+1)/ChunkBuckets<<BucketIndexShift
			if !seen[word] {
				seen[word] = true
				chunks = append(chunks, compactKey(c.opts.compactID(k.Group), word))
			}
		}
	}
	return calls, chunks
}
