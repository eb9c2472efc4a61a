// An empty stand-in for a test-only dependency that the Go module proxy does
// not serve. Only k8sattributesprocessor's `integration`-tagged tests import
// it; ocb's `go mod tidy` still has to resolve it. Never compiled into the
// collector. See builder-config.yaml (replaces).
module github.com/open-telemetry/opentelemetry-collector-contrib/pkg/semconvtest

go 1.26.0
