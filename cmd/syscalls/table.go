//go:build linux && (amd64 || arm64)

package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
)

// row is one syscall of one ABI, summed over every counted process.
type row struct {
	Syscall  string            `json:"syscall"`
	Calls    uint64            `json:"calls"`
	Errors   uint64            `json:"errors"`
	Seconds  float64           `json:"seconds"` // wall time in the syscall, summed
	P50Us    float64           `json:"p50_us"`  // upper bounds of the histogram buckets
	P99Us    float64           `json:"p99_us"`
	MaxUs    float64           `json:"max_us"`
	MinUs    float64           `json:"min_us"`
	ByErrno  map[string]uint64 `json:"errors_by_errno,omitempty"`
	buckets  bpf.Buckets
	duration uint64
}

// abiTable is the table of one personality, as strace prints one per mode.
type abiTable struct {
	ABI  string `json:"abi"`
	Rows []*row `json:"syscalls"`
}

// tables sums a snapshot into one table per ABI, native first.
func tables(counts *bpf.Counts, names *sysnames.Table, scale int) []abiTable {
	byABI := map[string]map[string]*row{}
	get := func(nr, abi uint32) *row {
		name, abiName := names.NameABI(nr, abi)
		if byABI[abiName] == nil {
			byABI[abiName] = map[string]*row{}
		}
		r := byABI[abiName][name]
		if r == nil {
			r = &row{Syscall: name, ByErrno: map[string]uint64{}, buckets: bpf.Buckets{}}
			byABI[abiName][name] = r
		}
		return r
	}
	for k, s := range counts.Syscalls {
		r := get(k.Nr, k.ABI)
		r.Calls += s.Calls
		r.duration += s.DurationNs
		if s.MaxNs > 0 {
			r.MaxUs = max(r.MaxUs, float64(s.MaxNs)/1e3)
			if r.MinUs == 0 || float64(s.MinNs)/1e3 < r.MinUs {
				r.MinUs = float64(s.MinNs) / 1e3
			}
		}
	}
	for k, n := range counts.Errors {
		r := get(k.Nr, k.ABI)
		r.Errors += n
		r.ByErrno[sysnames.ErrnoName(k.Errno)] += n
	}
	for k, b := range counts.Durations {
		r := get(k.Nr, k.ABI)
		for i, n := range b {
			r.buckets[i] += n
		}
	}
	var out []abiTable
	for _, abi := range slices.SortedFunc(maps.Keys(byABI), func(a, b string) int {
		return cmp.Compare(boolRank(a != names.ABI()), boolRank(b != names.ABI()))*2 + cmp.Compare(a, b)
	}) {
		t := abiTable{ABI: abi}
		for _, r := range byABI[abi] {
			r.Seconds = float64(r.duration) / 1e9
			// A bucket's upper bound can pass the largest call seen.
			r.P50Us = min(quantileUs(r.buckets, 0.5, scale), r.MaxUs)
			r.P99Us = min(quantileUs(r.buckets, 0.99, scale), r.MaxUs)
			t.Rows = append(t.Rows, r)
		}
		out = append(out, t)
	}
	return out
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// quantileUs is the upper bound of the bucket that holds quantile q.
func quantileUs(b bpf.Buckets, q float64, scale int) float64 {
	var total uint64
	for _, n := range b {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total-1)) + 1
	var seen uint64
	for _, i := range slices.Sorted(maps.Keys(b)) {
		seen += b[i]
		if seen >= rank {
			return float64(bpf.BucketUpperNs(i, scale)) / 1e3
		}
	}
	return 0
}

// sortRows orders rows as -S asks; strace's default is time, then calls,
// then name.
func sortRows(rows []*row, by string) {
	slices.SortFunc(rows, func(a, b *row) int {
		var c int
		switch by {
		case "calls":
			c = cmp.Compare(b.Calls, a.Calls)
		case "errors":
			c = cmp.Compare(b.Errors, a.Errors)
		case "name":
			c = cmp.Compare(a.Syscall, b.Syscall)
		case "p99":
			c = cmp.Compare(b.P99Us, a.P99Us)
		default: // time
			c = cmp.Compare(b.duration, a.duration)
		}
		return cmp.Or(c, cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.Syscall, b.Syscall))
	})
}

// column is one -U column: its header, width and value.
type column struct {
	header string
	width  int
	value  func(r *row, total *row) string
}

var columns = map[string]column{
	"time-percent": {"% time", 6, func(r, total *row) string { return fmt.Sprintf("%.2f", percent(r.duration, total.duration)) }},
	"total-time":   {"seconds", 11, func(r, _ *row) string { return fmt.Sprintf("%.6f", r.Seconds) }},
	"avg-time":     {"usecs/call", 11, func(r, _ *row) string { return fmt.Sprint(perCall(r.duration, r.Calls)) }},
	"calls":        {"calls", 9, func(r, _ *row) string { return fmt.Sprint(r.Calls) }},
	"errors":       {"errors", 9, func(r, _ *row) string { return blankZero(r.Errors) }},
	"name":         {"syscall", -16, func(r, _ *row) string { return r.Syscall }},
	"p50":          {"p50 us", 9, func(r, _ *row) string { return micros(r.P50Us) }},
	"p99":          {"p99 us", 9, func(r, _ *row) string { return micros(r.P99Us) }},
	"max-time":     {"max us", 9, func(r, _ *row) string { return micros(r.MaxUs) }},
	"min-time":     {"min us", 9, func(r, _ *row) string { return micros(r.MinUs) }},
}

// columnAliases are the -U names strace accepts for the same columns.
var columnAliases = map[string]string{
	"time": "time-percent", "percent": "time-percent", "seconds": "total-time", "total": "total-time",
	"avg": "avg-time", "usecs": "avg-time", "syscall": "name", "max": "max-time", "min": "min-time",
}

var defaultColumns = []string{"time-percent", "total-time", "avg-time", "calls", "errors", "name"}

// parseColumns reads -U: a comma-separated list of column names.
func parseColumns(spec string) ([]string, error) {
	if spec == "" {
		return defaultColumns, nil
	}
	var out []string
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		if alias, ok := columnAliases[name]; ok {
			name = alias
		}
		if _, ok := columns[name]; !ok {
			return nil, fmt.Errorf("-U: unknown column %q (known: %s)", name, strings.Join(slices.Sorted(maps.Keys(columns)), ", "))
		}
		out = append(out, name)
	}
	return out, nil
}

// writeTables prints strace -c's table for each ABI, and with errnos the
// errors of each syscall by errno below it.
func writeTables(w io.Writer, ts []abiTable, cols []string, sortBy string, errnos bool) {
	for i, t := range ts {
		if i > 0 || t.ABI != ts[0].ABI {
			fmt.Fprintf(w, "System call usage summary for %s:\n", t.ABI)
		}
		sortRows(t.Rows, sortBy)
		total := &row{Syscall: "total"}
		for _, r := range t.Rows {
			total.Calls += r.Calls
			total.Errors += r.Errors
			total.duration += r.duration
			total.Seconds += r.Seconds
		}
		line := func(cells func(c column) string) {
			var parts []string
			for _, name := range cols {
				c := columns[name]
				parts = append(parts, fmt.Sprintf("%*s", c.width, cells(c)))
			}
			fmt.Fprintln(w, strings.TrimRight(strings.Join(parts, " "), " "))
		}
		rule := func() { line(func(c column) string { return strings.Repeat("-", abs(c.width)) }) }
		line(func(c column) string { return c.header })
		rule()
		for _, r := range t.Rows {
			line(func(c column) string { return c.value(r, total) })
		}
		rule()
		line(func(c column) string { return c.value(total, total) })
		if errnos {
			writeErrnos(w, t.Rows)
		}
	}
}

func writeErrnos(w io.Writer, rows []*row) {
	var lines []string
	for _, r := range rows {
		if len(r.ByErrno) == 0 {
			continue
		}
		var parts []string
		for _, errno := range slices.SortedFunc(maps.Keys(r.ByErrno), func(a, b string) int {
			return cmp.Or(cmp.Compare(r.ByErrno[b], r.ByErrno[a]), cmp.Compare(a, b))
		}) {
			parts = append(parts, fmt.Sprintf("%s %d", errno, r.ByErrno[errno]))
		}
		lines = append(lines, fmt.Sprintf("  %-16s %s", r.Syscall, strings.Join(parts, ", ")))
	}
	if len(lines) > 0 {
		fmt.Fprintln(w, "\nerrors by errno:")
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	}
}

func writeJSON(w io.Writer, ts []abiTable) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"tables": ts})
}

func percent(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

func perCall(ns, calls uint64) uint64 {
	if calls == 0 {
		return 0
	}
	return ns / calls / 1000
}

func blankZero(n uint64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func micros(us float64) string {
	if us == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f", us)
}

func abs(n int) int { return max(n, -n) }
