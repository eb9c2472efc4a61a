package metadata

import "go.opentelemetry.io/collector/pdata/pmetric"

// WithMetrics appends metrics built outside the generated builders to the
// resource's scope before it is emitted: mdatagen cannot generate
// exponential histograms, so syscall.duration is built by the receiver.
func WithMetrics(add func(pmetric.MetricSlice)) ResourceMetricsOption {
	return resourceMetricsOptionFunc(func(rm pmetric.ResourceMetrics) {
		add(rm.ScopeMetrics().At(0).Metrics())
	})
}
