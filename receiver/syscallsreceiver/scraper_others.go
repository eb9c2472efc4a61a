//go:build !linux || !(amd64 || arm64)

package syscallsreceiver

import (
	"context"
	"errors"
	"runtime"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
)

// The kernel programs are compiled (bpf2go) for Linux on amd64 and arm64
// only. Elsewhere the factory still exists, so that a distribution built
// for every platform can list the component, and Start says why it cannot
// count.
var errUnsupported = errors.New("the syscalls receiver needs Linux on amd64 or arm64; this is " +
	runtime.GOOS + "/" + runtime.GOARCH)

type syscallsScraper struct{}

func newSyscallsScraper(*Config, receiver.Settings) *syscallsScraper { return &syscallsScraper{} }

func (*syscallsScraper) start(context.Context, component.Host) error { return errUnsupported }

func (*syscallsScraper) scrape(context.Context) (pmetric.Metrics, error) {
	return pmetric.NewMetrics(), errUnsupported
}

func (*syscallsScraper) shutdown(context.Context) error { return nil }
