//go:build linux && (amd64 || arm64)

package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// firstBatchSize keys are read per batch syscall at first.
const firstBatchSize = 4096

// readMap calls fn with every key of a map and its values: one per CPU for
// a per-CPU map (cpus), else one. It reads in batches (one syscall per few
// thousand keys) and falls back to key-by-key iteration on kernels without
// batch operations.
func readMap[K any, V any](m *ebpf.Map, cpus int, fn func(K, []V)) error {
	size := min(firstBatchSize, int(m.MaxEntries()))
	for {
		err := batchRead(m, cpus, size, fn)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.ENOSPC) && size < int(m.MaxEntries()):
			// A hash bucket held more keys than the batch: retry larger.
			size = min(size*4, int(m.MaxEntries()))
		case errors.Is(err, ebpf.ErrNotSupported):
			return iterate(m, cpus > 1, fn)
		default:
			return err
		}
	}
}

// batchRead collects everything before calling fn, so that a retry after
// ENOSPC never reports a key twice.
func batchRead[K any, V any](m *ebpf.Map, cpus, size int, fn func(K, []V)) error {
	var (
		cursor  ebpf.MapBatchCursor
		allKeys []K
		allVals []V
		keys    = make([]K, size)
		vals    = make([]V, size*cpus)
	)
	for {
		n, err := m.BatchLookup(&cursor, keys, vals, nil)
		allKeys = append(allKeys, keys[:n]...)
		allVals = append(allVals, vals[:n*cpus]...)
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			break
		}
		if err != nil {
			return err
		}
	}
	for i, k := range allKeys {
		fn(k, allVals[i*cpus:(i+1)*cpus])
	}
	return nil
}

func iterate[K any, V any](m *ebpf.Map, perCPU bool, fn func(K, []V)) error {
	var (
		key  K
		vals []V
		val  V
	)
	it := m.Iterate()
	if perCPU {
		for it.Next(&key, &vals) {
			fn(key, vals)
		}
	} else {
		for it.Next(&key, &val) {
			fn(key, []V{val})
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("iterating: %w", err)
	}
	return nil
}

// ReadCounts returns the current totals of every counter, summed over CPUs.
func (c *Counters) ReadCounts() (*Counts, error) {
	// Sized like the last snapshot: growing maps of ten thousands of keys
	// from empty was a third of the read.
	counts := &Counts{
		Syscalls:  make(map[SyscallKey]SyscallTotals, c.lastSize.syscalls),
		Errors:    make(map[ErrorKey]uint64, c.lastSize.errors),
		Durations: make(map[SyscallKey]Buckets, c.lastSize.durations),
	}
	defer func() {
		c.lastSize.syscalls, c.lastSize.errors, c.lastSize.durations = len(counts.Syscalls), len(counts.Errors), len(counts.Durations)
	}()
	timedCalls := c.callsInBuckets()
	if timedCalls {
		counts.callKeys = make(map[SyscallKey]struct{})
	}
	addCalls := func(key SyscallKey, perCPU []uint64) {
		if n := sum(perCPU); n > 0 {
			s := counts.Syscalls[key]
			s.Calls += n
			counts.Syscalls[key] = s
			if timedCalls {
				counts.callKeys[key] = struct{}{}
			}
		}
	}
	// addDurations adds the durations of one bucket, or of one chunk of
	// them, summed over CPUs: their count per bucket, and their sum, min
	// and max to the syscall's.
	addDurations := func(key SyscallKey, b syscallsBucketDurations, perBucket func(Buckets)) {
		if b.Count == 0 {
			return
		}
		s := counts.Syscalls[key]
		if timedCalls {
			s.Calls += b.Count
		}
		if s.MinNs == 0 || b.MinNs < s.MinNs {
			s.MinNs = b.MinNs
		}
		s.DurationNs += b.DurationNs
		s.MaxNs = max(s.MaxNs, b.MaxNs)
		counts.Syscalls[key] = s
		if counts.Durations[key] == nil {
			counts.Durations[key] = Buckets{}
		}
		perBucket(counts.Durations[key])
	}
	addBucket := func(key SyscallKey, bucket int16, perCPU []syscallsBucketDurations) {
		var b syscallsBucketDurations
		for _, v := range perCPU {
			if v.Count == 0 {
				continue
			}
			fold(&b, v.Count, v.DurationNs, v.MinNs, v.MaxNs)
		}
		addDurations(key, b, func(bs Buckets) { bs[int32(bucket)] += b.Count })
	}
	addChunk := func(key SyscallKey, firstBucket int16, perCPU []syscallsBucketChunk) {
		var b syscallsBucketDurations
		var n [ChunkBuckets]uint64
		for _, v := range perCPU {
			var count uint64
			for i, c := range v.Count {
				n[i] += c
				count += c
			}
			if count > 0 {
				fold(&b, count, v.DurationNs, v.MinNs, v.MaxNs)
			}
		}
		addDurations(key, b, func(bs Buckets) {
			for i, c := range n {
				if c > 0 {
					bs[int32(firstBucket)+int32(i)] += c
				}
			}
		})
	}
	addError := func(key ErrorKey, perCPU []uint64) {
		if n := sum(perCPU); n > 0 {
			counts.Errors[key] += n
		}
	}
	// The array holds the host's counts, or the overflow group's.
	arrayGroup := Group{}
	if c.opts.grouped() {
		arrayGroup = OverflowGroup
	}

	compact, compactErr := c.readCompact()
	err := errors.Join(
		compactErr,
		readMap(c.objs.ArrayCalls, c.cpus, func(i uint32, v []uint64) {
			addCalls(SyscallKey{Group: arrayGroup, Nr: i % SyscallSlots, ABI: i / SyscallSlots}, v)
		}),
		readMap(c.objs.GroupCalls, c.cpus, func(k syscallsSyscallKey, v []uint64) {
			addCalls(SyscallKey{Group: group(k.Group), Nr: k.Nr, ABI: k.Abi}, v)
		}),
		readMap(c.objs.ErrorCounts, c.cpus, func(k syscallsErrorKey, v []uint64) {
			addError(ErrorKey{Group: group(k.Group), Nr: k.Nr, ABI: uint32(k.Abi), Errno: uint32(k.Errno)}, v)
		}),
		readMap(c.objs.OverflowErrors, c.cpus, func(k syscallsOverflowErrorKey, v []uint64) {
			addError(ErrorKey{Group: arrayGroup, Nr: k.Nr, ABI: uint32(k.Abi), Errno: uint32(k.Errno)}, v)
		}),
		readMap(c.objs.DurationBuckets, c.cpus, func(k syscallsBucketKey, v []syscallsBucketDurations) {
			addBucket(SyscallKey{Group: group(k.Group), Nr: k.Nr, ABI: uint32(k.Abi)}, k.Bucket, v)
		}),
		readMap(c.objs.OverflowBuckets, c.cpus, func(k syscallsOverflowBucketKey, v []syscallsBucketDurations) {
			addBucket(SyscallKey{Group: arrayGroup, Nr: k.Nr, ABI: uint32(k.Abi)}, k.Bucket, v)
		}),
		readMap(c.objs.Groups, 1, func(k syscallsGroupKey, _ []uint8) {
			counts.Groups = append(counts.Groups, group(k))
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("reading the counters: %w", err)
	}
	compact.add(c, counts.Groups, addCalls, addChunk)
	var dropped []uint64
	if err := c.objs.DroppedUpdates.Lookup(uint32(0), &dropped); err != nil {
		return nil, fmt.Errorf("reading dropped_updates: %w", err)
	}
	counts.Dropped = sum(dropped)
	return counts, nil
}

// fold adds count durations of sum sumNs, between minNs and maxNs, to b.
func fold(b *syscallsBucketDurations, count, sumNs, minNs, maxNs uint64) {
	if b.Count == 0 || minNs < b.MinNs {
		b.MinNs = minNs
	}
	b.Count += count
	b.DurationNs += sumNs
	b.MaxNs = max(b.MaxNs, maxNs)
}

// ExitedTasks returns the processes (and, when grouping by thread, the
// threads) that exited since their entry was last forgotten, by tid.
func (c *Counters) ExitedTasks() (map[uint32]ExitedTask, error) {
	exited := map[uint32]ExitedTask{}
	err := readMap(c.objs.ExitedTasks, 1, func(tid uint32, v []syscallsExitedTask) {
		exited[tid] = ExitedTask{Comm: commString(v[0].Comm), StartNs: v[0].StartNs}
	})
	if err != nil {
		return nil, fmt.Errorf("reading exited_tasks: %w", err)
	}
	return exited, nil
}

// Forget deletes every counter of the groups that dead says have ended, and
// the given exit records. Their totals are final once read; deleting them
// keeps the maps from filling up as processes and cgroups come and go.
func (c *Counters) Forget(counts *Counts, dead func(Group) bool, exitedTIDs []uint32) error {
	var statKeys []syscallsSyscallKey
	for k := range counts.Syscalls {
		if k.Group != OverflowGroup && dead(k.Group) && !c.compactCall(k.Nr) && counts.inCallMaps(k) {
			statKeys = append(statKeys, syscallsSyscallKey{Group: groupKey(k.Group), Nr: k.Nr, Abi: k.ABI})
		}
	}
	var errKeys []syscallsErrorKey
	for k := range counts.Errors {
		if k.Group != OverflowGroup && dead(k.Group) {
			errKeys = append(errKeys, syscallsErrorKey{Group: groupKey(k.Group), Nr: k.Nr, Abi: uint16(k.ABI), Errno: uint16(k.Errno)})
		}
	}
	var bucketKeys []syscallsBucketKey
	for k, buckets := range counts.Durations {
		if k.Group != OverflowGroup && dead(k.Group) && !c.compactBucket(k.Nr) {
			for b := range buckets {
				bucketKeys = append(bucketKeys, syscallsBucketKey{Group: groupKey(k.Group), Nr: k.Nr, Abi: uint16(k.ABI), Bucket: int16(b)})
			}
		}
	}
	compactCalls, compactChunks := c.compactKeys(counts, dead)
	var groupKeys []syscallsGroupKey
	for _, g := range counts.Groups {
		if dead(g) {
			groupKeys = append(groupKeys, groupKey(g))
		}
	}
	err := errors.Join(
		deleteKeys(c.objs.GroupCalls, statKeys),
		deleteKeys(c.objs.CompactCalls, compactCalls),
		deleteKeys(c.objs.CompactBuckets, compactChunks),
		deleteKeys(c.objs.ErrorCounts, errKeys),
		deleteKeys(c.objs.DurationBuckets, bucketKeys),
		deleteKeys(c.objs.ExitedTasks, exitedTIDs),
	)
	if err != nil {
		// A group stays while any of its counters does: a compact counter
		// left without its group would be read as the overflow group's and
		// counted twice. The next snapshot forgets it again.
		return err
	}
	err = deleteKeys(c.objs.Groups, groupKeys)
	if err == nil && len(groupKeys) > 0 {
		// Room for new groups again: let the programs try to admit them.
		err = c.objs.GroupsFull.Put(uint32(0), uint32(0))
	}
	return err
}
