package syscallsreceiver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/internal/cgroupv2"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"
)

// group_by values.
const (
	GroupByProcess   = "process"
	GroupByThread    = "thread"
	GroupByContainer = "container"
)

// validGroupBy lists what group_by accepts.
var validGroupBy = []string{GroupByProcess, GroupByThread, GroupByContainer}

// hookAuto lets the receiver pick the cheapest hook the kernel supports.
const hookAuto = "auto"

// Limits of the in-kernel filters and of max_groups.
const (
	maxFilterPIDs  = 1024
	maxFilterComms = 256
	maxGroupsLimit = 100_000
	pidMaxLimit    = 1 << 22 // PID_MAX_LIMIT on 64-bit kernels
	commMaxBytes   = bpf.CommLen - 1
)

// Config is the receiver's configuration.
type Config struct {
	scraperhelper.ControllerConfig `mapstructure:",squash"`
	metadata.MetricsBuilderConfig  `mapstructure:",squash"`

	// GroupBy chooses the resources counts are kept for: any of process,
	// thread and container; [] counts system-wide.
	GroupBy []string `mapstructure:"group_by"`

	// Filter selects, in the kernel, what is counted.
	Filter FilterConfig `mapstructure:"filter"`

	// ExcludeSelf leaves the collector's own syscalls out, so that it does
	// not measure itself.
	ExcludeSelf bool `mapstructure:"exclude_self"`

	// MaxGroups is the hard bound on distinct groups tracked in the kernel
	// and exported; the counts of further groups go to one overflow group.
	MaxGroups int `mapstructure:"max_groups"`

	// Duration shapes the syscall.duration histogram.
	Duration DurationConfig `mapstructure:"duration"`

	// ProgramStats turns on the kernel's BPF statistics so that the
	// receiver's own telemetry reports its programs' run time and count.
	// Off by default: while on, every BPF program on the host pays for
	// two clock reads per run.
	ProgramStats bool `mapstructure:"program_stats"`

	// Hook is how the programs hook the syscall path: auto (the first of
	// tp_btf, raw_tracepoint, tracepoint that this kernel supports) or
	// one of them.
	Hook string `mapstructure:"hook"`

	// PinPath, a directory on bpffs, keeps counting across collector
	// restarts: the programs stay attached and their maps counting while
	// the collector is down, and the next Start adopts them. Empty (the
	// default): nothing outlives the collector, and pins left at
	// DefaultPinPath(id) by an earlier config are removed.
	PinPath string `mapstructure:"pin_path"`

	_ struct{}
}

// pinRoot is where DefaultPinPath puts each receiver's pins.
const pinRoot = "/sys/fs/bpf/otelcol-syscalls"

// DefaultPinPath is the pin path the documentation recommends for a
// receiver: /sys/fs/bpf/otelcol-syscalls/<receiver id>.
func DefaultPinPath(id string) string { return filepath.Join(pinRoot, id) }

// FilterConfig lists what to count. Non-empty lists combine with AND;
// each list is OR.
type FilterConfig struct {
	PIDs            []int    `mapstructure:"pids"`             // thread-group ids; their threads are included
	Comms           []string `mapstructure:"comms"`            // exact kernel comm
	Cgroups         []string `mapstructure:"cgroups"`          // cgroup v2 paths; descendants included
	Syscalls        []string `mapstructure:"syscalls"`         // count only these
	ExcludeSyscalls []string `mapstructure:"exclude_syscalls"` // never count these

	_ struct{}
}

// maxSampleOneIn bounds duration.sample_one_in: rarer samples would leave
// most syscalls of a scrape interval without a single duration.
const maxSampleOneIn = 1 << 16

// DurationConfig shapes the syscall.duration exponential histogram.
type DurationConfig struct {
	// MaxScale is the histogram's scale, 0 to 3: 2^scale buckets per
	// doubling (0 gives factor-2 buckets, 3 gives ±4.5 %).
	MaxScale int `mapstructure:"max_scale"`

	// SampleOneIn, above 1, times about 1 in N calls (chosen at random, per
	// call, in the kernel): calls and errors stay exact, the histogram holds
	// the sampled calls only. 1 times every call.
	SampleOneIn int `mapstructure:"sample_one_in"`

	_ struct{}
}

func createDefaultConfig() *Config {
	controller := scraperhelper.NewDefaultControllerConfig()
	controller.CollectionInterval = 10 * time.Second
	return &Config{
		ControllerConfig:     controller,
		MetricsBuilderConfig: metadata.NewDefaultMetricsBuilderConfig(),
		GroupBy:              []string{GroupByProcess},
		ExcludeSelf:          true,
		MaxGroups:            bpf.DefaultMaxGroups,
		Duration:             DurationConfig{MaxScale: bpf.MaxDurationScale, SampleOneIn: 1},
		Hook:                 hookAuto,
	}
}

// Validate reports every invalid value, naming its key, before anything is
// loaded into the kernel. The embedded configs validate themselves.
func (c *Config) Validate() error {
	var errs []error
	errs = append(errs, checkList("group_by", c.GroupBy, 0, func(g string) error {
		if !slices.Contains(validGroupBy, g) {
			return fmt.Errorf("unknown value %q (valid values: %s; [] counts system-wide)", g, strings.Join(validGroupBy, ", "))
		}
		return nil
	}))
	m := c.Metrics
	if !m.SyscallCalls.Enabled && !m.SyscallErrors.Enabled && !m.SyscallDuration.Enabled {
		errs = append(errs, errors.New("metrics: syscall.calls, syscall.errors and syscall.duration are all disabled; enable at least one"))
	}
	if c.MaxGroups < 1 || c.MaxGroups > maxGroupsLimit {
		errs = append(errs, fmt.Errorf("max_groups: %d is out of range: it must be between 1 and %d", c.MaxGroups, maxGroupsLimit))
	}
	if c.Duration.MaxScale < 0 || c.Duration.MaxScale > bpf.MaxDurationScale {
		errs = append(errs, fmt.Errorf("duration.max_scale: %d is out of range: it must be between 0 and %d", c.Duration.MaxScale, bpf.MaxDurationScale))
	}
	if c.Duration.SampleOneIn < 1 || c.Duration.SampleOneIn > maxSampleOneIn {
		errs = append(errs, fmt.Errorf("duration.sample_one_in: %d is out of range: 1 times every call, N (up to %d) about 1 call in N", c.Duration.SampleOneIn, maxSampleOneIn))
	}
	if c.PinPath != "" && !filepath.IsAbs(c.PinPath) {
		errs = append(errs, fmt.Errorf("pin_path: %q must be an absolute path on a bpffs, such as %s", c.PinPath, DefaultPinPath("syscalls")))
	}
	if c.Hook != hookAuto && !slices.Contains(bpf.Hooks, bpf.Hook(c.Hook)) {
		valid := []string{hookAuto}
		for _, h := range bpf.Hooks {
			valid = append(valid, string(h))
		}
		errs = append(errs, fmt.Errorf("hook: unknown value %q (valid values: %s)", c.Hook, strings.Join(valid, ", ")))
	}
	errs = append(errs, c.Filter.validate()...)
	return errors.Join(errs...)
}

func (f *FilterConfig) validate() []error {
	table := sysnames.Native()
	knownSyscall := func(name string) error {
		if _, ok := table.Number(name); !ok {
			return fmt.Errorf("unknown syscall %q on %s", name, table.Arch())
		}
		return nil
	}
	errs := []error{
		checkList("filter.pids", f.PIDs, maxFilterPIDs, func(pid int) error {
			if pid < 1 || pid > pidMaxLimit {
				return fmt.Errorf("%d is not a valid pid", pid)
			}
			return nil
		}),
		checkList("filter.comms", f.Comms, maxFilterComms, func(comm string) error {
			if comm == "" || len(comm) > commMaxBytes {
				return fmt.Errorf("%q: a comm is 1 to %d bytes (the kernel truncates longer names)", comm, commMaxBytes)
			}
			return nil
		}),
		checkList("filter.cgroups", f.Cgroups, bpf.MaxFilterCgroups, func(path string) error {
			_, err := cgroupDir(path)
			return err
		}),
		checkList("filter.syscalls", f.Syscalls, 0, knownSyscall),
		checkList("filter.exclude_syscalls", f.ExcludeSyscalls, 0, knownSyscall),
	}
	for _, name := range f.Syscalls {
		if slices.Contains(f.ExcludeSyscalls, name) {
			errs = append(errs, fmt.Errorf("filter: %q is both in syscalls and in exclude_syscalls", name))
		}
	}
	return errs
}

// checkList validates a list option: an explicitly empty list is an error
// (it would count nothing), so are duplicates and bad elements.
func checkList[T comparable](key string, list []T, limit int, check func(T) error) error {
	if list == nil {
		return nil
	}
	var errs []error
	if len(list) == 0 && key != "group_by" {
		errs = append(errs, fmt.Errorf("%s: an empty list would count nothing; remove the key to count everything", key))
	}
	if limit > 0 && len(list) > limit {
		errs = append(errs, fmt.Errorf("%s: %d entries, at most %d are supported", key, len(list), limit))
	}
	seen := map[T]bool{}
	for _, v := range list {
		if err := check(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		} else if seen[v] {
			errs = append(errs, fmt.Errorf("%s: %#v is listed twice", key, v))
		}
		seen[v] = true
	}
	return errors.Join(errs...)
}

func (c *Config) groupBy(g string) bool { return slices.Contains(c.GroupBy, g) }

// perTask says whether counts are attributed to processes or threads.
func (c *Config) perTask() bool { return c.groupBy(GroupByProcess) || c.groupBy(GroupByThread) }

// bpfOptions translates the configuration for the kernel programs.
func (c *Config) bpfOptions() (bpf.Options, error) {
	opts := bpf.Options{
		GroupByProcess:      c.groupBy(GroupByProcess),
		GroupByThread:       c.groupBy(GroupByThread),
		GroupByCgroup:       c.groupBy(GroupByContainer),
		CountCalls:          c.Metrics.SyscallCalls.Enabled,
		CountErrors:         c.Metrics.SyscallErrors.Enabled,
		MeasureDuration:     c.Metrics.SyscallDuration.Enabled,
		MaxGroups:           uint32(c.MaxGroups),
		DurationScale:       c.Duration.MaxScale,
		DurationSampleOneIn: uint32(c.Duration.SampleOneIn),
		Filter:              bpf.Filter{Comms: c.Filter.Comms},
	}
	if c.Hook != hookAuto {
		opts.Hook = bpf.Hook(c.Hook)
	}
	opts.PinPath = c.PinPath
	if c.ExcludeSelf {
		opts.ExcludeTGID = uint32(os.Getpid())
	}
	for _, pid := range c.Filter.PIDs {
		opts.Filter.PIDs = append(opts.Filter.PIDs, uint32(pid))
	}
	for _, path := range c.Filter.Cgroups {
		dir, err := cgroupDir(path)
		if err != nil {
			return opts, fmt.Errorf("filter.cgroups: %w", err)
		}
		opts.Filter.CgroupDirs = append(opts.Filter.CgroupDirs, dir)
	}
	if c.Filter.Syscalls != nil || c.Filter.ExcludeSyscalls != nil {
		opts.Filter.Syscalls = syscallSelection(sysnames.Native(), c.Filter.Syscalls, c.Filter.ExcludeSyscalls)
	}
	return opts, nil
}

// syscallSelection marks the numbers of the named syscalls in every ABI the
// kernel serves: a name absent from a table (e.g. a 64-bit-only syscall in
// the 32-bit table) selects nothing there.
func syscallSelection(native *sysnames.Table, include, exclude []string) *bpf.SyscallSelection {
	sel := &bpf.SyscallSelection{AllowHighSyscalls: include == nil}
	tables := [bpf.ABICount]*sysnames.Table{bpf.ABINative: native, bpf.ABICompat: native.Compat(), bpf.ABIX32: native}
	for abi, table := range tables {
		if include == nil {
			for nr := range sel.Selected[abi] {
				sel.Selected[abi][nr] = true
			}
		}
		for _, name := range include {
			if nr, ok := table.Number(name); ok && nr < bpf.SyscallSlots {
				sel.Selected[abi][nr] = true
			}
		}
		for _, name := range exclude {
			if nr, ok := table.Number(name); ok && nr < bpf.SyscallSlots {
				sel.Selected[abi][nr] = false
			}
		}
	}
	return sel
}

// cgroupDir resolves a cgroup v2 path from the configuration to the
// directory on this host.
func cgroupDir(path string) (string, error) {
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("%q: a cgroup path starts with / (the cgroup v2 root)", path)
	}
	root, err := cgroupv2.Root()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, filepath.Clean(path))
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%q does not exist in the cgroup v2 hierarchy mounted at %s", path, root)
	}
	return dir, nil
}
