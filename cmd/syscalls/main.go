//go:build linux && (amd64 || arm64)

// Command syscalls is `strace -c` from the receiver's engine: it counts a
// command's syscalls (or a running process's, a cgroup's, a comm's) in the
// kernel and prints strace's summary table when it ends.
//
//	syscalls -c [-f] [-U cols] [-S sortby] [-e] [-o file] [--json] -- CMD ARGS...
//	syscalls -c -p PID | --cgroup PATH | --comm NAME [-d secs] [-i secs]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/seed22255693/syscallsreceiver/bpf"
)

// options are the command line, as strace spells what means the same.
type options struct {
	follow   bool
	pids     []uint32
	cgroup   string
	comm     string
	duration float64 // -d: seconds to count when attaching (0: until Ctrl-C)
	interval float64 // -i: print the table every so many seconds
	columns  []string
	sortBy   string
	errnos   bool
	output   string
	json     bool
	hook     string
	command  []string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	opts, err := parseArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "syscalls: %v\nTry 'syscalls -h' for more information.\n", err)
		return 1
	}
	out := stderr // as strace: the command's output stays on stdout
	if opts.output != "" {
		f, err := os.Create(opts.output)
		if err != nil {
			fmt.Fprintf(stderr, "syscalls: %v\n", err)
			return 1
		}
		defer func() { _ = f.Close() }()
		out = f
	}
	if len(opts.command) > 0 {
		return countCommand(opts, out, stderr)
	}
	return countRunning(opts, out, stderr)
}

func parseArgs(args []string, stderr io.Writer) (options, error) {
	var opts options
	fs := flag.NewFlagSet("syscalls", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // a bad flag gets one line, -h the usage
	fs.Usage = func() {}     // flag calls it on every error too
	usage := func() {
		fs.SetOutput(stderr)
		fmt.Fprint(stderr, "usage: syscalls -c [-f] [-U columns] [-S sortby] [-e] [-o file] [--json] -- command [args...]\n"+
			"       syscalls -c (-p pid[,pid...] | --cgroup path | --comm name) [-d seconds] [-i seconds]\n\n")
		fs.PrintDefaults()
	}
	fs.Bool("c", true, "print a summary table of calls, errors and time per syscall (always on, as in strace -c)")
	fs.BoolVar(&opts.follow, "f", false, "follow the command's children (they run in a cgroup made for the command)")
	pids := fs.String("p", "", "count the running processes with these pids (comma-separated), with their threads")
	fs.StringVar(&opts.cgroup, "cgroup", "", "count a cgroup v2 path (from the v2 root, e.g. /system.slice/nginx.service) and its descendants")
	fs.StringVar(&opts.comm, "comm", "", "count the processes whose kernel comm is exactly this")
	fs.Float64Var(&opts.duration, "d", 0, "with -p, --cgroup or --comm: stop after so many seconds (default: at Ctrl-C)")
	fs.Float64Var(&opts.interval, "i", 0, "print the table every so many seconds, with the totals since start")
	cols := fs.String("U", "", "columns: time-percent,total-time,avg-time,calls,errors,name (default) and p50,p99,max-time,min-time")
	fs.StringVar(&opts.sortBy, "S", "time", "sort by time, calls, errors, name or p99")
	fs.BoolVar(&opts.errnos, "e", false, "also print each syscall's errors by errno")
	fs.BoolVar(&opts.errnos, "errors", false, "the same as -e")
	fs.StringVar(&opts.output, "o", "", "write the table to this file")
	fs.BoolVar(&opts.json, "json", false, "print the tables as JSON")
	fs.StringVar(&opts.hook, "hook", "auto", "how to hook the syscall path: auto (the first the kernel supports) or one of "+hookNames())
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
		}
		return opts, err
	}
	opts.command = fs.Args()
	var err error
	if opts.columns, err = parseColumns(*cols); err != nil {
		return opts, err
	}
	switch opts.sortBy {
	case "time", "calls", "errors", "name", "p99":
	default:
		return opts, fmt.Errorf("-S: invalid sortby %q (want time, calls, errors, name or p99)", opts.sortBy)
	}
	for _, p := range strings.Split(*pids, ",") {
		if p == "" {
			continue
		}
		pid, err := strconv.ParseUint(strings.TrimSpace(p), 10, 32)
		if err != nil || pid == 0 {
			return opts, fmt.Errorf("-p: invalid process id %q", p)
		}
		opts.pids = append(opts.pids, uint32(pid))
	}
	targets := 0
	for _, set := range []bool{len(opts.pids) > 0, opts.cgroup != "", opts.comm != "", len(opts.command) > 0} {
		if set {
			targets++
		}
	}
	switch {
	case targets == 0:
		return opts, errors.New("must have a command to run, or -p, --cgroup or --comm")
	case targets > 1:
		return opts, errors.New("give one of a command, -p, --cgroup and --comm")
	case opts.duration < 0 || opts.interval < 0:
		return opts, errors.New("-d and -i take a positive number of seconds")
	case len(opts.command) > 0 && opts.duration > 0:
		return opts, errors.New("-d is for -p, --cgroup and --comm: a command is counted until it exits")
	case len(opts.comm) > bpf.CommLen-1:
		return opts, fmt.Errorf("--comm %q: longer than the kernel's %d bytes", opts.comm, bpf.CommLen-1)
	}
	return opts, nil
}

// hookNames lists the hooks, from the engine's table.
func hookNames() string {
	names := make([]string, len(bpf.Hooks))
	for i, h := range bpf.Hooks {
		names[i] = string(h)
	}
	return strings.Join(names, ", ")
}
