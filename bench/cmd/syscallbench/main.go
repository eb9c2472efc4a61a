//go:build linux && (amd64 || arm64)

// Command syscallbench is `make bench`: it measures what the receiver's
// eBPF programs add to every syscall, next to the floor (empty programs on
// the same hooks) and to peer tools, on this machine and in one run, and
// checks the results against the cost targets the project holds itself to.
//
// Environment: BENCH_ROUNDS (5), BENCH_N (getppid calls per thread and run,
// 500,000), BENCH_STRACE_N (BENCH_N/50), BENCH_PROCS (10,000 exited
// processes for the scaling check), BENCH_STEADY_PROCS (1,000) and
// BENCH_STEADY_SECONDS (60) for the collector's steady state,
// BENCH_TOOL_BLOCKS (100,000 dd blocks for the tool against strace),
// BENCH_REDIS_REQUESTS (100,000 per redis-benchmark run), BENCH_SERVER_SECONDS
// (3: each wrk and fio run),
// BENCH_WAIT_SECONDS (60: the most, in total, to wait for other tools'
// programs to leave the syscall hooks), BENCH_ONLY (measure only variants
// whose name contains one of its |-separated parts; floors always run).
// Flags: -gobench FILE (output of the receiver's Go benchmark), -otelcol
// BIN (the ocb-built collector; its steady state is skipped without it),
// -tool BIN (the syscalls tool, against strace -c on a dd),
// -o FILE (a copy of the table).
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seed22255693/syscallsreceiver/bench/kstats"
	"github.com/seed22255693/syscallsreceiver/bench/report"
)

type config struct {
	rounds, n, straceN, procs   int
	steadyProcs                 int
	steadyWindow, wait          time.Duration
	only, goBench, otelcol, rev string
	tool                        string
	toolBlocks                  int
	redisRequests               int
	serverRun                   time.Duration
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "loop" {
		if err := workloadMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "syscallbench loop:", err)
			os.Exit(1)
		}
		return
	}
	cfg := config{
		rounds:       envInt("BENCH_ROUNDS", 5),
		n:            envInt("BENCH_N", 500_000),
		procs:        envInt("BENCH_PROCS", 10_000),
		steadyProcs:  envInt("BENCH_STEADY_PROCS", 1_000),
		steadyWindow: time.Duration(envInt("BENCH_STEADY_SECONDS", 60)) * time.Second,
		wait:         time.Duration(envInt("BENCH_WAIT_SECONDS", 60)) * time.Second,
		only:         os.Getenv("BENCH_ONLY"),
		rev:          os.Getenv("BENCH_REVISION"),
	}
	cfg.straceN = envInt("BENCH_STRACE_N", max(cfg.n/50, 1000))
	cfg.toolBlocks = envInt("BENCH_TOOL_BLOCKS", 100_000)
	cfg.redisRequests = envInt("BENCH_REDIS_REQUESTS", 100_000)
	cfg.serverRun = time.Duration(envInt("BENCH_SERVER_SECONDS", 3)) * time.Second
	flag.StringVar(&cfg.goBench, "gobench", "", "output of go test -bench BenchmarkEmit10kSeries -benchmem")
	flag.StringVar(&cfg.otelcol, "otelcol", "", "the ocb-built collector, for its steady state")
	flag.StringVar(&cfg.tool, "tool", "", "the syscalls tool, measured against strace -c on dd")
	copyTo := flag.String("o", "", "also write the table to this file")
	flag.Parse()
	var out io.Writer = os.Stdout
	if *copyTo != "" {
		f, err := os.Create(*copyTo)
		if err != nil {
			fmt.Fprintln(os.Stderr, "syscallbench:", err)
			os.Exit(1)
		}
		defer func() { _ = f.Close() }()
		out = io.MultiWriter(os.Stdout, f)
	}
	if err := run(cfg, out); err != nil {
		fmt.Fprintln(os.Stderr, "syscallbench:", err)
		os.Exit(1)
	}
}

func run(cfg config, out io.Writer) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("must run as root: it loads eBPF programs and reads every program's run time")
	}
	if kstats.AlreadyOn() {
		return fmt.Errorf("kernel.bpf_stats_enabled is on: it adds ~150 ns to every program run and would skew every wall time; run sysctl -w kernel.bpf_stats_enabled=0 first")
	}
	started := time.Now()
	load0 := loadavg()

	var vs []variant
	var skipped []string
	for _, v := range variants(cfg) {
		if !selected(cfg.only, v.name) {
			continue
		}
		if tool := toolOf(v.name); tool != "" {
			if _, err := exec.LookPath(tool); err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %s is not installed", v.name, tool))
				continue
			}
		}
		vs = append(vs, v)
	}
	logf("measuring %d variants × %d rounds, %s calls per thread (strace %s)", len(vs), cfg.rounds, group(cfg.n), group(cfg.straceN))
	results, shared, total := measure(cfg, vs)

	var servers []realResult
	if selected(cfg.only, "real") {
		logf("real workloads: redis, nginx, fio × %d variants × %d rounds", len(realVariants), cfg.rounds)
		servers = measureReal(cfg, variants(cfg))
	}

	var steady *steadyResult
	steadyWhy := "no collector binary: run `make otelcol` first"
	if cfg.otelcol != "" {
		if _, err := os.Stat(cfg.otelcol); err == nil {
			logf("collector steady state: %d idle processes, %s window", cfg.steadyProcs, cfg.steadyWindow)
			res, err := measureSteady(cfg.otelcol, cfg.steadyProcs, cfg.steadyWindow)
			if err != nil {
				steadyWhy = err.Error()
				logf("collector steady state failed: %v", err)
			} else {
				steady = &res
			}
		}
	}
	var bench map[string]map[string][]float64
	if cfg.goBench != "" {
		b, err := os.ReadFile(cfg.goBench)
		if err != nil {
			return err
		}
		bench = report.ParseGoBench(string(b))
	}

	// The table.
	fmt.Fprintf(out, "syscalls receiver benchmark, %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(out, "machine: %s; load average %s at start, %s at end; %s in total\n",
		machine(), load0, loadavg(), time.Since(started).Round(time.Second))
	if cfg.rev != "" {
		fmt.Fprintf(out, "revision: %s\n", cfg.rev)
	}
	fmt.Fprintf(out, "workload: getppid loop, 1 thread pinned to one CPU, and one pinned thread per CPU; %d rounds, medians\n", cfg.rounds)
	var base1, base2 []float64
	for _, r := range results {
		base1, base2 = append(base1, r.Base1...), append(base2, r.Base2...)
	}
	fmt.Fprintf(out, "baseline (nothing attached): %.0f ns/syscall on 1 thread, %.0f on all CPUs (median of %d runs)\n",
		report.Median(base1), report.Median(base2), len(base1))
	fmt.Fprintf(out, "other tools' eBPF programs on the syscall hooks: during %d of %d measurements", shared, total)
	if shared > 0 {
		fmt.Fprint(out, " (those rounds are dropped where a variant has clean ones; see the notes)")
	}
	fmt.Fprint(out, "\n\n")
	fmt.Fprintln(out, "Added cost per syscall: variant run minus the baseline run just before it, in ns.")
	fmt.Fprintln(out, "In-kernel: sum over the tool's syscall hooks of run_time_ns/run_cnt, stats on only for a separate run.")
	report.WriteCosts(out, results)
	for _, s := range skipped {
		fmt.Fprintf(out, "  skipped %s\n", s)
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Our modes ÷ the floor with the same hooks and ÷ each peer (1 thread; in-kernel ratio in brackets):")
	report.WriteRatios(out, results,
		[]string{oursSystem, oursSystemErr, oursProcCalls, oursProc, oursProcNoSigreturn, oursFull, oursSampled, oursCgroup},
		[]string{bpftraceID, bpftraceCm, bpftracePidID, syscount, syscountP, syscountL, straceC})
	fmt.Fprintln(out)
	writeSigreturnCost(out, results)
	fmt.Fprintln(out)
	if servers != nil {
		writeReal(out, servers, cfg.rounds)
		fmt.Fprintln(out)
	}
	if cfg.tool != "" && selected(cfg.only, "tool") {
		writeToolCost(out, cfg.tool, cfg.rounds, cfg.toolBlocks)
		fmt.Fprintln(out)
	}
	fmt.Fprintln(out, "Targets:")
	report.WriteTargets(out, append(targets(cfg, results, bench, steady, steadyWhy), realTargets(servers)...))
	return nil
}

// writeSigreturnCost says what counting sigreturns at sys_enter adds: the
// same mode with and without its sys_enter program, in one run.
func writeSigreturnCost(out io.Writer, results []*report.Result) {
	with, without := report.Find(results, oursProc), report.Find(results, oursProcNoSigreturn)
	if with == nil || without == nil {
		return
	}
	fmt.Fprintf(out, "Counting sigreturns (sys_enter), per process calls+errors: +%s ns/syscall with, +%s without: %.2f×",
		num(report.Median(with.Over1)), num(report.Median(without.Over1)), report.Ratio(with.Over1, without.Over1))
	if len(with.Kernel) > 0 && len(without.Kernel) > 0 {
		fmt.Fprintf(out, "; in-kernel %s vs %s ns", num(report.Median(with.Kernel)), num(report.Median(without.Kernel)))
	}
	fmt.Fprintln(out)
}

// unmeasured is a target without a figure (yet), and without an
// in-kernel ratio.
func unmeasured(goal, why string) report.Target {
	return report.Target{Goal: goal, Measured: math.NaN(), Kernel: math.NaN(), Detail: why}
}

// toolOf is the peer program a variant needs installed, if any.
func toolOf(name string) string {
	for _, tool := range []string{"bpftrace", "syscount", "strace"} {
		if strings.HasPrefix(name, tool) {
			return tool
		}
	}
	return ""
}

func machine() string {
	var u unix.Utsname
	_ = unix.Uname(&u)
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	cpus, _ := os.ReadFile("/sys/devices/system/cpu/online")
	return fmt.Sprintf("Linux %s, %s, CPUs %s", unix.ByteSliceToString(u.Release[:]), model, strings.TrimSpace(string(cpus)))
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func envInt(name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(strings.ReplaceAll(v, "_", ""))
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "syscallbench: ignoring %s=%q: not a positive integer\n", name, v)
		return def
	}
	return n
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func group(n int) string   { return report.Thousands(n) }
func num(x float64) string { return report.Thousands(int(math.Round(x))) }

// selected says whether BENCH_ONLY (substrings of variant names separated
// by "|"; empty for all) picks a variant. The floors are always measured.
func selected(only, name string) bool {
	if only == "" || strings.HasPrefix(name, "floor") {
		return true
	}
	for _, part := range strings.Split(only, "|") {
		if part != "" && strings.Contains(name, part) {
			return true
		}
	}
	return false
}
