//go:build linux && (amd64 || arm64)

package bpf

import (
	"fmt"
	"os"

	"github.com/cilium/ebpf"
)

// setConstants writes the options into the programs' constants before
// loading: the verifier then prunes every switched-off feature.
func setConstants(spec *ebpf.CollectionSpec, opts Options) error {
	f := opts.Filter
	var mask [ABICount * SyscallSlots / 64]uint64
	high := true
	if f.Syscalls != nil {
		for abi := range ABICount {
			for nr, on := range f.Syscalls.Selected[abi] {
				if on {
					mask[abi*SyscallSlots/64+nr/64] |= 1 << (nr % 64)
				}
			}
		}
		high = f.Syscalls.AllowHighSyscalls
	}
	vars := map[string]any{
		syscallsVarGroupByProcess:    opts.GroupByProcess,
		syscallsVarGroupByThread:     opts.GroupByThread,
		syscallsVarGroupByCgroup:     opts.GroupByCgroup,
		syscallsVarCountCalls:        opts.CountCalls,
		syscallsVarCountErrors:       opts.CountErrors,
		syscallsVarMeasureDuration:   opts.MeasureDuration,
		syscallsVarExcludeProcess:    opts.ExcludeTGID != 0,
		syscallsVarAblate:            opts.Ablate,
		syscallsVarFilterPids:        len(f.PIDs) > 0,
		syscallsVarFilterComms:       len(f.Comms) > 0,
		syscallsVarFilterCgroupCount: uint32(len(f.CgroupDirs)),
		syscallsVarFilterSyscalls:    f.Syscalls != nil,
		syscallsVarAllowHighSyscalls: high,
		syscallsVarSyscallMask:       mask,
		syscallsVarSampleBelow:       sampleBelow(opts.DurationSampleOneIn),
	}
	for name, value := range durationVars(opts.DurationScale) {
		vars[name] = value
	}
	for name, value := range vars {
		if err := spec.Variables[name].Set(value); err != nil {
			return fmt.Errorf("setting %s: %w", name, err)
		}
	}
	return nil
}

// sampleBelow is the kernel's sample_below for 1 in n: a uniform u32 is
// below 2^32/n with probability 1/n (to 2^-32). 0 times every call.
func sampleBelow(n uint32) uint32 {
	if n <= 1 {
		return 0
	}
	return uint32((uint64(1) << 32) / uint64(n))
}

// durationVars are the constants of histogram.h for scale, by name: the
// counting programs and the bucket test program share them.
func durationVars(scale int) map[string]any {
	first, bounds := durationBounds(scale)
	var boundArray [DurationBoundSlots]uint64
	for i := copy(boundArray[:], bounds); i < len(boundArray); i++ {
		boundArray[i] = 1<<63 - 1 // above every duration: bucket_of stops there
	}
	return map[string]any{
		syscallsVarFirstBound:       first,
		syscallsVarBoundCount:       uint32(len(bounds)),
		syscallsVarDurationScale:    uint32(scale),
		syscallsVarBoundGuessOffset: boundGuessOffset(scale),
		syscallsVarDurationBounds:   boundArray,
	}
}

// sizeMaps sizes the maps for the chosen mode, so that a switched-off
// feature holds no kernel memory either. Per-CPU hashes preallocate a value
// per possible CPU for every entry: sizes trade exactness of attribution
// (the rest goes to the overflow group) against memory.
func sizeMaps(spec *ebpf.CollectionSpec, opts Options, hook hookSpec) {
	maxEntries := func(name string, n uint32) { spec.Maps[name].MaxEntries = max(n, 1) }
	calls, buckets := syscallsMapGroupCalls, syscallsMapDurationBuckets
	if opts.compact() {
		// The wide maps keep only numbers too large for compact keys.
		calls, buckets = syscallsMapCompactCalls, syscallsMapCompactBuckets
		maxEntries(syscallsMapGroupCalls, 1024)
		maxEntries(syscallsMapDurationBuckets, 4096)
	}
	if opts.grouped() {
		maxEntries(syscallsMapGroups, opts.MaxGroups)
		maxEntries(calls, min(opts.MaxGroups*16, 1<<18))
		maxEntries(syscallsMapErrorCounts, min(opts.MaxGroups*4, 1<<16))
	} else {
		maxEntries(syscallsMapGroups, 1)
		maxEntries(syscallsMapGroupCalls, 1024) // numbers beyond SyscallSlots
		maxEntries(syscallsMapErrorCounts, 4096)
	}
	if !opts.CountErrors {
		maxEntries(syscallsMapErrorCounts, 1)
		maxEntries(syscallsMapOverflowErrors, 1)
	}
	// A syscall's durations typically span a handful of buckets.
	switch {
	case !opts.MeasureDuration:
		maxEntries(syscallsMapDurationBuckets, 1)
		maxEntries(syscallsMapCompactBuckets, 1)
		maxEntries(syscallsMapOverflowBuckets, 1)
	case opts.compact():
		// A chunk holds 8 buckets: room for 128 per group on average,
		// in about the memory of 32 single buckets.
		maxEntries(buckets, min(opts.MaxGroups*16, 1<<17))
	case opts.grouped():
		maxEntries(buckets, min(opts.MaxGroups*32, 1<<18))
	default:
		maxEntries(syscallsMapDurationBuckets, 16384)
	}
	if !opts.recordsExits() {
		maxEntries(syscallsMapExitedTasks, 1)
	}
	maxEntries(syscallsMapFilterPidSet, uint32(len(opts.Filter.PIDs)))
	maxEntries(syscallsMapFilterCommSet, uint32(len(opts.Filter.Comms)))
	maxEntries(syscallsMapFilterCgroupSet, uint32(len(opts.Filter.CgroupDirs)))
	// Counting at exit, the entry records also remember how an execve
	// entered (see is_execve in abi.bpf.h).
	if !opts.MeasureDuration && !(hook.countsAtExit && opts.CountCalls) {
		// The programs still reference the map, so it must exist; a tiny
		// plain hash also works on kernels without task storage.
		inflight := spec.Maps[syscallsMapInflightSyscalls]
		inflight.Type, inflight.Flags, inflight.MaxEntries = ebpf.Hash, 0, 1
	}
}

// filterError is a filter the kernel refused, whatever the hook.
type filterError struct{ error }

func (e *filterError) Unwrap() error { return e.error }

func (c *Counters) fillFilters() error {
	if err := c.setExcluded(c.opts.ExcludeTGID); err != nil {
		return err
	}
	one := uint8(1)
	for _, pid := range c.opts.Filter.PIDs {
		if err := c.objs.FilterPidSet.Put(pid, one); err != nil {
			return fmt.Errorf("filter pid %d: %w", pid, err)
		}
	}
	for _, comm := range c.opts.Filter.Comms {
		var key [CommLen]byte
		if len(comm) > len(key)-1 {
			return &filterError{fmt.Errorf("filter comm %q: longer than the kernel's %d bytes", comm, len(key)-1)}
		}
		copy(key[:], comm)
		if err := c.objs.FilterCommSet.Put(key, one); err != nil {
			return fmt.Errorf("filter comm %q: %w", comm, err)
		}
	}
	for i, dir := range c.opts.Filter.CgroupDirs {
		f, err := os.Open(dir)
		if err != nil {
			return &filterError{fmt.Errorf("filter cgroup: %w", err)}
		}
		err = c.objs.FilterCgroupSet.Put(uint32(i), uint32(f.Fd()))
		_ = f.Close()
		if err != nil {
			return &filterError{fmt.Errorf("filter cgroup %s (must be a cgroup v2 directory): %w", dir, err)}
		}
	}
	return nil
}

// setExcluded names the process whose syscalls are not counted.
func (c *Counters) setExcluded(tgid uint32) error {
	if err := c.objs.ExcludedTgid.Put(uint32(0), tgid); err != nil {
		return fmt.Errorf("excluding process %d: %w", tgid, err)
	}
	return nil
}
