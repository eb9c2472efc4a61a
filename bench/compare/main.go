// Command compare reads the tables of `make bench-compare` (bench/compare.sh)
// and prints, per variant, the medians of two revisions measured in
// alternating rounds, and their ratio. A ratio is the regression check: the
// rounds share the machine's noise, so only a consistent difference shows.
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// row is one variant's figures in one round: the added wall time per
// syscall on one thread and the in-kernel time per syscall.
type row struct{ wall, inKernel float64 }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compare DIR (with base-N.txt and head-N.txt tables)")
		os.Exit(2)
	}
	dir := os.Args[1]
	runs := map[string]map[string][]row{} // revision → variant → rounds
	var order []string
	for _, rev := range []string{"base", "head"} {
		files, _ := filepath.Glob(filepath.Join(dir, rev+"-*.txt"))
		if len(files) == 0 {
			fmt.Fprintf(os.Stderr, "no %s tables in %s\n", rev, dir)
			os.Exit(1)
		}
		runs[rev] = map[string][]row{}
		for _, f := range files {
			rows, names, err := readTable(f)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			for _, n := range names {
				runs[rev][n] = append(runs[rev][n], rows[n])
				if !slices.Contains(order, n) {
					order = append(order, n)
				}
			}
		}
	}
	fmt.Printf("%56s | %22s | %22s | %26s\n", "variant", "base +ns (in-kernel)", "head +ns (in-kernel)", "head ÷ base (in-kernel)")
	for _, n := range order {
		b, h := runs["base"][n], runs["head"][n]
		if len(b) == 0 || len(h) == 0 {
			continue
		}
		bw, bk := median(b, func(r row) float64 { return r.wall }), median(b, func(r row) float64 { return r.inKernel })
		hw, hk := median(h, func(r row) float64 { return r.wall }), median(h, func(r row) float64 { return r.inKernel })
		fmt.Printf("%56s | %10.0f (%9.0f) | %10.0f (%9.0f) | %12s (%11s)\n", n, bw, bk, hw, hk, ratio(hw, bw), ratio(hk, bk))
	}
}

// readTable takes the per-variant rows of one syscallbench table: columns
// variant, hooks, calls/thread, 1 thread +ns [min…max], …, in-kernel ns.
func readTable(path string) (map[string]row, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = f.Close() }()
	rows, inTable := map[string]row{}, false
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "|")
		for i := range cols {
			cols[i] = strings.TrimSpace(cols[i])
		}
		if len(cols) > 0 && cols[0] == "variant" {
			inTable = true
			continue
		}
		if !inTable || len(cols) < 8 {
			inTable = inTable && len(cols) >= 8
			continue
		}
		wall, kernel := number(cols[3]), number(cols[7])
		rows[cols[0]] = row{wall, kernel}
		names = append(names, cols[0])
	}
	return rows, names, sc.Err()
}

// number is the first number of a cell ("143 [85…146]" → 143); 0 if none.
func number(cell string) float64 {
	field, _, _ := strings.Cut(cell, " ")
	v, _ := strconv.ParseFloat(strings.ReplaceAll(field, ",", ""), 64)
	return v
}

func median(rs []row, f func(row) float64) float64 {
	vs := make([]float64, len(rs))
	for i, r := range rs {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

func ratio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}
