package report

import (
	"math"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{-10, 7, 7, 100, 1}, 7},
	} {
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
	in := []float64{3, 1, 2}
	Median(in)
	if in[0] != 3 {
		t.Error("Median sorted its argument in place")
	}
}

func TestRatio(t *testing.T) {
	if got := Ratio([]float64{100, 140, 120}, []float64{200, 240, 220}); got != 120.0/220 {
		t.Errorf("Ratio = %v", got)
	}
	for _, den := range [][]float64{nil, {0}, {-5, -1, -3}} {
		if got := Ratio([]float64{1}, den); !math.IsNaN(got) {
			t.Errorf("Ratio over %v = %v, want NaN", den, got)
		}
	}
}

func TestVerdict(t *testing.T) {
	for _, tt := range []struct {
		t    Target
		want string
	}{
		{Target{Measured: 1.25, Limit: 1.25}, "pass"},
		{Target{Measured: 1.25, Limit: 1.25, Strict: true}, "MISSED"},
		{Target{Measured: 1.26, Limit: 1.25}, "MISSED"},
		{Target{Measured: 0.3, Limit: 0.5}, "pass"},
		{Target{Measured: math.NaN(), Limit: 0.5}, "not measured"},
		{Target{Measured: 0.3, Limit: 0.5, Inconclusive: true}, "inconclusive"},
	} {
		if got := tt.t.Verdict(); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.t, got, tt.want)
		}
	}
}

func testResults() []*Result {
	return []*Result{
		{Name: "floor", Over1: []float64{100, 110, 90}, Over2: []float64{100}, Kernel: []float64{50, 52, 48}},
		{Name: "ours", Floor: "floor", Over1: []float64{120, 130, 500}, Over2: []float64{150}, Kernel: []float64{70, 75, 80}},
		{Name: "peer", Floor: "floor", Over1: []float64{300, 260, 280}, Over2: []float64{600}, Kernel: []float64{150, 150, 150}},
		{Name: "strace", Over1: []float64{40000}, Over2: []float64{50000}},
	}
}

func TestBody(t *testing.T) {
	rs := testResults()
	got := Body(rs, rs[1])
	want := []float64{20, 25, 30}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Body = %v, want %v", got, want)
		}
	}
	if Body(rs, rs[3]) != nil {
		t.Error("Body of a variant without in-kernel figures is not nil")
	}
}

func TestRatioTarget(t *testing.T) {
	rs := testResults()
	// Median overheads: ours 130, floor 100, peer 280: a stray round
	// (500) does not move the median.
	floor := RatioTarget("≤ 1.25× floor", rs, "ours", "floor", 1.25)
	if floor.Measured != 1.3 || floor.Verdict() != "MISSED" {
		t.Errorf("floor target: %v %s", floor.Measured, floor.Verdict())
	}
	if !strings.Contains(floor.Detail, "in-kernel 75 vs 50 ns") {
		t.Errorf("floor target detail: %s", floor.Detail)
	}
	peer := RatioTarget("≤ 0.5× peer", rs, "ours", "peer", 0.5)
	if peer.Measured != 130.0/280 || peer.Verdict() != "pass" {
		t.Errorf("peer target: %v %s", peer.Measured, peer.Verdict())
	}
	if !strings.Contains(peer.Detail, "in-kernel above floor 25 vs 100 ns") || peer.Kernel != 0.25 || peer.KernelVerdict() != "pass" {
		t.Errorf("peer target in-kernel: %v %s, %s", peer.Kernel, peer.KernelVerdict(), peer.Detail)
	}
	if !math.IsNaN(floor.Kernel) || floor.KernelVerdict() != "" {
		t.Errorf("floor target has an in-kernel ratio %v: the floor's programs do no work", floor.Kernel)
	}
	rs[2].Shared = true
	if shared := RatioTarget("≤ 0.5× peer", rs, "ours", "peer", 0.5); shared.Verdict() != "inconclusive" {
		t.Errorf("target on shared hooks: %s", shared.Verdict())
	}
	rs[2].Shared = false
	rs[1].Over1 = []float64{-20, -5, 10}
	if noise := RatioTarget("≤ 1.25× floor", rs, "ours", "floor", 1.25); noise.Verdict() != "inconclusive" ||
		!strings.Contains(noise.Detail, "-5 vs +100 ns") {
		t.Errorf("target with a negative overhead: %s, %s", noise.Verdict(), noise.Detail)
	}
	missing := RatioTarget("x", rs, "ours", "nobody", 1)
	if missing.Verdict() != "not measured" {
		t.Errorf("target against a missing variant: %s", missing.Verdict())
	}
}

func TestTables(t *testing.T) {
	rs := testResults()
	rs[3].Discarded = []string{"round 2: strace\nexited"}
	var costs, ratios, targets strings.Builder
	WriteCosts(&costs, rs)
	WriteRatios(&ratios, rs, []string{"ours"}, []string{"peer", "strace"})
	WriteTargets(&targets, []Target{RatioTarget("≤ 0.5× peer", rs, "ours", "peer", 0.5)})
	for _, want := range []string{
		"130 [120…500]", "1.30×", "40,000 [40,000…40,000]", "75", "25",
		"strace: discarded round 2: strace exited",
	} {
		if !strings.Contains(costs.String(), want) {
			t.Errorf("costs table lacks %q:\n%s", want, costs.String())
		}
	}
	for _, want := range []string{"1.30×", "0.46× (0.25×)", "0.0032×"} {
		if !strings.Contains(ratios.String(), want) {
			t.Errorf("ratio table lacks %q:\n%s", want, ratios.String())
		}
	}
	if !strings.Contains(targets.String(), "0.46×") || !strings.Contains(targets.String(), "0.25×") || !strings.Contains(targets.String(), "pass") {
		t.Errorf("targets table:\n%s", targets.String())
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -48151: "-48,151"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/seed22255693/syscallsreceiver/receiver
cpu: AMD EPYC
BenchmarkEmit10kSeries-2   	     130	   9128405 ns/op	         8.554 allocs/point	 3935179 B/op	   85544 allocs/op
BenchmarkEmit10kSeries-2   	     128	   9262541 ns/op	         8.554 allocs/point	 3935140 B/op	   85544 allocs/op
BenchmarkOther   	     1	   5 ns/op
PASS
ok  	github.com/seed22255693/syscallsreceiver/receiver	3.635s
`
	got := ParseGoBench(out)
	emit := got["BenchmarkEmit10kSeries"]
	if len(emit["ns/op"]) != 2 || emit["ns/op"][1] != 9262541 || emit["allocs/point"][0] != 8.554 || emit["allocs/op"][0] != 85544 {
		t.Errorf("BenchmarkEmit10kSeries: %v", emit)
	}
	if got["BenchmarkOther"]["ns/op"][0] != 5 {
		t.Errorf("BenchmarkOther: %v", got["BenchmarkOther"])
	}
	if len(got) != 2 {
		t.Errorf("parsed %d benchmarks: %v", len(got), got)
	}
}
