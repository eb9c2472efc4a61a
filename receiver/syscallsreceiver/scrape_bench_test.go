//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seed22255693/syscallsreceiver/bench/procs"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"
)

// BenchmarkScrape1000Processes is one collection of the default config
// with 1,000 live, idle processes (about 21,000 data points): the kernel
// maps read, /proc read for every process, the conversion to pdata. Its
// time per op, over the collection interval, is the receiver's share of
// the collector's steady-state CPU (`make bench` measures the whole).
func BenchmarkScrape1000Processes(b *testing.B) {
	s := newSyscallsScraper(testConfig(), receivertest.NewNopSettings(metadata.Type))
	if err := s.start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.shutdown(context.Background()) }()
	idle, err := procs.ForkIdle(1000)
	defer func() { _ = idle.Kill() }()
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Second) // every process has made its syscalls
	if _, err := s.scrape(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	points := 0
	for b.Loop() {
		md, err := s.scrape(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		points = md.DataPointCount()
	}
	b.ReportMetric(float64(points), "points")
}
