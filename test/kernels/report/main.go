// Command report turns the test events of each kernel run by
// test/kernels/run.sh (a directory with meta and events-PACKAGE.json, the
// output of go tool test2json) into Markdown tables: which hook auto picks and what
// each hook lacks per kernel, then every test per hook and kernel. It exits
// 1 when a test failed or a guest did not finish.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/seed22255693/syscallsreceiver/bpf"
)

// hooks are the engine's, in the order auto tries them.
var hooks = func() (names []string) {
	for _, h := range bpf.Hooks {
		names = append(names, string(h))
	}
	return names
}()

// event is one line of go tool test2json.
type event struct {
	Action, Test, Output string
}

// run is one kernel's results.
type run struct {
	meta   map[string]string
	result map[string]string   // leaf test → pass, fail, skip; "" if it never ended
	output map[string][]string // test → its log lines
	leaves []string            // in the order they ran
	// warnings are the kernel's (dmesg): WARNING, BUG, RCU stalls.
	warnings []string
}

func main() {
	var runs []*run
	for _, dir := range os.Args[1:] {
		r, err := read(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(2)
		}
		runs = append(runs, r)
	}
	bad := false
	fmt.Println("| kernel | arch | source | auto picks | tp_btf | raw_tracepoint | tracepoint | tests pass / fail / skip | guest |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, r := range runs {
		p, f, s := r.counts()
		status := r.meta["status"]
		if status != "0" || f > 0 || p == 0 {
			bad = true
		}
		if status == "0" {
			status = "ok"
		}
		cells := []string{r.meta["kernel"], r.meta["arch"], r.meta["source"], r.autoPick()}
		for _, h := range hooks {
			cells = append(cells, r.hookCell(h))
		}
		cells = append(cells, fmt.Sprintf("%d / %d / %d", p, f, s), status+", "+r.meta["seconds"]+" s")
		fmt.Println("| " + strings.Join(cells, " | ") + " |")
	}

	// Every test, per hook (the subtest that names it; "auto" otherwise).
	fmt.Println()
	head := []string{"test", "hook"}
	for _, r := range runs {
		head = append(head, r.meta["kernel"]+" "+r.meta["arch"])
	}
	fmt.Println("| " + strings.Join(head, " | ") + " |")
	fmt.Println("|" + strings.Repeat("---|", len(head)))
	for _, row := range rows(runs) {
		cells := []string{row[0], row[1]}
		for _, r := range runs {
			cells = append(cells, r.cell(row[0], row[1]))
		}
		fmt.Println("| " + strings.Join(cells, " | ") + " |")
	}

	for _, r := range runs {
		if len(r.warnings) > 0 {
			fmt.Printf("\n%s %s: the kernel warned (dmesg)\n```\n%s\n```\n", r.meta["kernel"], r.meta["arch"], strings.Join(r.warnings, "\n"))
		}
		for _, name := range r.leaves {
			if r.result[name] == "pass" || r.result[name] == "skip" {
				continue
			}
			fmt.Printf("\n%s %s: %s %s\n```\n", r.meta["kernel"], r.meta["arch"], name, orDefault(r.result[name], "did not finish"))
			lines := r.output[name]
			fmt.Print(strings.Join(lines[max(0, len(lines)-20):], ""))
			fmt.Println("```")
		}
	}
	if bad {
		os.Exit(1)
	}
}

func read(dir string) (*run, error) {
	r := &run{meta: map[string]string{}, result: map[string]string{}, output: map[string][]string{}}
	meta, err := os.ReadFile(filepath.Join(dir, "meta"))
	if err != nil {
		return nil, err
	}
	for line := range strings.SplitSeq(string(meta), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			r.meta[k] = v
		}
	}
	if w, err := os.ReadFile(filepath.Join(dir, "warnings")); err == nil && len(w) > 0 {
		r.warnings = strings.Split(strings.TrimSpace(string(w)), "\n")
	}
	files, err := filepath.Glob(filepath.Join(dir, "events-*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("%s: no events-PACKAGE.json (%v)", dir, err)
	}
	parents := map[string]bool{}
	for _, file := range files {
		pkg := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "events-"), ".json")
		if err := r.readEvents(file, pkg, parents); err != nil {
			return nil, err
		}
	}
	r.leaves = slices.DeleteFunc(r.leaves, func(t string) bool { return parents[t] })
	return r, nil
}

// readEvents adds one package's events, its tests named "PACKAGE: Test".
func (r *run) readEvents(file, pkg string, parents map[string]bool) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Test == "" {
			continue
		}
		e.Test = pkg + ": " + e.Test
		switch e.Action {
		case "run":
			// A subtest's name may hold slashes itself: every prefix may
			// be its parent.
			for i := range len(e.Test) {
				if e.Test[i] == '/' {
					parents[e.Test[:i]] = true
				}
			}
			r.leaves = append(r.leaves, e.Test)
			r.result[e.Test] = ""
		case "output":
			r.output[e.Test] = append(r.output[e.Test], e.Output)
		case "pass", "fail", "skip":
			r.result[e.Test] = e.Action
		}
	}
	return sc.Err()
}

// hookOf is the hook a test ran on: named by a subtest, or auto.
func hookOf(test string) string {
	for _, part := range strings.Split(test, "/")[1:] {
		if slices.Contains(hooks, part) {
			return part
		}
	}
	return "auto"
}

func top(test string) string { return strings.Split(test, "/")[0] }

// rows are the (test, hook) pairs of every run, in the order they ran.
func rows(runs []*run) [][2]string {
	var out [][2]string
	for _, r := range runs {
		for _, name := range r.leaves {
			row := [2]string{top(name), hookOf(name)}
			if !slices.Contains(out, row) {
				out = append(out, row)
			}
		}
	}
	return out
}

func (r *run) counts() (pass, fail, skip int) {
	for _, name := range r.leaves {
		switch r.result[name] {
		case "pass":
			pass++
		case "skip":
			skip++
		default:
			fail++
		}
	}
	return pass, fail, skip
}

// logLine matches a t.Log line: "    file_test.go:12: message".
var logLine = regexp.MustCompile(`^\s+\S+\.go:\d+: (.*)`)

// reason is the last thing a test logged: a skip's reason.
func (r *run) reason(test string) string {
	lines := r.output[test]
	for i := len(lines) - 1; i >= 0; i-- {
		if m := logLine.FindStringSubmatch(lines[i]); m != nil {
			return strings.TrimSpace(m[1])
		}
	}
	return "no reason given"
}

// cell sums up a test's leaves on one hook: "pass", "pass 24", "FAIL 2 of
// 24", or the skip's reason (with what passed beside it).
func (r *run) cell(test, hook string) string {
	var pass, fail, all int
	var skips []string
	for _, name := range r.leaves {
		if top(name) != test || hookOf(name) != hook {
			continue
		}
		all++
		switch r.result[name] {
		case "pass":
			pass++
		case "skip":
			if why := shortReason(r.reason(name)); !slices.Contains(skips, why) {
				skips = append(skips, why)
			}
		default:
			fail++
		}
	}
	switch {
	case all == 0:
		return "—"
	case fail > 0:
		return fmt.Sprintf("**FAIL %d of %d**", fail, all)
	case len(skips) > 0 && pass > 0:
		return fmt.Sprintf("pass %d, skip: %s", pass, strings.Join(skips, "; "))
	case len(skips) > 0:
		return "skip: " + strings.Join(skips, "; ")
	case all == 1:
		return "pass"
	}
	return fmt.Sprintf("pass %d", all)
}

// shortReason drops the hook the reason starts with (the row says it).
func shortReason(why string) string {
	for _, h := range hooks {
		why = strings.TrimPrefix(why, h+": ")
	}
	return why
}

// autoPick is the hook auto chose, as TestAutoPicksTPBTF logged it.
func (r *run) autoPick() string {
	for _, line := range r.output["bpf: TestAutoPicksTPBTF"] {
		if m := logLine.FindStringSubmatch(line); m != nil {
			if h, ok := strings.CutPrefix(m[1], "auto picked "); ok {
				return strings.Fields(h)[0]
			}
		}
	}
	return "?"
}

// hookCell says how a hook fared when forced: what the kernel lacks for
// it (the reason of its skips), else how many of its tests passed.
func (r *run) hookCell(hook string) string {
	var pass, fail int
	for _, name := range r.leaves {
		if hookOf(name) != hook {
			continue
		}
		switch r.result[name] {
		case "pass":
			pass++
		case "skip":
			if why := r.reason(name); strings.Contains(why, "lacks") {
				return shortReason(why)
			}
		default:
			fail++
		}
	}
	if fail > 0 {
		return fmt.Sprintf("**%d failed**, %d pass", fail, pass)
	}
	return fmt.Sprintf("works (%d pass)", pass)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
