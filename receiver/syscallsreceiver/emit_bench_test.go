//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/engine"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"
)

// benchSnapshot is a per-process snapshot with exactly 10,000 series (data
// points) in the default configuration: 500 live processes, each with 8
// syscalls that have a call count and a duration histogram of 4 buckets
// (16 points) and 4 (syscall, errno) error counts (4 points).
func benchSnapshot(tb testing.TB) (*bpf.Counts, map[bpf.Group]engine.GroupInfo) {
	names, err := sysnames.ForArch("amd64")
	if err != nil {
		tb.Fatal(err)
	}
	var nrs []uint32
	for _, name := range []string{"read", "write", "openat", "close", "fstat", "mmap", "futex", "epoll_wait"} {
		nr, ok := names.Number(name)
		if !ok {
			tb.Fatalf("no syscall %s", name)
		}
		nrs = append(nrs, nr)
	}
	counts := &bpf.Counts{Syscalls: map[bpf.SyscallKey]bpf.SyscallTotals{}, Errors: map[bpf.ErrorKey]uint64{}, Durations: map[bpf.SyscallKey]bpf.Buckets{}}
	infos := map[bpf.Group]engine.GroupInfo{}
	for p := range uint32(500) {
		g := bpf.Group{TGID: 1000 + p, StartNs: uint64(p) * 1e7}
		counts.Groups = append(counts.Groups, g)
		infos[g] = engine.GroupInfo{Comm: fmt.Sprintf("worker-%d", p), Exe: "/usr/bin/worker", PPID: 1}
		for i, nr := range nrs {
			k := bpf.SyscallKey{Group: g, Nr: nr}
			counts.Syscalls[k] = bpf.SyscallTotals{Calls: 100, DurationNs: uint64(1000 * (i + 1)), MinNs: 500, MaxNs: 5000}
			counts.Durations[k] = bpf.Buckets{-170: 40, -165: 30, -160: 20, -150: 10}
		}
		for _, e := range []bpf.ErrorKey{{Nr: nrs[0], Errno: 11}, {Nr: nrs[2], Errno: 2}, {Nr: nrs[2], Errno: 13}, {Nr: nrs[6], Errno: 110}} {
			e.Group = g
			counts.Errors[e] = 3
		}
	}
	return counts, infos
}

// BenchmarkEmit10kSeries converts a 10,000-series snapshot to pdata, as a
// scrape does (the builder is reused from one scrape to the next). The
// targets: < 5 ms per conversion, < 2 allocations per data point;
// `make bench` reads the ns/op and allocs/point reported here.
func BenchmarkEmit10kSeries(b *testing.B) {
	counts, infos := benchSnapshot(b)
	cfg := createDefaultConfig()
	set := receivertest.NewNopSettings(metadata.Type)
	names, err := sysnames.ForArch("amd64")
	if err != nil {
		b.Fatal(err)
	}
	start := pcommon.NewTimestampFromTime(testStart)
	s := newEmitter(cfg, set, names, start)
	now := pcommon.NewTimestampFromTime(time.Now())
	first := s.emit(counts, infos, now)
	points := first.DataPointCount()
	if points != 10_000 {
		b.Fatalf("the snapshot makes %d data points, want 10000", points)
	}

	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		s.emit(counts, infos, now)
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N)/float64(points), "allocs/point")
	b.ReportMetric(copyAllocsPerPoint(first), "copy-allocs/point")
}

// copyAllocsPerPoint is what pdata itself allocates per data point to hold
// these metrics: a deep copy (CopyTo) allocates each object of the data
// model once, at its exact size, so no way of building them allocates less.
func copyAllocsPerPoint(md pmetric.Metrics) float64 {
	const copies = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range copies {
		md.CopyTo(pmetric.NewMetrics())
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / copies / float64(md.DataPointCount())
}
