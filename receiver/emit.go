//go:build linux && (amd64 || arm64)

package receiver

import (
	"cmp"
	"math"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/receiver/internal/metadata"
)

// syscallEntry and errorEntry are counters taken out of the snapshot's
// maps to be sorted, with their values so that they are not looked up again.
type syscallEntry struct {
	key   bpf.SyscallKey
	stats bpf.Stats
}

type errorEntry struct {
	key   bpf.ErrorKey
	count uint64
}

// emit converts a snapshot of the counters into metrics, one resource per
// group (one for the host when nothing is grouped). The data points are
// written straight into pdata: the generated Record functions cost about
// ten allocations per point, too many for 10,000 series per scrape. The generated builder still wraps
// each resource: scope, and the resource attribute filters
// (metrics_include, metrics_exclude).
func (s *syscallsScraper) emit(counts *bpf.Counts, infos map[bpf.Group]groupInfo, now pcommon.Timestamp) pmetric.Metrics {
	// Sorted by group, then syscall (then errno): each group's points
	// are a run in each slice.
	syscalls := make([]syscallEntry, 0, len(counts.Syscalls))
	for k, st := range counts.Syscalls {
		syscalls = append(syscalls, syscallEntry{k, st})
	}
	slices.SortFunc(syscalls, func(a, b syscallEntry) int {
		if c := compareGroups(a.key.Group, b.key.Group); c != 0 {
			return c
		}
		if a.key.ABI != b.key.ABI {
			return order(a.key.ABI < b.key.ABI)
		}
		return cmp.Compare(a.key.Nr, b.key.Nr)
	})
	errs := make([]errorEntry, 0, len(counts.Errors))
	for k, n := range counts.Errors {
		errs = append(errs, errorEntry{k, n})
	}
	slices.SortFunc(errs, func(a, b errorEntry) int {
		if c := compareGroups(a.key.Group, b.key.Group); c != 0 {
			return c
		}
		if a.key.ABI != b.key.ABI {
			return order(a.key.ABI < b.key.ABI)
		}
		if a.key.Nr != b.key.Nr {
			return order(a.key.Nr < b.key.Nr)
		}
		return cmp.Compare(a.key.Errno, b.key.Errno)
	})

	callsCfg, errorsCfg := s.cfg.Metrics.SyscallCalls, s.cfg.Metrics.SyscallErrors
	e := &resourceEmitter{s: s, counts: counts, now: now,
		calls: newSumMetric(sumMetric{
			name:        "syscall.calls",
			description: "Number of syscalls made, counted in the kernel as each syscall returns (exit and exit_group, which never return, when the task exits).",
			enabled:     callsCfg.Enabled,
			strategy:    callsCfg.AggregationStrategy,
			nameOn:      slices.Contains(callsCfg.EnabledAttributes, metadata.SyscallCallsMetricAttributeKeySyscallName),
			abiOn:       slices.Contains(callsCfg.EnabledAttributes, metadata.SyscallCallsMetricAttributeKeySyscallAbi),
			start:       s.startTime,
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
			start:       s.startTime,
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
	s             *syscallsScraper
	counts        *bpf.Counts
	now           pcommon.Timestamp
	calls, errors *sumMetric
	group         bpf.Group
	info          groupInfo
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
			if c.stats.Calls > 0 {
				name, abi := e.s.syscallName(c.key.Nr, c.key.ABI)
				e.calls.add(name, abi, "", int64(c.stats.Calls))
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

// pointKey is the attributes of a point of syscall.calls or syscall.errors;
// those switched off are empty.
type pointKey struct{ name, abi, errType string }

// pointSlot is a point of a resource's metric.
type pointSlot struct{ resource, index int }

// sumMetric builds syscall.calls or syscall.errors, one resource after
// another, with the attributes switched on in its config. Points of a
// resource with equal attributes (two errnos without a name are both
// _OTHER; or an attribute is switched off) are merged by the metric's
// aggregation_strategy, as the generated Record functions do.
type sumMetric struct {
	name, description    string
	enabled              bool
	strategy             string
	start, now           pcommon.Timestamp
	nameOn, abiOn, errOn bool
	attrs                int // how many of them are on

	// The current resource: its metrics, how many points it may get,
	// and this metric in it once it has a point.
	ms       pmetric.MetricSlice
	capacity int
	dps      pmetric.NumberDataPointSlice
	open     bool
	resource int // counts the resources, so that seen needs no clearing
	// Where each attributes' point was last put. Pointers: a slot from an
	// earlier resource is reused without a second map operation.
	seen   map[pointKey]*pointSlot
	merged []int64 // values in each point of the resource (avg divides by it)
}

// newSumMetric completes a metric's settings.
func newSumMetric(m sumMetric) *sumMetric {
	for _, on := range []bool{m.nameOn, m.abiOn, m.errOn} {
		if on {
			m.attrs++
		}
	}
	m.seen = map[pointKey]*pointSlot{}
	return &m
}

// begin starts the metric of a resource that has at most capacity points.
func (m *sumMetric) begin(ms pmetric.MetricSlice, capacity int) {
	m.ms, m.capacity, m.open = ms, capacity, false
	m.resource++
	m.merged = m.merged[:0]
}

func (m *sumMetric) add(name, abi, errType string, v int64) {
	k := pointKey{name, abi, errType}
	if !m.nameOn {
		k.name = ""
	}
	if !m.abiOn {
		k.abi = ""
	}
	if !m.errOn {
		k.errType = ""
	}
	slot := m.seen[k]
	if slot != nil && slot.resource == m.resource {
		m.merge(slot.index, v)
		return
	}
	if slot == nil {
		slot = &pointSlot{}
		m.seen[k] = slot
	}
	if !m.open {
		metric := m.ms.AppendEmpty()
		metric.SetName(m.name)
		metric.SetDescription(m.description)
		metric.SetUnit("{call}")
		sum := metric.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		m.dps = sum.DataPoints()
		m.dps.EnsureCapacity(m.capacity)
		m.open = true
	}
	*slot = pointSlot{m.resource, m.dps.Len()}
	m.merged = append(m.merged, 1)

	dp := m.dps.AppendEmpty()
	dp.SetStartTimestamp(m.start)
	dp.SetTimestamp(m.now)
	dp.SetIntValue(v)
	attrs := dp.Attributes()
	attrs.EnsureCapacity(m.attrs)
	if m.nameOn {
		attrs.PutStr("syscall.name", k.name)
	}
	if m.abiOn {
		attrs.PutStr("syscall.abi", k.abi)
	}
	if m.errOn {
		attrs.PutStr("error.type", k.errType)
	}
}

// merge adds a value to the resource's i-th point.
func (m *sumMetric) merge(i int, v int64) {
	dp := m.dps.At(i)
	switch m.strategy {
	case metadata.AggregationStrategyMin:
		dp.SetIntValue(min(dp.IntValue(), v))
	case metadata.AggregationStrategyMax:
		dp.SetIntValue(max(dp.IntValue(), v))
	default: // sum, and avg: divided in end
		dp.SetIntValue(dp.IntValue() + v)
		m.merged[i]++
	}
}

// end finishes the metric of the current resource.
func (m *sumMetric) end() {
	if m.strategy != metadata.AggregationStrategyAvg {
		return
	}
	for i, n := range m.merged {
		if n > 1 {
			dp := m.dps.At(i)
			dp.SetIntValue(dp.IntValue() / n)
		}
	}
}

// bucket is one histogram bucket as the kernel counts them: sparse.
type bucket struct {
	index int32
	count uint64
}

// appendDurations adds the group's syscall.duration exponential histogram:
// one point per syscall whose durations were measured.
func (e *resourceEmitter) appendDurations(ms pmetric.MetricSlice) {
	s := e.s
	if !s.cfg.Metrics.SyscallDuration.Enabled {
		return
	}
	var dps pmetric.ExponentialHistogramDataPointSlice
	for _, c := range e.syscalls {
		buckets := e.counts.Durations[c.key]
		if len(buckets) == 0 {
			continue
		}
		if dps == (pmetric.ExponentialHistogramDataPointSlice{}) {
			m := ms.AppendEmpty()
			m.SetName("syscall.duration")
			m.SetDescription("Time spent inside syscalls, from entry to return (wall time).")
			m.SetUnit("s")
			h := m.SetEmptyExponentialHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			dps = h.DataPoints()
			dps.EnsureCapacity(len(e.syscalls))
		}
		st := c.stats
		dp := dps.AppendEmpty()
		name, abi := s.syscallName(c.key.Nr, c.key.ABI)
		attrs := dp.Attributes()
		attrs.EnsureCapacity(2)
		attrs.PutStr("syscall.name", name)
		attrs.PutStr("syscall.abi", abi)
		dp.SetStartTimestamp(s.startTime)
		dp.SetTimestamp(e.now)
		dp.SetScale(int32(s.cfg.Duration.MaxScale))
		dp.SetSum(float64(st.DurationNs) / 1e9)
		dp.SetMin(float64(st.MinNs) / 1e9)
		dp.SetMax(float64(st.MaxNs) / 1e9)

		// One pass over the map, then the dense counts OTLP wants (looking
		// every index up in the map took twice as long).
		e.sparse = e.sparse[:0]
		lowest, highest := int32(math.MaxInt32), int32(math.MinInt32)
		var total uint64
		for b, n := range buckets {
			e.sparse = append(e.sparse, bucket{b, n})
			lowest, highest = min(lowest, b), max(highest, b)
			total += n
		}
		dp.SetCount(total)
		width := int(highest - lowest + 1)
		e.dense = slices.Grow(e.dense[:0], width)[:width]
		clear(e.dense)
		for _, b := range e.sparse {
			e.dense[b.index-lowest] = b.count
		}
		dp.Positive().SetOffset(lowest)
		dp.Positive().BucketCounts().FromRaw(e.dense)
	}
}

// putResource writes the group's resource attributes, those switched on
// in resource_attributes.
func (s *syscallsScraper) putResource(attrs pcommon.Map, g bpf.Group, info groupInfo) {
	ra := &s.cfg.ResourceAttributes
	if g == bpf.OverflowGroup {
		if ra.OtelMetricOverflow.Enabled {
			attrs.PutBool("otel.metric.overflow", true)
		}
		return
	}
	container := s.cfg.groupBy(GroupByContainer) && info.Cgroup != ""
	// Room for every attribute the group may have: one allocation.
	n := 0
	if g.TGID != 0 {
		n += 4
	}
	if g.TID != 0 {
		n += 2
	}
	if container {
		n += 3
	}
	attrs.EnsureCapacity(n)

	if g.TGID != 0 {
		if ra.ProcessPid.Enabled {
			attrs.PutInt("process.pid", int64(g.TGID))
		}
		if info.Comm != "" && ra.ProcessExecutableName.Enabled {
			attrs.PutStr("process.executable.name", info.Comm)
		}
		if info.Exe != "" && ra.ProcessExecutablePath.Enabled {
			attrs.PutStr("process.executable.path", info.Exe)
		}
		if info.PPID > 0 && ra.ProcessParentPid.Enabled {
			attrs.PutInt("process.parent_pid", info.PPID)
		}
	}
	if g.TID != 0 {
		if ra.ThreadID.Enabled {
			attrs.PutInt("thread.id", int64(g.TID))
		}
		if info.ThreadName != "" && ra.ThreadName.Enabled {
			attrs.PutStr("thread.name", info.ThreadName)
		}
	}
	if container {
		if ra.ProcessLinuxCgroup.Enabled {
			attrs.PutStr("process.linux.cgroup", info.Cgroup)
		}
		containerID, podUID := parseCgroup(info.Cgroup)
		if containerID != "" && ra.ContainerID.Enabled {
			attrs.PutStr("container.id", containerID)
		}
		if podUID != "" && ra.K8sPodUID.Enabled {
			attrs.PutStr("k8s.pod.uid", podUID)
		}
	}
}

// syscallName names a syscall number of an ABI, with the ABI's name.
func (s *syscallsScraper) syscallName(nr, abi uint32) (name, abiName string) {
	return s.names.NameABI(nr, abi)
}

// compareGroups orders resources by pid, thread, cgroup; overflow last
// (all its fields are ones). Plain comparisons with early exits: it runs
// for every comparison of the sort.
func compareGroups(a, b bpf.Group) int {
	switch {
	case a.TGID != b.TGID:
		return order(a.TGID < b.TGID)
	case a.TID != b.TID:
		return order(a.TID < b.TID)
	case a.CgroupID != b.CgroupID:
		return order(a.CgroupID < b.CgroupID)
	case a.StartNs != b.StartNs:
		return order(a.StartNs < b.StartNs)
	}
	return 0
}

// order is what a comparison returns for two values that differ.
func order(less bool) int {
	if less {
		return -1
	}
	return 1
}
