//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/engine"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"
)

// syscallsScraper turns the kernel counters into metrics on every scrape.
type syscallsScraper struct {
	cfg      *Config
	settings receiver.Settings
	procfs   string
	names    *sysnames.Table

	engine  *engine.Engine
	emitter *emitter
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
	if s.telemetry, err = metadata.NewTelemetryBuilder(s.settings.TelemetrySettings); err != nil {
		return fmt.Errorf("syscalls receiver: self-telemetry: %w", err)
	}
	s.removeStalePins()
	eng, err := engine.Open(engine.Options{Options: opts, Procfs: s.procfs})
	if err != nil {
		s.telemetry.Shutdown()
		return fmt.Errorf("syscalls receiver: %w", err)
	}
	if err := eng.CgroupPathsError(); err != nil {
		s.settings.Logger.Warn("group_by container: cgroup paths come from /proc/PID/cgroup (v1 name=systemd) where it can be read",
			zap.Error(err))
	}
	s.engine = eng
	counters := eng.Counters()
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
	s.dropped = 0
	s.emitter = newEmitter(s.cfg, s.settings, s.names, pcommon.NewTimestampFromTime(counters.AttachedAt()))
	s.settings.Logger.Info("syscall counting attached", zap.String("hook", string(counters.Hook())),
		zap.Strings("group_by", s.cfg.GroupBy), zap.Bool("exclude_self", s.cfg.ExcludeSelf),
		zap.Int("max_groups", s.cfg.MaxGroups), zap.String("arch", s.names.Arch()))
	if unusable := counters.UnusableHooks(); len(unusable) > 0 {
		s.settings.Logger.Warn("this kernel lacks what the cheaper hooks need; counting with "+string(counters.Hook()),
			zap.Errors("unusable", unusable))
	}
	if why := counters.Reattached(); why != "" {
		s.settings.Logger.Warn("a syscall hook had to be attached again before the kernel ran it: " + why)
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
	if s.engine != nil {
		errs = append(errs, s.engine.Close())
		s.engine = nil
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
	if s.engine == nil {
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
	t.ReceiverSyscallsGroupsLimit.Record(ctx, int64(s.engine.Counters().MaxGroups()))
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
	stats, err := s.engine.Counters().ProgramStats()
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

// collect exports a snapshot of the counters.
func (s *syscallsScraper) collect() (pmetric.Metrics, *bpf.Counts, error) {
	snap, err := s.engine.Snapshot()
	if err != nil {
		return pmetric.NewMetrics(), nil, err
	}
	s.warnDropped(snap.Counts)
	if snap.ReleaseError != nil {
		// The totals stay in the kernel and are exported again next time.
		s.settings.Logger.Warn("could not forget ended groups", zap.Error(snap.ReleaseError))
	}
	return s.emitter.emit(snap.Counts, snap.Info, pcommon.NewTimestampFromTime(time.Now())), snap.Counts, nil
}

func (s *syscallsScraper) warnDropped(counts *bpf.Counts) {
	if counts.Dropped > s.dropped {
		s.settings.Logger.Warn("kernel counter maps are full: some syscalls were not counted",
			zap.Uint64("dropped_updates", counts.Dropped-s.dropped))
		s.dropped = counts.Dropped
	}
}
