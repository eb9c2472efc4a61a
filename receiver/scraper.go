//go:build linux && (amd64 || arm64)

package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/receiver/internal/metadata"
)

// groupInfo is what the resource of a group carries besides its ids.
type groupInfo struct {
	Comm       string // process comm
	Exe        string // only while alive
	PPID       int64  // only while alive
	ThreadName string
	Cgroup     string
}

// taskID names one incarnation of a process or thread: a reused id has
// another start time.
type taskID struct {
	id      uint32
	startNs uint64
}

// syscallsScraper turns the kernel counters into metrics on every scrape.
type syscallsScraper struct {
	cfg      *Config
	settings receiver.Settings
	procfs   string
	names    *sysnames.Table

	counters  *bpf.Counters
	startTime pcommon.Timestamp // when counting began: every point's start
	cgroups   *cgroupPaths      // nil unless grouping by container on a cgroup v2 host
	mb        *metadata.MetricsBuilder
	// known holds the groups alive at the last scrape: they are checked
	// for exit on the next one, and name them if their exit went unseen.
	// Bounded by max_groups.
	known   map[bpf.Group]groupInfo
	dropped uint64

	telemetry *metadata.TelemetryBuilder
	bpfStats  io.Closer // non-nil while program_stats keeps BPF statistics on
}

func newSyscallsScraper(cfg *Config, settings receiver.Settings) *syscallsScraper {
	return &syscallsScraper{cfg: cfg, settings: settings, procfs: "/proc", names: sysnames.Native()}
}

func (s *syscallsScraper) start(context.Context, component.Host) error {
	opts, err := s.cfg.bpfOptions()
	if err != nil {
		return fmt.Errorf("syscalls receiver: %w", err)
	}
	if s.cfg.perTask() || opts.ExcludeTGID != 0 || len(opts.Filter.PIDs) > 0 {
		if err := checkPIDNamespace(s.procfs); err != nil {
			return fmt.Errorf("syscalls receiver: %w", err)
		}
	}
	s.cgroups = nil
	if s.cfg.groupBy(GroupByContainer) {
		if s.cgroups, err = newCgroupPaths(); err != nil {
			s.settings.Logger.Warn("group_by container: cgroup paths come from /proc/PID/cgroup (v1 name=systemd) where it can be read",
				zap.Error(err))
		}
	}
	if s.telemetry, err = metadata.NewTelemetryBuilder(s.settings.TelemetrySettings); err != nil {
		return fmt.Errorf("syscalls receiver: self-telemetry: %w", err)
	}
	s.removeStalePins()
	counters, err := bpf.Load(opts)
	if err != nil {
		s.telemetry.Shutdown()
		return fmt.Errorf("syscalls receiver: %w", err)
	}
	s.counters = counters
	switch {
	case counters.Adopted():
		s.settings.Logger.Info("syscall counting continues from the pins in "+opts.PinPath+": nothing was missed while the collector was down",
			zap.Time("counting_since", counters.AttachedAt()))
	case counters.ReplacedPins() != "":
		s.settings.Logger.Warn("the pins in " + opts.PinPath + " were replaced, so the counts start again: " + counters.ReplacedPins())
	}
	if s.cfg.ProgramStats {
		if s.bpfStats, err = bpf.EnableStats(); err != nil {
			_ = s.shutdown(context.Background())
			return fmt.Errorf("syscalls receiver: program_stats: %w", err)
		}
	}
	s.known = map[bpf.Group]groupInfo{}
	s.dropped = 0
	s.startTime = pcommon.NewTimestampFromTime(counters.AttachedAt())
	s.mb = metadata.NewMetricsBuilder(s.cfg.MetricsBuilderConfig, s.settings, metadata.WithStartTime(s.startTime))
	s.settings.Logger.Info("syscall counting attached", zap.String("hook", string(counters.Hook())),
		zap.Strings("group_by", s.cfg.GroupBy), zap.Bool("exclude_self", s.cfg.ExcludeSelf),
		zap.Int("max_groups", s.cfg.MaxGroups), zap.String("arch", s.names.Arch()))
	if unusable := counters.UnusableHooks(); len(unusable) > 0 {
		s.settings.Logger.Warn("this kernel lacks what the cheaper hooks need; counting with "+string(counters.Hook()),
			zap.Errors("unusable", unusable))
	}
	if ok, why := counters.StartTimes(); !ok && len(s.cfg.GroupBy) > 0 {
		s.settings.Logger.Warn("the programs cannot read tasks' start times here (no kernel BTF): "+
			"a reused pid is not told apart from its previous process", zap.NamedError("why", why))
	}
	return nil
}

// removeStalePins removes the pins a config with pin_path left at this
// receiver's default pin path, once pin_path is no longer set: nothing
// stays attached unless the configuration asks for it.
func (s *syscallsScraper) removeStalePins() {
	if s.cfg.PinPath != "" {
		return
	}
	dir := DefaultPinPath(s.settings.ID.String())
	if _, err := os.Stat(dir); err != nil {
		return
	}
	if err := bpf.RemovePins(dir); err != nil {
		s.settings.Logger.Warn("pin_path is not set, but the pins an earlier config left could not be removed", zap.Error(err))
		return
	}
	s.settings.Logger.Info("pin_path is not set: removed the pins an earlier config left in " + dir)
}

func (s *syscallsScraper) shutdown(context.Context) error {
	var errs []error
	if s.bpfStats != nil {
		errs = append(errs, s.bpfStats.Close())
		s.bpfStats = nil
	}
	if s.counters != nil {
		errs = append(errs, s.counters.Close())
		s.counters = nil
	}
	if s.telemetry != nil {
		s.telemetry.Shutdown()
		s.telemetry = nil
	}
	return errors.Join(errs...)
}

// scrape exports every group's counters and reports the receiver's own
// telemetry.
func (s *syscallsScraper) scrape(ctx context.Context) (pmetric.Metrics, error) {
	if s.counters == nil {
		return pmetric.NewMetrics(), errors.New("syscalls receiver is not started")
	}
	began := time.Now()
	md, counts, err := s.collect()
	if err == nil {
		s.recordTelemetry(ctx, counts, time.Since(began))
	}
	return md, err
}

// recordTelemetry reports the receiver's own health and cost through the
// collector's telemetry.
func (s *syscallsScraper) recordTelemetry(ctx context.Context, counts *bpf.Counts, took time.Duration) {
	t := s.telemetry
	t.ReceiverSyscallsCollectionDuration.Record(ctx, took.Seconds())
	t.ReceiverSyscallsGroups.Record(ctx, int64(len(counts.Groups)))
	t.ReceiverSyscallsGroupsLimit.Record(ctx, int64(s.counters.MaxGroups()))
	t.ReceiverSyscallsDroppedUpdates.Record(ctx, int64(counts.Dropped))
	var overflow uint64
	for k, st := range counts.Syscalls {
		if k.Group == bpf.OverflowGroup {
			overflow += st.Calls
		}
	}
	t.ReceiverSyscallsOverflowCalls.Record(ctx, int64(overflow))
	if s.bpfStats == nil {
		return
	}
	stats, err := s.counters.ProgramStats()
	if err != nil {
		s.settings.Logger.Warn("could not read BPF program statistics", zap.Error(err))
		return
	}
	for name, st := range stats {
		attrs := metric.WithAttributes(attribute.String("bpf.program", name))
		t.ReceiverSyscallsProgramRunCount.Record(ctx, int64(st.RunCount), attrs)
		t.ReceiverSyscallsProgramRunTime.Record(ctx, st.Runtime.Nanoseconds(), attrs)
	}
}

// collect exports every group's counters and forgets those of groups that
// have ended. The order matters: a group found dead before the counters
// are read made no syscall after the read, so its totals are final and can
// be deleted once exported.
func (s *syscallsScraper) collect() (pmetric.Metrics, *bpf.Counts, error) {
	exited, err := s.counters.ExitedTasks()
	if err != nil {
		return pmetric.NewMetrics(), nil, err
	}
	// Tasks whose exit the kernel recorded, checked before the read.
	deadTasks := map[taskID]string{}
	var forgetExits []uint32
	for tid, task := range exited {
		if comm, _, start := s.readStat(tid); comm == "" || !sameStart(task.StartNs, start) {
			deadTasks[taskID{tid, task.StartNs}] = sanitize(task.Comm)
			forgetExits = append(forgetExits, tid)
		}
	}
	// Groups alive at the last scrape, checked before the read too.
	infos := map[bpf.Group]groupInfo{}
	dead := map[bpf.Group]bool{}
	for g, last := range s.known {
		if info, alive := s.describe(g); alive {
			infos[g] = info
			continue
		}
		dead[g] = true
		info := groupInfo{Comm: last.Comm, ThreadName: last.ThreadName, Cgroup: last.Cgroup}
		// The exit record has the name the task had at the end (it may
		// have exec'd since it was last seen alive).
		if comm, ok := deadTasks[s.taskOf(g)]; ok {
			info = namedByExit(g, comm, exited, info)
		}
		infos[g] = info
	}

	counts, err := s.counters.ReadCounts()
	if err != nil {
		return pmetric.NewMetrics(), nil, err
	}
	s.warnDropped(counts)

	known := map[bpf.Group]groupInfo{}
	visit := func(g bpf.Group) {
		if g == bpf.OverflowGroup {
			return
		}
		if info, done := infos[g]; done {
			if !dead[g] {
				known[g] = info
			}
			return
		}
		if comm, ok := deadTasks[s.taskOf(g)]; ok {
			dead[g] = true
			current, _ := s.describe(g) // the cgroup may still be there
			infos[g] = namedByExit(g, comm, exited, groupInfo{Cgroup: current.Cgroup})
			return
		}
		// New since the last scrape: reported as it is now; if it is
		// already gone, it is found dead and forgotten next time.
		info, _ := s.describe(g)
		infos[g] = info
		known[g] = info
	}
	for k := range counts.Syscalls {
		visit(k.Group)
	}
	for k := range counts.Errors {
		visit(k.Group)
	}
	for _, g := range counts.Groups {
		visit(g)
	}

	metrics := s.emit(counts, infos, pcommon.NewTimestampFromTime(time.Now()))
	err = s.counters.Forget(counts, func(g bpf.Group) bool { return dead[g] }, forgetExits)
	if err != nil {
		// The totals stay in the kernel and are exported again next time.
		s.settings.Logger.Warn("could not forget ended groups", zap.Error(err))
	}
	s.known = known
	return metrics, counts, nil
}

// namedByExit names an ended group from its exit record: a thread's record
// names the thread, and the leader's, if there is one, the process.
func namedByExit(g bpf.Group, comm string, exited map[uint32]bpf.ExitedTask, info groupInfo) groupInfo {
	if g.TID == 0 {
		info.Comm = comm
		return info
	}
	info.ThreadName = comm
	if leader, ok := exited[g.TGID]; ok {
		info.Comm = sanitize(leader.Comm)
	}
	return info
}

// taskOf is the process or thread a group belongs to (zero for none).
func (s *syscallsScraper) taskOf(g bpf.Group) taskID {
	if g.TID != 0 {
		return taskID{g.TID, g.StartNs}
	}
	return taskID{g.TGID, g.StartNs}
}

// readStat reads comm, ppid and start time of a task from /proc/ID/stat
// (any thread id works there); the comm is empty if it does not exist.
func (s *syscallsScraper) readStat(id uint32) (string, int64, uint64) {
	comm, ppid, start, _ := readStat(filepath.Join(s.procfs, strconv.FormatUint(uint64(id), 10)))
	return comm, ppid, start
}

// describe reads what a group's resource carries and says whether the
// group still exists: the same process or thread (same start time), or for
// a cgroup-only group, the same cgroup.
func (s *syscallsScraper) describe(g bpf.Group) (info groupInfo, alive bool) {
	alive = true
	if g.TGID != 0 {
		p, ok := readProcess(s.procfs, g.TGID)
		alive = ok
		if g.TID != 0 {
			var start uint64
			info.ThreadName, _, start = s.readStat(g.TID)
			alive = alive && info.ThreadName != "" && sameStart(g.StartNs, start)
		} else {
			alive = alive && sameStart(g.StartNs, p.StartTicks)
		}
		if alive {
			info.Comm, info.Exe, info.PPID = p.Comm, p.Exe, p.PPID
		}
	}
	if g.CgroupID != 0 {
		if s.cgroups != nil {
			path, ok := s.cgroups.path(g.CgroupID)
			info.Cgroup = path
			if g.TGID == 0 {
				alive = ok
			}
		}
		if info.Cgroup == "" && g.TGID != 0 && alive {
			info.Cgroup = procCgroup(s.procfs, g.TGID)
		}
	}
	return info, alive
}

func (s *syscallsScraper) warnDropped(counts *bpf.Counts) {
	if counts.Dropped > s.dropped {
		s.settings.Logger.Warn("kernel counter maps are full: some syscalls were not counted",
			zap.Uint64("dropped_updates", counts.Dropped-s.dropped))
		s.dropped = counts.Dropped
	}
}
