//go:build linux && (amd64 || arm64)

package bpf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// Counters is the set of loaded and attached programs and their maps.
type Counters struct {
	opts       Options
	hook       Hook
	unusable   []error // why hooks tried before this one did not work
	objs       syscallsObjects
	links      []link.Link
	attachedAt time.Time
	cpus       int
	lastSize   struct{ syscalls, errors, durations int } // of the last snapshot
	// startTimes: groups carry their task's start time; where they do not,
	// noStartTimes may say why the build that reads them did not load.
	startTimes   bool
	noStartTimes error
}

// Load checks privileges and kernel features, loads the programs and
// attaches them, with opts.Hook or else the first hook that works. The
// caller must Close the result.
func Load(opts Options) (*Counters, error) { return loadWith(opts, nil) }

// loadWith is Load with options for the loader: nil but in tests, which
// hide the kernel's BTF with them.
func loadWith(opts Options, loadOpts *ebpf.CollectionOptions) (*Counters, error) {
	if opts.MaxGroups == 0 {
		opts.MaxGroups = DefaultMaxGroups
	}
	if err := CheckPrivileges(); err != nil {
		return nil, err
	}
	if err := checkKernel(opts); err != nil {
		return nil, err
	}
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK.
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("raising RLIMIT_MEMLOCK for eBPF maps: %w", err)
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, fmt.Errorf("counting possible CPUs: %w", err)
	}

	hooks := []Hook{opts.Hook}
	if opts.Hook == HookAuto {
		hooks = Hooks
	}
	var unusable []error
	for _, hook := range hooks {
		c, err := loadHook(opts, hook, cpus, loadOpts)
		if err == nil {
			c.unusable = unusable
			// Loading parsed the kernel's BTF (megabytes, partly an mmap of
			// /sys/kernel/btf/vmlinux): give it back now rather than keep
			// it in the collector's resident memory until some later GC.
			debug.FreeOSMemory()
			return c, nil
		}
		// Privileges and bad filters are not the hook's fault.
		var fe *filterError
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.As(err, &fe) || len(hooks) == 1 {
			return nil, err
		}
		unusable = append(unusable, fmt.Errorf("%s: %w", hook, err))
	}
	return nil, fmt.Errorf("no way of hooking the syscall path works on this kernel: %w", errors.Join(unusable...))
}

// loadHook loads and attaches the programs built for hook. On
// raw_tracepoint it first tries the build that reads start times through
// the kernel's BTF, then, where that does not load (no BTF), the plain one.
func loadHook(opts Options, hook Hook, cpus int, loadOpts *ebpf.CollectionOptions) (*Counters, error) {
	if err := checkHook(hook, opts); err != nil {
		return nil, err
	}
	if hook == HookRawTracepoint {
		c, err := loadBuild(opts, hook, loadSyscallsRawTPCORE, cpus, loadOpts)
		if err == nil {
			c.startTimes = true
			return c, nil
		}
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, err
		}
		c, perr := loadBuild(opts, hook, loadSyscallsRawTP, cpus, loadOpts)
		if perr != nil {
			return nil, perr
		}
		c.noStartTimes = err
		return c, nil
	}
	c, err := loadBuild(opts, hook, func() (*ebpf.CollectionSpec, error) { return specFor(hook) }, cpus, loadOpts)
	if err == nil {
		c.startTimes = hook == HookTPBTF
	}
	return c, err
}

// loadBuild loads and attaches one build of the programs.
func loadBuild(opts Options, hook Hook, build func() (*ebpf.CollectionSpec, error), cpus int,
	loadOpts *ebpf.CollectionOptions) (*Counters, error) {
	spec, err := build()
	if err != nil {
		return nil, err
	}
	if err := setConstants(spec, opts); err != nil {
		return nil, err
	}
	sizeMaps(spec, opts, hook)

	c := &Counters{opts: opts, hook: hook, cpus: cpus}
	if err := spec.LoadAndAssign(&c.objs, loadOpts); err != nil {
		return nil, loadError(err)
	}
	if err := c.fillFilters(); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.attach(); err != nil {
		c.Close()
		return nil, err
	}
	c.attachedAt = time.Now()
	return c, nil
}

// specFor returns the programs built for a hook; all builds share names,
// so each loads into the same syscallsObjects.
func specFor(hook Hook) (*ebpf.CollectionSpec, error) {
	switch hook {
	case HookTPBTF:
		return loadSyscalls()
	case HookRawTracepoint:
		return loadSyscallsRawTP()
	case HookTracepoint:
		return loadSyscallsTracepoint()
	}
	return nil, fmt.Errorf("unknown hook %q (want one of %v)", hook, Hooks)
}

// Hook is how the programs hook the syscall path.
func (c *Counters) Hook() Hook { return c.hook }

// UnusableHooks says why the hooks tried before Hook did not work.
func (c *Counters) UnusableHooks() []error { return c.unusable }

// StartTimes says whether groups carry their task's start time (which
// keeps a reused pid apart from the process that had it before), and if
// not, why when known.
func (c *Counters) StartTimes() (bool, error) { return c.startTimes, c.noStartTimes }

// countsAtExit: with BTF, one program at sys_exit counts calls and errors;
// without, calls are counted at sys_enter.
func (c *Counters) countsAtExit() bool { return c.hook == HookTPBTF }

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
		high = f.Syscalls.High
	}
	vars := map[string]any{
		syscallsVarGroupByProcess:    opts.GroupByProcess,
		syscallsVarGroupByThread:     opts.GroupByThread,
		syscallsVarGroupByCgroup:     opts.GroupByCgroup,
		syscallsVarCountCalls:        opts.CountCalls,
		syscallsVarCountErrors:       opts.CountErrors,
		syscallsVarMeasureDuration:   opts.MeasureDuration,
		syscallsVarSelfTgid:          opts.ExcludeTGID,
		syscallsVarFilterPids:        len(f.PIDs) > 0,
		syscallsVarFilterComms:       len(f.Comms) > 0,
		syscallsVarFilterCgroupCount: uint32(len(f.CgroupDirs)),
		syscallsVarFilterSyscalls:    f.Syscalls != nil,
		syscallsVarAllowHighSyscalls: high,
		syscallsVarSyscallMask:       mask,
	}
	first, bounds := durationBounds(opts.DurationScale)
	var boundArray [maxDurationBounds]uint64
	copy(boundArray[:], bounds)
	vars[syscallsVarFirstBound] = first
	vars[syscallsVarBoundCount] = uint32(len(bounds))
	vars[syscallsVarDurationBounds] = boundArray
	for name, value := range vars {
		if err := spec.Variables[name].Set(value); err != nil {
			return fmt.Errorf("setting %s: %w", name, err)
		}
	}
	return nil
}

// sizeMaps sizes the maps for the chosen mode, so that a switched-off
// feature holds no kernel memory either. Per-CPU hashes preallocate a value
// per possible CPU for every entry: sizes trade exactness of attribution
// (the rest goes to the overflow group) against memory.
func sizeMaps(spec *ebpf.CollectionSpec, opts Options, hook Hook) {
	maxEntries := func(name string, n uint32) { spec.Maps[name].MaxEntries = max(n, 1) }
	if opts.grouped() {
		maxEntries(syscallsMapGroups, opts.MaxGroups)
		maxEntries(syscallsMapGroupStats, min(opts.MaxGroups*16, 1<<18))
		maxEntries(syscallsMapErrorCounts, min(opts.MaxGroups*4, 1<<16))
	} else {
		maxEntries(syscallsMapGroups, 1)
		maxEntries(syscallsMapGroupStats, 1024) // numbers beyond SyscallSlots
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
		maxEntries(syscallsMapOverflowBuckets, 1)
	case opts.grouped():
		maxEntries(syscallsMapDurationBuckets, min(opts.MaxGroups*32, 1<<18))
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
	// entered (see is_execve in syscalls.bpf.c).
	if !opts.MeasureDuration && !(hook == HookTPBTF && opts.CountCalls) {
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
	one := uint8(1)
	for _, pid := range c.opts.Filter.PIDs {
		if err := c.objs.FilterPidSet.Put(pid, one); err != nil {
			return fmt.Errorf("filter pid %d: %w", pid, err)
		}
	}
	for _, comm := range c.opts.Filter.Comms {
		var key [16]byte
		if len(comm) > len(key)-1 {
			return &filterError{fmt.Errorf("filter comm %q: longer than the kernel's 15 bytes", comm)}
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
		f.Close()
		if err != nil {
			return &filterError{fmt.Errorf("filter cgroup %s (must be a cgroup v2 directory): %w", dir, err)}
		}
	}
	return nil
}

// attach hooks the exit side first: an exit whose entry we did not see is
// not timed, while the reverse order could time a syscall from its entry to
// the return of a later one.
func (c *Counters) attach() error {
	o := c.opts
	calls, errs, durations := o.CountCalls, o.CountErrors, o.MeasureDuration
	hooks := []struct {
		tracepoint, group string
		prog              *ebpf.Program
		needed            bool
	}{
		{"sys_exit", "raw_syscalls", c.objs.SyscallsExit, errs || durations || (calls && c.countsAtExit())},
		// Counts exit and exit_group at exit; records who exited.
		{"sched_process_exit", "sched", c.objs.SyscallsTaskExit, o.recordsExits() || (calls && c.countsAtExit()) ||
			(durations && !c.countsAtExit())},
		// Also where calls are counted at exit: sigreturns lose their
		// number before they return.
		{"sys_enter", "raw_syscalls", c.objs.SyscallsEnter, durations || (calls && !(c.countsAtExit() && o.UncountedSigreturns))},
	}
	for _, h := range hooks {
		if !h.needed {
			continue
		}
		var l link.Link
		var err error
		switch c.hook {
		case HookTPBTF:
			l, err = link.AttachTracing(link.TracingOptions{Program: h.prog})
		case HookRawTracepoint:
			l, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: h.tracepoint, Program: h.prog})
		case HookTracepoint:
			l, err = link.Tracepoint(h.group, h.tracepoint, h.prog, nil)
		}
		if err != nil {
			return fmt.Errorf("attaching to %s %s: %w", c.hook, h.tracepoint, privilegeHint(tracefsHint(err)))
		}
		c.links = append(c.links, l)
	}
	return nil
}

// AttachedAt is when counting started: the start time of every cumulative
// counter.
func (c *Counters) AttachedAt() time.Time { return c.attachedAt }

// ReadCounts returns the current totals of every counter, summed over CPUs.
func (c *Counters) ReadCounts() (*Counts, error) {
	// Sized like the last snapshot: growing maps of ten thousands of keys
	// from empty was a third of the read.
	counts := &Counts{
		Syscalls:  make(map[SyscallKey]Stats, c.lastSize.syscalls),
		Errors:    make(map[ErrorKey]uint64, c.lastSize.errors),
		Durations: make(map[SyscallKey]Buckets, c.lastSize.durations),
	}
	defer func() {
		c.lastSize.syscalls, c.lastSize.errors, c.lastSize.durations = len(counts.Syscalls), len(counts.Errors), len(counts.Durations)
	}()
	addCalls := func(key SyscallKey, perCPU []uint64) {
		if n := sum(perCPU); n > 0 {
			s := counts.Syscalls[key]
			s.Calls += n
			counts.Syscalls[key] = s
		}
	}
	// A bucket's durations; with calls counted at exit, its count is also
	// the calls that were timed (they are counted nowhere else).
	timedCalls := c.countsAtExit() && c.opts.CountCalls
	addBucket := func(key SyscallKey, bucket int16, perCPU []syscallsBucketStats) {
		var b syscallsBucketStats
		for _, v := range perCPU {
			if v.Count == 0 {
				continue
			}
			if b.Count == 0 || v.MinNs < b.MinNs {
				b.MinNs = v.MinNs
			}
			b.Count += v.Count
			b.DurationNs += v.DurationNs
			b.MaxNs = max(b.MaxNs, v.MaxNs)
		}
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
		counts.Durations[key][int32(bucket)] += b.Count
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

	err := errors.Join(
		readMap(c.objs.ArrayStats, c.cpus, func(i uint32, v []uint64) {
			addCalls(SyscallKey{Group: arrayGroup, Nr: i % SyscallSlots, ABI: i / SyscallSlots}, v)
		}),
		readMap(c.objs.GroupStats, c.cpus, func(k syscallsSyscallKey, v []uint64) {
			addCalls(SyscallKey{Group: group(k.Group), Nr: k.Nr, ABI: k.Abi}, v)
		}),
		readMap(c.objs.ErrorCounts, c.cpus, func(k syscallsErrorKey, v []uint64) {
			addError(ErrorKey{Group: group(k.Group), Nr: k.Nr, ABI: uint32(k.Abi), Errno: uint32(k.Errno)}, v)
		}),
		readMap(c.objs.OverflowErrors, c.cpus, func(k syscallsOverflowErrorKey, v []uint64) {
			addError(ErrorKey{Group: arrayGroup, Nr: k.Nr, ABI: uint32(k.Abi), Errno: uint32(k.Errno)}, v)
		}),
		readMap(c.objs.DurationBuckets, c.cpus, func(k syscallsBucketKey, v []syscallsBucketStats) {
			addBucket(SyscallKey{Group: group(k.Group), Nr: k.Nr, ABI: uint32(k.Abi)}, k.Bucket, v)
		}),
		readMap(c.objs.OverflowBuckets, c.cpus, func(k syscallsOverflowBucketKey, v []syscallsBucketStats) {
			addBucket(SyscallKey{Group: arrayGroup, Nr: k.Nr, ABI: uint32(k.Abi)}, k.Bucket, v)
		}),
		readMap(c.objs.Groups, 1, func(k syscallsGroupKey, _ []uint8) {
			counts.Groups = append(counts.Groups, group(k))
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("reading the counters: %w", err)
	}
	var dropped []uint64
	if err := c.objs.DroppedUpdates.Lookup(uint32(0), &dropped); err != nil {
		return nil, fmt.Errorf("reading dropped_updates: %w", err)
	}
	counts.Dropped = sum(dropped)
	return counts, nil
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
		if k.Group != OverflowGroup && dead(k.Group) {
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
		if k.Group != OverflowGroup && dead(k.Group) {
			for b := range buckets {
				bucketKeys = append(bucketKeys, syscallsBucketKey{Group: groupKey(k.Group), Nr: k.Nr, Abi: uint16(k.ABI), Bucket: int16(b)})
			}
		}
	}
	var groupKeys []syscallsGroupKey
	for _, g := range counts.Groups {
		if dead(g) {
			groupKeys = append(groupKeys, groupKey(g))
		}
	}
	err := errors.Join(
		deleteKeys(c.objs.GroupStats, statKeys),
		deleteKeys(c.objs.ErrorCounts, errKeys),
		deleteKeys(c.objs.DurationBuckets, bucketKeys),
		deleteKeys(c.objs.Groups, groupKeys),
		deleteKeys(c.objs.ExitedTasks, exitedTIDs),
	)
	if len(groupKeys) > 0 {
		// Room for new groups again: let the programs try to admit them.
		err = errors.Join(err, c.objs.GroupsFull.Put(uint32(0), uint32(0)))
	}
	return err
}

// MaxGroups is the bound on distinct groups in the maps.
func (c *Counters) MaxGroups() uint32 { return c.opts.MaxGroups }

// ProgramStat is what the kernel's BPF statistics say of one program.
type ProgramStat struct {
	RunCount uint64
	Runtime  time.Duration
}

// ProgramStats returns each attached program's run count and run time since
// it was loaded. The kernel only counts while BPF statistics are enabled
// (EnableStats): they cost every BPF program on the host some time per run.
func (c *Counters) ProgramStats() (map[string]ProgramStat, error) {
	stats := map[string]ProgramStat{}
	for name, p := range map[string]*ebpf.Program{
		syscallsProgSyscallsEnter: c.objs.SyscallsEnter, syscallsProgSyscallsExit: c.objs.SyscallsExit,
		syscallsProgSyscallsTaskExit: c.objs.SyscallsTaskExit,
	} {
		st, err := p.Stats()
		if err != nil {
			return nil, fmt.Errorf("reading the statistics of %s: %w", name, err)
		}
		stats[name] = ProgramStat{RunCount: st.RunCount, Runtime: st.Runtime}
	}
	return stats, nil
}

// EnableStats turns on the kernel's BPF run-time statistics until the
// result is closed.
func EnableStats() (io.Closer, error) {
	closer, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return nil, fmt.Errorf("enabling BPF statistics: %w", privilegeHint(err))
	}
	return closer, nil
}

// ObjectIDs returns the kernel ids of the loaded programs and maps, for
// diagnostics and for tests that check nothing stays loaded after Close.
func (c *Counters) ObjectIDs() (progs []ebpf.ProgramID, maps []ebpf.MapID) {
	for _, p := range []*ebpf.Program{c.objs.SyscallsEnter, c.objs.SyscallsExit, c.objs.SyscallsTaskExit} {
		if info, err := p.Info(); err == nil {
			if id, ok := info.ID(); ok {
				progs = append(progs, id)
			}
		}
	}
	for _, m := range []*ebpf.Map{c.objs.ArrayStats, c.objs.GroupStats, c.objs.ErrorCounts, c.objs.OverflowErrors,
		c.objs.DurationBuckets, c.objs.OverflowBuckets, c.objs.Groups, c.objs.GroupsFull, c.objs.ExitedTasks, c.objs.DroppedUpdates, c.objs.InflightSyscalls,
		c.objs.FilterPidSet, c.objs.FilterCommSet, c.objs.FilterCgroupSet} {
		if info, err := m.Info(); err == nil {
			if id, ok := info.ID(); ok {
				maps = append(maps, id)
			}
		}
	}
	return progs, maps
}

// Close detaches every program and releases every map. It is safe to call
// more than once.
func (c *Counters) Close() error {
	var errs []error
	for _, l := range c.links {
		errs = append(errs, l.Close())
	}
	c.links = nil
	errs = append(errs, c.objs.Close())
	c.objs = syscallsObjects{}
	return errors.Join(errs...)
}

func group(k syscallsGroupKey) Group {
	return Group{CgroupID: k.CgroupId, StartNs: k.StartNs, TGID: k.Tgid, TID: k.Tid}
}

func groupKey(g Group) syscallsGroupKey {
	return syscallsGroupKey{CgroupId: g.CgroupID, StartNs: g.StartNs, Tgid: g.TGID, Tid: g.TID}
}

// deleteKeys removes keys that may or may not still exist.
func deleteKeys[K any](m *ebpf.Map, keys []K) error {
	if len(keys) == 0 {
		return nil
	}
	if _, err := m.BatchDelete(keys, nil); err == nil {
		return nil
	}
	// Older kernels lack batch operations, and a batch stops at the first
	// missing key: fall back to one call per key.
	for i := range keys {
		if err := m.Delete(&keys[i]); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("deleting from %s: %w", m, err)
		}
	}
	return nil
}

func sum(values []uint64) (total uint64) {
	for _, v := range values {
		total += v
	}
	return total
}

func commString(comm [16]int8) string {
	b := make([]byte, 0, len(comm))
	for _, c := range comm {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// privilegeHint turns a permission error from the kernel into advice.
func privilegeHint(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (%s)", err, grantAdvice)
	}
	return err
}
