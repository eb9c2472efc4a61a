//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/engine"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"
)

// emitter turns snapshots of the counters into metrics, as the config
// asks: which metrics and attributes, names from which table, and since
// when the counts run.
type emitter struct {
	cfg   *Config
	names *sysnames.Table
	start pcommon.Timestamp // every point's start: when counting began
	mb    *metadata.MetricsBuilder
	orderer
}

func newEmitter(cfg *Config, settings receiver.Settings, names *sysnames.Table, start pcommon.Timestamp) *emitter {
	return &emitter{cfg: cfg, names: names, start: start,
		mb: metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, settings, metadata.WithStartTime(start))}
}

// emit converts a snapshot of the counters into metrics, one resource per
// group (one for the host when nothing is grouped). The data points are
// written straight into pdata: the generated Record functions cost about
// ten allocations per point, too many for 10,000 series per scrape. The generated builder still wraps
// each resource: scope, and the resource attribute filters
// (metrics_include, metrics_exclude).
func (s *emitter) emit(counts *bpf.Counts, infos map[bpf.Group]engine.GroupInfo, now pcommon.Timestamp) pmetric.Metrics {
	syscalls, errs := s.order(counts)

	callsCfg, errorsCfg := s.cfg.Metrics.SyscallCalls, s.cfg.Metrics.SyscallErrors
	e := &resourceEmitter{s: s, counts: counts, now: now,
		calls: newSumMetric(sumMetric{
			name:        "syscall.calls",
			description: "Number of syscalls made, counted in the kernel as each syscall returns (exit and exit_group, which never return, when the task exits).",
			enabled:     callsCfg.Enabled,
			strategy:    callsCfg.AggregationStrategy,
			nameOn:      slices.Contains(callsCfg.EnabledAttributes, metadata.SyscallCallsMetricAttributeKeySyscallName),
			abiOn:       slices.Contains(callsCfg.EnabledAttributes, metadata.SyscallCallsMetricAttributeKeySyscallAbi),
			start:       s.start,
			now:         now,
		}),
		errors: newSumMetric(sumMetric{
			name:        "syscall.errors",
			description: "Number of syscalls that returned an error (a return value between -4095 and -1), by errno.",
			enabled:     errorsCfg.Enabled,
			strategy:    errorsCfg.AggregationStrategy,
			nameOn:      slices.Contains(errorsCfg.EnabledAttributes, metadata.SyscallErrorsMetricAttributeKeySyscallName),
			abiOn:       slices.Contains(errorsCfg.EnabledAttributes, metadata.SyscallErrorsMetricAttributeKeySyscallAbi),
			errOn:       slices.Contains(errorsCfg.EnabledAttributes, metadata.SyscallErrorsMetricAttributeKeyErrorType),
			start:       s.start,
			now:         now,
		}),
	}
	// One option for every resource: a closure per resource would cost
	// an allocation per resource.
	fill := metadata.WithResourceMetrics(e.fill)
	for len(syscalls) > 0 || len(errs) > 0 {
		g := nextGroup(syscalls, errs)
		n, m := 0, 0
		for n < len(syscalls) && syscalls[n].key.Group == g {
			n++
		}
		for m < len(errs) && errs[m].key.Group == g {
			m++
		}
		e.group, e.info, e.syscalls, e.errs = g, infos[g], syscalls[:n], errs[:m]
		s.mb.EmitForResource(fill)
		syscalls, errs = syscalls[n:], errs[m:]
	}
	return s.mb.Emit()
}

// nextGroup is the first group of the two sorted slices (not both empty).
func nextGroup(syscalls []syscallEntry, errs []errorEntry) bpf.Group {
	if len(errs) == 0 || len(syscalls) > 0 && compareGroups(syscalls[0].key.Group, errs[0].key.Group) <= 0 {
		return syscalls[0].key.Group
	}
	return errs[0].key.Group
}

// resourceEmitter fills the resource and metrics of one group after another.
type resourceEmitter struct {
	s             *emitter
	counts        *bpf.Counts
	now           pcommon.Timestamp
	calls, errors *sumMetric
	group         bpf.Group
	info          engine.GroupInfo
	syscalls      []syscallEntry // the group's, sorted
	errs          []errorEntry   // the group's, sorted
	// Scratch for the histogram buckets, reused from point to point.
	sparse []bucket
	dense  []uint64
}

// fill writes the metrics in the order the generated builder did:
// syscall.calls, syscall.errors, then syscall.duration.
func (e *resourceEmitter) fill(res pcommon.Resource, ms pmetric.MetricSlice) {
	e.s.putResource(res.Attributes(), e.group, e.info)
	if e.calls.enabled {
		e.calls.begin(ms, len(e.syscalls))
		for _, c := range e.syscalls {
			if c.totals.Calls > 0 {
				name, abi := e.s.syscallName(c.key.Nr, c.key.ABI)
				e.calls.add(name, abi, "", int64(c.totals.Calls))
			}
		}
		e.calls.end()
	}
	if e.errors.enabled {
		e.errors.begin(ms, len(e.errs))
		for _, er := range e.errs {
			name, abi := e.s.syscallName(er.key.Nr, er.key.ABI)
			e.errors.add(name, abi, sysnames.ErrnoName(er.key.Errno), int64(er.count))
		}
		e.errors.end()
	}
	e.appendDurations(ms)
}
