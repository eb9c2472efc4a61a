//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"math"
	"slices"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

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
		st := c.totals
		dp := dps.AppendEmpty()
		name, abi := s.syscallName(c.key.Nr, c.key.ABI)
		attrs := dp.Attributes()
		attrs.EnsureCapacity(2)
		attrs.PutStr("syscall.name", name)
		attrs.PutStr("syscall.abi", abi)
		dp.SetStartTimestamp(s.start)
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
