//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"
)

// pointKey is the attributes of a point of syscall.calls or syscall.errors;
// those switched off are empty.
type pointKey struct{ name, abi, errType string }

// pointSlot is a point of a resource's metric.
type pointSlot struct{ resourceSeq, index int }

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
	ms          pmetric.MetricSlice
	capacity    int
	dps         pmetric.NumberDataPointSlice
	open        bool
	resourceSeq int // numbers the resources, so that seen needs no clearing
	// Where each attributes' point was last put. Pointers: a slot from an
	// earlier resource is reused without a second map operation.
	seen           map[pointKey]*pointSlot
	valuesPerPoint []int64 // how many values each point of the resource sums (avg divides by it)
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
	m.resourceSeq++
	m.valuesPerPoint = m.valuesPerPoint[:0]
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
	if slot != nil && slot.resourceSeq == m.resourceSeq {
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
	*slot = pointSlot{m.resourceSeq, m.dps.Len()}
	m.valuesPerPoint = append(m.valuesPerPoint, 1)

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
		m.valuesPerPoint[i]++
	}
}

// end finishes the metric of the current resource.
func (m *sumMetric) end() {
	if m.strategy != metadata.AggregationStrategyAvg {
		return
	}
	for i, n := range m.valuesPerPoint {
		if n > 1 {
			dp := m.dps.At(i)
			dp.SetIntValue(dp.IntValue() / n)
		}
	}
}
