//go:build linux && (amd64 || arm64)

package bpf

import (
	"errors"
	"fmt"
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
	hook       hookSpec
	build      hookBuild // the build of hook's programs that loaded
	unusable   []error   // why hooks tried before this one did not work
	objs       syscallsObjects
	links      []link.Link
	linkNames  []string // the tracepoint of each link
	attachedAt time.Time
	pinned     bool   // kept in bpffs at Options.PinPath after Close
	adopted    bool   // taken over from the pins of an earlier Load
	replaced   string // why pins found at Options.PinPath were replaced
	reattached string // see Reattached
	cpus       int
	lastSize   struct{ syscalls, errors, durations int } // of the last snapshot
	// noStartTimes may say why a build that reads start times did not
	// load, where the one that did reads none.
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

	var pins *pinState
	var replaced string
	if opts.PinPath != "" {
		if err := checkPinPath(opts.PinPath); err != nil {
			return nil, err
		}
		if pins, err = readPinState(opts.PinPath); err != nil {
			replaced = err.Error()
			pins = nil
		}
	}
	hooks := hookSpecs
	if opts.Hook != HookAuto {
		h, err := specOf(opts.Hook)
		if err != nil {
			return nil, err
		}
		hooks = []hookSpec{*h}
	} else if pins != nil {
		// The hook that counts now, if this kernel still has it.
		if h, err := specOf(pins.Hook); err == nil {
			hooks = append([]hookSpec{*h}, hooks...)
		}
	}
	var unusable []error
	for _, hook := range hooks {
		c, err := loadHook(opts, hook, cpus, loadOpts, &pins, &replaced)
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
		unusable = append(unusable, fmt.Errorf("%s: %w", hook.hook, err))
	}
	return nil, fmt.Errorf("no way of hooking the syscall path works on this kernel: %w", errors.Join(unusable...))
}

// loadHook loads and attaches the programs built for hook, trying its
// builds in turn (raw_tracepoint: first the one that reads start times
// through the kernel's BTF, then, where that does not load, the plain one).
// With Options.PinPath, it adopts the pins there when they were made of the
// same programs and options (*pins), and otherwise replaces them, saying
// why in *replaced.
func loadHook(opts Options, hook hookSpec, cpus int, loadOpts *ebpf.CollectionOptions, pins **pinState, replaced *string) (*Counters, error) {
	if err := hook.check(opts); err != nil {
		return nil, err
	}
	builds := hook.builds
	if *pins != nil {
		// The pinned build first, so that its pins are adopted, not replaced.
		for i, b := range builds {
			if objectsDigest(b) == (*pins).Objects {
				builds = append([]hookBuild{b}, append(append([]hookBuild{}, builds[:i]...), builds[i+1:]...)...)
				break
			}
		}
	}
	var first error
	for _, b := range builds {
		c, err := loadBuild(opts, hook, b, cpus, loadOpts, pins, replaced)
		if err == nil {
			if !b.startTimes {
				c.noStartTimes = first
			}
			return c, nil
		}
		var fe *filterError
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.As(err, &fe) {
			return nil, err
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// loadBuild loads and attaches one build of hook's programs.
func loadBuild(opts Options, hook hookSpec, build hookBuild, cpus int, loadOpts *ebpf.CollectionOptions,
	pins **pinState, replaced *string) (*Counters, error) {
	spec, err := build.load()
	if err != nil {
		return nil, err
	}
	if err := setConstants(spec, opts); err != nil {
		return nil, err
	}
	sizeMaps(spec, opts, hook)

	if *pins != nil {
		why := whyNotAdopt(*pins, opts, hook, build)
		if why == "" {
			c, err := adopt(opts, hook, build, spec, *pins, cpus)
			if err == nil {
				return c, nil
			}
			why = err.Error()
		}
		if err := RemovePins(opts.PinPath); err != nil {
			return nil, err
		}
		*pins, *replaced = nil, why
	}
	c := &Counters{opts: opts, hook: hook, build: build, cpus: cpus, replaced: *replaced}
	if opts.PinPath != "" {
		if err := os.MkdirAll(dir(opts, "maps"), 0o700); err != nil {
			return nil, fmt.Errorf("pin_path: %w", err)
		}
		pinMaps(spec)
		withPins := ebpf.CollectionOptions{}
		if loadOpts != nil {
			withPins = *loadOpts
		}
		withPins.Maps.PinPath = dir(opts, "maps")
		loadOpts, c.pinned = &withPins, true
	}
	if err := spec.LoadAndAssign(&c.objs, loadOpts); err != nil {
		c.removeFreshPins()
		return nil, loadError(err)
	}
	if err := c.fillFilters(); err != nil {
		_ = c.Close()
		c.removeFreshPins()
		return nil, err
	}
	if err := c.attachFiring(); err != nil {
		_ = c.Close()
		c.removeFreshPins()
		return nil, err
	}
	c.attachedAt = time.Now()
	if c.pinned {
		if err := c.pinProgramsAndLinks(); err != nil {
			_ = c.Close()
			c.removeFreshPins()
			return nil, fmt.Errorf("pin_path: %w", err)
		}
	}
	return c, nil
}

// removeFreshPins undoes the pins of a load that failed.
func (c *Counters) removeFreshPins() {
	if c.pinned {
		_ = RemovePins(c.opts.PinPath)
	}
}

// Adopted says whether Load took over counting that never stopped, pinned
// by an earlier Load with the same options: AttachedAt is then that Load's.
func (c *Counters) Adopted() bool { return c.adopted }

// ReplacedPins says why the pins found at Options.PinPath were replaced
// ("" if there were none, or they were adopted).
func (c *Counters) ReplacedPins() string { return c.replaced }

// Hook is how the programs hook the syscall path.
func (c *Counters) Hook() Hook { return c.hook.hook }

// UnusableHooks says why the hooks tried before Hook did not work.
func (c *Counters) UnusableHooks() []error { return c.unusable }

func (c *Counters) countsAtExit() bool { return c.hook.countsAtExit }

// callsInBuckets is the one rule of counting at exit that the reader must
// know: a timed call is counted in its duration bucket only (one map
// update instead of two), so a bucket's count is also calls.
func (c *Counters) callsInBuckets() bool {
	return c.countsAtExit() && c.opts.CountCalls && c.opts.MeasureDuration
}

// StartTimes says whether groups carry their task's start time (which
// keeps a reused pid apart from the process that had it before), and if
// not, why when known.
func (c *Counters) StartTimes() (bool, error) { return c.build.startTimes, c.noStartTimes }

// attach hooks the exit side first: an exit whose entry we did not see is
// not timed, while the reverse order could time a syscall from its entry to
// the return of a later one.
func (c *Counters) attach() error {
	for _, h := range c.hooksNeeded() {
		if err := c.attachOne(h); err != nil {
			return err
		}
	}
	return nil
}

// attachedHook is a program and the tracepoint it is attached to.
type attachedHook struct {
	tracepoint, group string
	prog              *ebpf.Program
}

// hooksNeeded are the programs the options need, in the order to attach.
func (c *Counters) hooksNeeded() []attachedHook {
	o := c.opts
	calls, errs, durations := o.CountCalls, o.CountErrors, o.MeasureDuration
	all := []struct {
		attachedHook
		needed bool
	}{
		{attachedHook{"sys_exit", "raw_syscalls", c.objs.SyscallsExit}, errs || durations || (calls && c.countsAtExit())},
		// Counts exit and exit_group at exit; records who exited.
		{attachedHook{"sched_process_exit", "sched", c.objs.SyscallsTaskExit}, o.recordsExits() || (calls && c.countsAtExit()) ||
			(durations && !c.countsAtExit())},
		// Also where calls are counted at exit: sigreturns lose their
		// number before they return.
		{attachedHook{"sys_enter", "raw_syscalls", c.objs.SyscallsEnter}, durations || (calls && !(c.countsAtExit() && o.UncountedSigreturns))},
	}
	var needed []attachedHook
	for _, h := range all {
		if h.needed {
			needed = append(needed, h.attachedHook)
		}
	}
	return needed
}

func (c *Counters) attachOne(h attachedHook) error {
	l, err := c.hook.attach(h.group, h.tracepoint, h.prog)
	if err != nil {
		return fmt.Errorf("attaching to %s %s: %w", c.hook.hook, h.tracepoint, privilegeHint(tracefsHint(err)))
	}
	c.links = append(c.links, l)
	c.linkNames = append(c.linkNames, h.tracepoint)
	return nil
}

// AttachedAt is when counting started: the start time of every cumulative
// counter.
func (c *Counters) AttachedAt() time.Time { return c.attachedAt }

// MaxGroups is the bound on distinct groups in the maps.
func (c *Counters) MaxGroups() uint32 { return c.opts.MaxGroups }

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
	for _, m := range []*ebpf.Map{c.objs.ArrayCalls, c.objs.GroupCalls, c.objs.CompactCalls, c.objs.ErrorCounts, c.objs.OverflowErrors,
		c.objs.DurationBuckets, c.objs.CompactBuckets, c.objs.OverflowBuckets, c.objs.Groups, c.objs.GroupsFull, c.objs.ExitedTasks, c.objs.DroppedUpdates, c.objs.InflightSyscalls, c.objs.ExcludedTgid,
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
// more than once. Pinned programs stay attached, and their maps counting,
// until RemovePins.
func (c *Counters) Close() error {
	var errs []error
	for _, l := range c.links {
		errs = append(errs, l.Close())
	}
	c.links, c.linkNames = nil, nil
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

func commString(comm [CommLen]int8) string {
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
