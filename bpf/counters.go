//go:build linux

package bpf

import (
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// Options chooses what the kernel programs count. Everything switched off is
// pruned from the programs by the verifier, so it costs nothing.
type Options struct {
	// PerProcess keys counts by thread-group id; otherwise they are
	// system-wide (SyscallKey.TGID and ErrorKey.TGID are then 0).
	PerProcess      bool
	CountCalls      bool
	CountErrors     bool
	MeasureDuration bool
	// ExcludeTGID is a process whose syscalls are not counted (0: none),
	// normally the collector itself.
	ExcludeTGID uint32
}

func (o Options) needsExitHook() bool { return o.CountErrors || o.MeasureDuration }

// Map sizes. Per-CPU hashes preallocate max_entries values for every
// possible CPU, so these trade exactness on very busy hosts against memory.
const (
	processStatsEntries = 32768 // distinct (process, syscall) pairs
	systemStatsEntries  = 1024  // syscall numbers beyond the array (x32, unknown)
	processErrorEntries = 16384 // distinct (process, syscall, errno) triples
	systemErrorEntries  = 4096
	firstBatchSize      = 4096
)

// SyscallKey identifies one counter: a syscall of a process (TGID 0 when
// counting system-wide).
type SyscallKey struct{ TGID, Nr uint32 }

// ErrorKey identifies the errors of one syscall of a process with one errno.
type ErrorKey struct{ TGID, Nr, Errno uint32 }

// Stats is the sum over all CPUs of one syscall's counters.
type Stats struct {
	Calls      uint64
	DurationNs uint64
}

// Counts is a snapshot of every counter. Counters only grow while a process
// lives, so a snapshot is a cumulative total since the programs attached.
type Counts struct {
	Syscalls map[SyscallKey]Stats
	Errors   map[ErrorKey]uint64
	// Dropped counts counter updates lost because a map was full.
	Dropped uint64
}

// Counters is the set of loaded and attached programs and their maps.
type Counters struct {
	opts       Options
	objs       syscallsObjects
	links      []link.Link
	attachedAt time.Time
	cpus       int
}

// Load checks privileges and kernel features, loads the programs and
// attaches them. The caller must Close the result.
func Load(opts Options) (*Counters, error) {
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

	spec, err := loadSyscalls()
	if err != nil {
		return nil, err
	}
	vars := map[string]any{
		syscallsVarPerProcess:      opts.PerProcess,
		syscallsVarCountCalls:      opts.CountCalls,
		syscallsVarCountErrors:     opts.CountErrors,
		syscallsVarMeasureDuration: opts.MeasureDuration,
		syscallsVarSelfTgid:        opts.ExcludeTGID,
	}
	for name, value := range vars {
		if err := spec.Variables[name].Set(value); err != nil {
			return nil, fmt.Errorf("setting %s: %w", name, err)
		}
	}
	sizeMaps(spec, opts)

	c := &Counters{opts: opts, cpus: cpus}
	if err := spec.LoadAndAssign(&c.objs, nil); err != nil {
		return nil, loadError(err)
	}
	if err := c.attach(); err != nil {
		c.Close()
		return nil, err
	}
	c.attachedAt = time.Now()
	return c, nil
}

// sizeMaps shrinks what the chosen mode does not use, so that a switched-off
// feature holds no kernel memory either.
func sizeMaps(spec *ebpf.CollectionSpec, opts Options) {
	stats, errs := spec.Maps[syscallsMapProcessStats], spec.Maps[syscallsMapErrorCounts]
	stats.MaxEntries, errs.MaxEntries = processStatsEntries, processErrorEntries
	if !opts.PerProcess {
		stats.MaxEntries, errs.MaxEntries = systemStatsEntries, systemErrorEntries
		spec.Maps[syscallsMapExitedProcesses].MaxEntries = 1
	}
	if !opts.CountErrors {
		errs.MaxEntries = 1
	}
	if !opts.needsExitHook() {
		// The programs still reference the map, so it must exist; a tiny
		// plain hash also works on kernels without task storage.
		inflight := spec.Maps[syscallsMapInflightSyscalls]
		inflight.Type, inflight.Flags, inflight.MaxEntries = ebpf.Hash, 0, 1
	}
}

// attach hooks the exit side first: an exit whose entry we did not see is
// ignored, while the reverse order could leave a half-recorded syscall.
func (c *Counters) attach() error {
	type hook struct {
		tracepoint string
		prog       *ebpf.Program
		needed     bool
	}
	hooks := []hook{
		{"sys_exit", c.objs.SyscallsExit, c.opts.needsExitHook()},
		{"sched_process_exit", c.objs.SyscallsProcessExit, c.opts.PerProcess},
		{"sys_enter", c.objs.SyscallsEnter, c.opts.CountCalls || c.opts.needsExitHook()},
	}
	for _, h := range hooks {
		if !h.needed {
			continue
		}
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: h.tracepoint, Program: h.prog})
		if err != nil {
			return fmt.Errorf("attaching to raw tracepoint %s: %w", h.tracepoint, privilegeHint(err))
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
	counts := &Counts{Syscalls: map[SyscallKey]Stats{}, Errors: map[ErrorKey]uint64{}}

	addStats := func(key SyscallKey, perCPU []syscallsSyscallStats) {
		var s Stats
		for _, v := range perCPU {
			s.Calls += v.Calls
			s.DurationNs += v.DurationNs
		}
		if s == (Stats{}) {
			return
		}
		prev := counts.Syscalls[key]
		counts.Syscalls[key] = Stats{Calls: prev.Calls + s.Calls, DurationNs: prev.DurationNs + s.DurationNs}
	}
	if !c.opts.PerProcess {
		err := readPerCPU(c.objs.SystemStats, c.cpus, func(nr uint32, v []syscallsSyscallStats) {
			addStats(SyscallKey{Nr: nr}, v)
		})
		if err != nil {
			return nil, fmt.Errorf("reading system_stats: %w", err)
		}
	}
	err := readPerCPU(c.objs.ProcessStats, c.cpus, func(k syscallsSyscallKey, v []syscallsSyscallStats) {
		addStats(SyscallKey{TGID: k.Tgid, Nr: k.Nr}, v)
	})
	if err != nil {
		return nil, fmt.Errorf("reading process_stats: %w", err)
	}
	err = readPerCPU(c.objs.ErrorCounts, c.cpus, func(k syscallsErrorKey, v []uint64) {
		if n := sum(v); n > 0 {
			counts.Errors[ErrorKey{TGID: k.Tgid, Nr: k.Nr, Errno: k.Errno}] = n
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading error_counts: %w", err)
	}
	var dropped []uint64
	if err := c.objs.DroppedUpdates.Lookup(uint32(0), &dropped); err != nil {
		return nil, fmt.Errorf("reading dropped_updates: %w", err)
	}
	counts.Dropped = sum(dropped)
	return counts, nil
}

// ExitedProcesses returns the comm of every thread-group leader that exited
// since its entry was last forgotten, keyed by tgid.
func (c *Counters) ExitedProcesses() (map[uint32]string, error) {
	exited := map[uint32]string{}
	var tgid uint32
	var p syscallsExitedProcess
	it := c.objs.ExitedProcesses.Iterate()
	for it.Next(&tgid, &p) {
		exited[tgid] = commString(p.Comm)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("reading exited_processes: %w", err)
	}
	return exited, nil
}

// Forget deletes every counter of the given processes, which must have
// exited: their totals are final once read, and deleting them keeps the maps
// from filling up as processes come and go.
func (c *Counters) Forget(counts *Counts, tgids map[uint32]bool) error {
	var statKeys []syscallsSyscallKey
	for k := range counts.Syscalls {
		if tgids[k.TGID] {
			statKeys = append(statKeys, syscallsSyscallKey{Tgid: k.TGID, Nr: k.Nr})
		}
	}
	var errKeys []syscallsErrorKey
	for k := range counts.Errors {
		if tgids[k.TGID] {
			errKeys = append(errKeys, syscallsErrorKey{Tgid: k.TGID, Nr: k.Nr, Errno: k.Errno})
		}
	}
	exitKeys := make([]uint32, 0, len(tgids))
	for t := range tgids {
		exitKeys = append(exitKeys, t)
	}
	return errors.Join(
		deleteKeys(c.objs.ProcessStats, statKeys),
		deleteKeys(c.objs.ErrorCounts, errKeys),
		deleteKeys(c.objs.ExitedProcesses, exitKeys),
	)
}

// ObjectIDs returns the kernel ids of the loaded programs and maps, for
// diagnostics and for tests that check nothing stays loaded after Close.
func (c *Counters) ObjectIDs() (progs []ebpf.ProgramID, maps []ebpf.MapID) {
	for _, p := range []*ebpf.Program{c.objs.SyscallsEnter, c.objs.SyscallsExit, c.objs.SyscallsProcessExit} {
		if info, err := p.Info(); err == nil {
			if id, ok := info.ID(); ok {
				progs = append(progs, id)
			}
		}
	}
	for _, m := range []*ebpf.Map{c.objs.SystemStats, c.objs.ProcessStats, c.objs.ErrorCounts,
		c.objs.ExitedProcesses, c.objs.DroppedUpdates, c.objs.InflightSyscalls} {
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

// deleteKeys removes keys that may or may not still exist.
func deleteKeys[K any](m *ebpf.Map, keys []K) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := m.BatchDelete(keys, nil)
	if err == nil {
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
