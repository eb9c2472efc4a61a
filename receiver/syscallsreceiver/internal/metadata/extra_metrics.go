package metadata

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// WithResourceMetrics lets the receiver write the resource and append the
// metrics it builds itself, straight into pdata: the Record functions cost
// about ten allocations per data point, and mdatagen cannot generate
// exponential histograms. EmitForResource still sets the scope and applies
// the resource attribute filters (metrics_include, metrics_exclude).
func WithResourceMetrics(fill func(pcommon.Resource, pmetric.MetricSlice)) ResourceMetricsOption {
	return resourceMetricsOptionFunc(func(rm pmetric.ResourceMetrics) {
		fill(rm.Resource(), rm.ScopeMetrics().At(0).Metrics())
	})
}
