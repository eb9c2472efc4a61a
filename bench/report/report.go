// Package report turns the benchmark's raw measurements into medians,
// ratios, verdicts against the targets of the README's Benchmarks, and the printed tables. It
// does no measuring itself, so that its arithmetic can be tested.
package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// Result holds every round of one variant.
type Result struct {
	Name  string
	Hooks string // what it attaches, for the table
	// Floor names the floor result with as many hooks; "" for a floor
	// itself and for tools that are not eBPF.
	Floor string
	N     int // timed calls per thread per run
	// Base1 and Base2 are the baseline (nothing attached) ns/call run just
	// before the variant, single-threaded and on all CPUs; Over1 and
	// Over2 the variant's ns/call minus that baseline, per round.
	Base1, Base2, Over1, Over2 []float64
	// Kernel is in-kernel ns per syscall per round (eBPF variants only):
	// run_time_ns/run_cnt summed over the syscall hooks.
	Kernel []float64
	Note   string
	// Shared is set when every round ran while another tool's programs
	// were on the syscall hooks: the overheads are then understated.
	Shared bool
	// Discarded says why rounds were dropped (a tool that failed to
	// start, or that did not count every call of the workload).
	Discarded []string
}

// Median of xs, NaN when empty.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Ratio of two medians, NaN when either is unknown or the divisor is not
// positive (a noise-level overhead is no yardstick).
func Ratio(num, den []float64) float64 {
	n, d := Median(num), Median(den)
	if math.IsNaN(n) || math.IsNaN(d) || d <= 0 {
		return math.NaN()
	}
	return n / d
}

// Find returns the result with that name, or nil.
func Find(results []*Result, name string) *Result {
	for _, r := range results {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Body is r's in-kernel ns per syscall above the empty programs of its
// floor, per round: what the programs' instructions cost. The kernel's run
// time includes reading the clock around every run, which the floor's
// figure is almost entirely made of. Nil when unknown.
func Body(results []*Result, r *Result) []float64 {
	floor := Find(results, r.Floor)
	if r.Kernel == nil || floor == nil || floor.Kernel == nil {
		return nil
	}
	base := Median(floor.Kernel)
	body := make([]float64, len(r.Kernel))
	for i, k := range r.Kernel {
		body[i] = k - base
	}
	return body
}

// Target is one of the cost goals and what was measured against it.
type Target struct {
	Goal     string
	Measured float64 // NaN: not measured
	Limit    float64
	Strict   bool   // < rather than ≤
	Unit     string // printed after the numbers: "×", " ms", …
	Detail   string // supporting figures, or why it was not measured
	// Inconclusive is set when the measurement cannot decide: an
	// overhead lost in noise, or measured on shared hooks.
	Inconclusive bool
	// Kernel is the same ratio from in-kernel run times above the floor
	// (NaN when it does not apply): the programs' own work, which other
	// tools' programs and machine load barely move, but which leaves out
	// what the hooks themselves cost.
	Kernel float64
}

// Verdict is "pass", "MISSED", "inconclusive" or "not measured".
func (t Target) Verdict() string {
	switch {
	case math.IsNaN(t.Measured):
		return "not measured"
	case t.Inconclusive:
		return "inconclusive"
	}
	return verdict(t.Measured, t.Limit, t.Strict)
}

// KernelVerdict judges the in-kernel ratio against the same limit.
func (t Target) KernelVerdict() string {
	if math.IsNaN(t.Kernel) {
		return ""
	}
	return verdict(t.Kernel, t.Limit, t.Strict)
}

func verdict(x, limit float64, strict bool) string {
	if x < limit || (!strict && x == limit) {
		return "pass"
	}
	return "MISSED"
}

// RatioTarget compares the single-threaded overhead of ours with that of
// ref, which must be at most limit times it. The all-CPU and in-kernel
// figures come with it.
func RatioTarget(goal string, results []*Result, ours, ref string, limit float64) Target {
	t := Target{Goal: goal, Measured: math.NaN(), Kernel: math.NaN(), Limit: limit, Unit: "×"}
	o, r := Find(results, ours), Find(results, ref)
	if o == nil || r == nil || len(o.Over1) == 0 || len(r.Over1) == 0 {
		t.Detail = fmt.Sprintf("needs measurements of %q and %q", ours, ref)
		return t
	}
	on, rn := Median(o.Over1), Median(r.Over1)
	t.Measured = on / rn
	t.Detail = fmt.Sprintf("%s vs %s ns; all CPUs %s", signed(on), signed(rn), ratio(Ratio(o.Over2, r.Over2)))
	switch {
	case on <= 0 || rn <= 0:
		t.Inconclusive = true
		t.Detail = "overhead within noise: " + t.Detail
	case o.Shared || r.Shared:
		t.Inconclusive = true
		t.Detail = "measured on shared hooks: " + t.Detail
	}
	if r.Floor == "" && r.Kernel != nil && o.Kernel != nil {
		t.Detail += fmt.Sprintf("; in-kernel %s vs %s ns", num(Median(o.Kernel)), num(Median(r.Kernel)))
	} else if ob, rb := Body(results, o), Body(results, r); ob != nil && rb != nil {
		t.Kernel = Ratio(ob, rb)
		t.Detail += fmt.Sprintf("; in-kernel above floor %s vs %s ns", num(Median(ob)), num(Median(rb)))
	}
	return t
}

// WriteCosts prints the per-variant table.
func WriteCosts(w io.Writer, results []*Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "variant\thooks\tcalls/thread\t1 thread +ns [min…max]\t× floor\tall CPUs +ns [min…max]\t× floor\tin-kernel ns/syscall\tabove floor\t")
	for _, r := range results {
		var f1, f2 string
		if floor := Find(results, r.Floor); floor != nil {
			f1, f2 = ratio(Ratio(r.Over1, floor.Over1)), ratio(Ratio(r.Over2, floor.Over2))
		}
		kernel, body := "—", ""
		if r.Kernel != nil {
			kernel = num(Median(r.Kernel))
			body = num(Median(Body(results, r)))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Name, r.Hooks, Thousands(r.N),
			spread(r.Over1), f1, spread(r.Over2), f2, kernel, body)
	}
	_ = tw.Flush()
	for _, r := range results {
		if r.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.Name, r.Note)
		}
		for _, d := range r.Discarded {
			d = strings.Join(strings.Fields(d), " ")
			if len(d) > 300 {
				d = d[:300] + "…"
			}
			fmt.Fprintf(w, "  %s: discarded %s\n", r.Name, d)
		}
	}
}

// WriteRatios prints ours (rows) against their floor and each peer
// (columns): single-threaded wall-time overhead ratios, and in brackets the
// ratio of in-kernel cost above the floor.
func WriteRatios(w io.Writer, results []*Result, ours, refs []string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintf(tw, "ours ÷\tfloor\t%s\t\n", strings.Join(refs, "\t"))
	for _, name := range ours {
		o := Find(results, name)
		if o == nil {
			continue
		}
		row := []string{name, cell(results, o, Find(results, o.Floor))}
		for _, ref := range refs {
			row = append(row, cell(results, o, Find(results, ref)))
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
	}
	_ = tw.Flush()
}

// WriteTargets prints every target with its verdicts: on wall time, and
// for ratios to a peer also on in-kernel time.
func WriteTargets(w io.Writer, targets []Target) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "target\tmeasured\tverdict\tin-kernel\tverdict\tdetail\t")
	for _, t := range targets {
		measured, kernel := "—", ""
		if !math.IsNaN(t.Measured) {
			measured = short(t.Measured) + t.Unit
		}
		if !math.IsNaN(t.Kernel) {
			kernel = short(t.Kernel) + t.Unit
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", t.Goal, measured, t.Verdict(), kernel, t.KernelVerdict(), t.Detail)
	}
	_ = tw.Flush()
}

func cell(results []*Result, o, ref *Result) string {
	if ref == nil {
		return "—"
	}
	c := ratio(Ratio(o.Over1, ref.Over1))
	if ref.Floor != "" {
		if ob, rb := Body(results, o), Body(results, ref); ob != nil && rb != nil {
			c += " (" + ratio(Ratio(ob, rb)) + ")"
		}
	}
	return c
}

func spread(xs []float64) string {
	if len(xs) == 0 {
		return "—"
	}
	return fmt.Sprintf("%s [%s…%s]", num(Median(xs)), num(slices.Min(xs)), num(slices.Max(xs)))
}

func ratio(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return short(x) + "×"
}

// signed prints nanoseconds with their sign.
func signed(x float64) string {
	if x >= 0 {
		return "+" + num(x)
	}
	return num(x)
}

// num prints nanoseconds: whole numbers, grouped by thousands.
func num(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return Thousands(int(math.Round(x)))
}

// Thousands prints an integer with thousands separators.
func Thousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// short prints a value with 2 decimals, or 2 significant digits below 0.1.
func short(x float64) string {
	if math.Abs(x) < 0.1 && x != 0 {
		return fmt.Sprintf("%.2g", x)
	}
	return fmt.Sprintf("%.2f", x)
}
