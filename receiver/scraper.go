package receiver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/receiver/internal/metadata"
	"github.com/seed22255693/syscallsreceiver/receiver/internal/sysnames"
)

// syscallsScraper turns the kernel counters into metrics on every scrape.
type syscallsScraper struct {
	cfg      *Config
	settings receiver.Settings
	procfs   string
	names    *sysnames.Table

	counters *bpf.Counters
	mb       *metadata.MetricsBuilder
	// known holds the comm of every live process exported by the last
	// scrape: it tells which processes to check for exit, and names them
	// if their exit was not recorded. Bounded by the live processes.
	known   map[uint32]string
	dropped uint64
}

func newSyscallsScraper(cfg *Config, settings receiver.Settings) *syscallsScraper {
	return &syscallsScraper{cfg: cfg, settings: settings, procfs: "/proc", names: sysnames.Native()}
}

func (s *syscallsScraper) start(context.Context, component.Host) error {
	opts := bpf.Options{
		PerProcess:      s.cfg.groupByProcess(),
		CountCalls:      s.cfg.Metrics.SyscallCalls.Enabled,
		CountErrors:     s.cfg.Metrics.SyscallErrors.Enabled,
		MeasureDuration: s.cfg.Metrics.SyscallDuration.Enabled,
	}
	if s.cfg.ExcludeSelf {
		opts.ExcludeTGID = uint32(os.Getpid())
	}
	if opts.PerProcess || opts.ExcludeTGID != 0 {
		if err := checkPIDNamespace(s.procfs); err != nil {
			return fmt.Errorf("syscalls receiver: %w", err)
		}
	}
	counters, err := bpf.Load(opts)
	if err != nil {
		return fmt.Errorf("syscalls receiver: %w", err)
	}
	s.counters = counters
	s.known = map[uint32]string{}
	s.dropped = 0
	start := pcommon.NewTimestampFromTime(counters.AttachedAt())
	s.mb = metadata.NewMetricsBuilder(s.cfg.MetricsBuilderConfig, s.settings, metadata.WithStartTime(start))
	s.settings.Logger.Info("syscall counting attached",
		zap.Strings("group_by", s.cfg.GroupBy), zap.Bool("exclude_self", s.cfg.ExcludeSelf),
		zap.String("arch", s.names.Arch()))
	return nil
}

func (s *syscallsScraper) shutdown(context.Context) error {
	if s.counters == nil {
		return nil
	}
	err := s.counters.Close()
	s.counters = nil
	return err
}

func (s *syscallsScraper) scrape(context.Context) (pmetric.Metrics, error) {
	if s.counters == nil {
		return pmetric.NewMetrics(), errors.New("syscalls receiver is not started")
	}
	if !s.cfg.groupByProcess() {
		counts, err := s.counters.ReadCounts()
		if err != nil {
			return pmetric.NewMetrics(), err
		}
		s.warnDropped(counts)
		return s.emit(counts, nil, pcommon.NewTimestampFromTime(time.Now())), nil
	}
	return s.scrapeProcesses()
}

// scrapeProcesses exports every process's counters and forgets those of
// processes that have exited. The order matters: a process found dead
// before the counters are read made no syscall after the read, so its
// totals are final and can be deleted once exported.
func (s *syscallsScraper) scrapeProcesses() (pmetric.Metrics, error) {
	exited, err := s.counters.ExitedProcesses()
	if err != nil {
		return pmetric.NewMetrics(), err
	}
	procs := map[uint32]processInfo{}
	dead := map[uint32]bool{}
	for _, tgid := range slices.Concat(slices.Collect(maps.Keys(exited)), slices.Collect(maps.Keys(s.known))) {
		if _, done := procs[tgid]; done || dead[tgid] {
			continue
		}
		if info, alive := readProcess(s.procfs, tgid); alive {
			procs[tgid] = info
			continue
		}
		dead[tgid] = true
		procs[tgid] = processInfo{Comm: s.deadComm(tgid, exited)}
	}

	counts, err := s.counters.ReadCounts()
	if err != nil {
		return pmetric.NewMetrics(), err
	}
	s.warnDropped(counts)
	known := map[uint32]string{}
	for key := range counts.Syscalls {
		s.describe(key.TGID, procs, exited, known)
	}
	for key := range counts.Errors {
		s.describe(key.TGID, procs, exited, known)
	}

	metrics := s.emit(counts, procs, pcommon.NewTimestampFromTime(time.Now()))
	if err := s.counters.Forget(counts, dead); err != nil {
		// The totals stay in the kernel and are exported again next time.
		s.settings.Logger.Warn("could not forget exited processes", zap.Error(err))
	}
	s.known = known
	return metrics, nil
}

// describe fills in a process first seen in this scrape's counters and
// remembers the live ones for the next scrape.
func (s *syscallsScraper) describe(tgid uint32, procs map[uint32]processInfo, exited map[uint32]string, known map[uint32]string) {
	info, ok := procs[tgid]
	if !ok {
		// Died after the exit check: reported as it is now, and
		// forgotten next time.
		if info, ok = readProcess(s.procfs, tgid); !ok {
			info = processInfo{Comm: s.deadComm(tgid, exited)}
		}
		procs[tgid] = info
	}
	if info.Alive {
		known[tgid] = info.Comm
	}
}

func (s *syscallsScraper) deadComm(tgid uint32, exited map[uint32]string) string {
	if comm, ok := exited[tgid]; ok {
		return sanitize(comm)
	}
	return s.known[tgid]
}

func (s *syscallsScraper) warnDropped(counts *bpf.Counts) {
	if counts.Dropped > s.dropped {
		s.settings.Logger.Warn("kernel counter maps are full: some syscalls were not counted",
			zap.Uint64("dropped_updates", counts.Dropped-s.dropped))
		s.dropped = counts.Dropped
	}
}

// emit converts a snapshot of the counters into metrics: one resource per
// process when procs is non-nil, otherwise one for the host.
func (s *syscallsScraper) emit(counts *bpf.Counts, procs map[uint32]processInfo, now pcommon.Timestamp) pmetric.Metrics {
	type group struct {
		stats  []bpf.SyscallKey
		errors []bpf.ErrorKey
	}
	groups := map[uint32]*group{}
	get := func(tgid uint32) *group {
		if groups[tgid] == nil {
			groups[tgid] = &group{}
		}
		return groups[tgid]
	}
	for k := range counts.Syscalls {
		get(k.TGID).stats = append(get(k.TGID).stats, k)
	}
	for k := range counts.Errors {
		get(k.TGID).errors = append(get(k.TGID).errors, k)
	}

	for _, tgid := range slices.Sorted(maps.Keys(groups)) {
		g := groups[tgid]
		slices.SortFunc(g.stats, func(a, b bpf.SyscallKey) int { return cmp.Compare(a.Nr, b.Nr) })
		slices.SortFunc(g.errors, func(a, b bpf.ErrorKey) int {
			return cmp.Or(cmp.Compare(a.Nr, b.Nr), cmp.Compare(a.Errno, b.Errno))
		})
		for _, k := range g.stats {
			st := counts.Syscalls[k]
			name := s.names.Name(k.Nr)
			if st.Calls > 0 {
				s.mb.RecordSyscallCallsDataPoint(now, int64(st.Calls), name)
			}
			if st.DurationNs > 0 {
				s.mb.RecordSyscallDurationDataPoint(now, float64(st.DurationNs)/1e9, name)
			}
		}
		for _, k := range g.errors {
			s.mb.RecordSyscallErrorsDataPoint(now, int64(counts.Errors[k]), s.names.Name(k.Nr), errnoName(k.Errno))
		}

		rb := s.mb.NewResourceBuilder()
		if procs != nil {
			p := procs[tgid]
			rb.SetProcessPid(int64(tgid))
			if p.Comm != "" {
				rb.SetProcessExecutableName(p.Comm)
			}
			if p.Exe != "" {
				rb.SetProcessExecutablePath(p.Exe)
			}
			if p.PPID > 0 {
				rb.SetProcessParentPid(p.PPID)
			}
		}
		s.mb.EmitForResource(metadata.WithResource(rb.Emit()))
	}
	return s.mb.Emit()
}
