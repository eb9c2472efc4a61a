//go:build linux && (amd64 || arm64)

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/ebpf"

	"github.com/seed22255693/syscallsreceiver/bench/floor"
	"github.com/seed22255693/syscallsreceiver/bench/loop"
	"github.com/seed22255693/syscallsreceiver/bench/peer"
	"github.com/seed22255693/syscallsreceiver/bench/procs"
	"github.com/seed22255693/syscallsreceiver/bench/report"
	"github.com/seed22255693/syscallsreceiver/bpf"
)

// A variant is one thing attached while the workload runs.
type variant struct {
	name  string
	hooks string
	floor string // the floor variant with the same hooks, "" for none
	n     int    // timed calls per thread (fewer for strace)
	// key says under which key the tool must have counted a run's calls
	// (nil: the tool prints no counts; the in-kernel run counts check it).
	key   func(loop.Result) string
	start func() (session, error)
}

// A session is a variant while attached.
type session interface {
	// command wraps the workload's command line (strace) or returns it.
	command(argv []string) []string
	// afterRun is called after each workload run.
	afterRun() error
	// programs returns the ids of its eBPF programs (nil: not eBPF).
	programs() []uint32
	// stop detaches and returns what the tool counted, by key.
	stop() (map[string]uint64, error)
}

const (
	floorExit = "floor: empty sys_exit"
	floorBoth = "floor: empty sys_enter+sys_exit"
	// Not empty: the least that timing a call, or counting it per
	// process, takes. A target below them is out of reach.
	floorTimed   = "floor: a clock read at sys_enter and sys_exit"
	floorCounted = "floor: empty sys_enter, one per-process hash add at sys_exit"
	// Both at once, in one exit program: a per-process histogram's least
	// work (their sum would count the task's read twice).
	floorTimedCounted = "floor: clock reads, one per-process hash add of the duration"
	oursSystem        = "ours: system-wide, calls"
	// Not targets: they split the cost of per-process
	// counting from that of the exit hook, for the analysis.
	oursSystemErr = "ours: system-wide, calls+errors"
	oursProcCalls = "ours: per process, calls"
	oursProc      = "ours: per process, calls+errors"
	// The same with sigreturns lost (no sys_enter program): what counting
	// them at sys_enter costs every other syscall.
	oursProcNoSigreturn = "ours: per process, calls+errors, sigreturns uncounted"
	oursFull            = "ours: per process, calls+errors+duration histogram"
	oursCgroup          = "ours: per container (cgroup), calls+errors"
	// The default mode with duration.sample_one_in: 16.
	oursSampled = "ours: default, durations sampled 1 in 16"
	// The default mode with one part of its duration path left out: what
	// each part costs.
	oursNoClock     = "ours: default, ablated: no clock reads"
	oursNoBucket    = "ours: default, ablated: no bucket search"
	oursNoHistogram = "ours: default, ablated: no histogram update"
	bpftraceID      = "bpftrace @[args->id]"
	bpftraceCm      = "bpftrace @[comm]"
	bpftracePidID   = "bpftrace @[pid, args->id]"
	syscount        = "syscount"
	syscountP       = "syscount -P"
	syscountL       = "syscount -L"
	straceC         = "strace -c -f"
)

// oursProcs is the per-process calls+errors mode with that many exited
// processes already in its map.
func oursProcs(n int) string {
	return fmt.Sprintf("ours: per process, calls+errors, %s processes in map", report.Thousands(n))
}

func variants(cfg config) []variant {
	getppid := func(loop.Result) string { return "getppid" }
	self := comm()
	// The receiver's defaults: per process, calls, errors and durations
	// at its finest histogram scale.
	defaults := func(change ...func(*bpf.Options)) bpf.Options {
		o := bpf.Options{GroupByProcess: true, CountCalls: true, CountErrors: true, MeasureDuration: true, DurationScale: bpf.MaxDurationScale}
		for _, c := range change {
			c(&o)
		}
		return o
	}
	vs := []variant{
		{name: floorExit, hooks: "tp_btf exit", start: floorSession(floor.Exit)},
		{name: floorBoth, hooks: "tp_btf enter+exit", start: floorSession(floor.EnterExit)},
		{name: floorTimed, hooks: "tp_btf enter+exit", floor: floorBoth, start: floorSession(floor.Timed)},
		{name: floorCounted, hooks: "tp_btf enter+exit", floor: floorBoth, start: floorSession(floor.EnterExitCounted)},
		{name: floorTimedCounted, hooks: "tp_btf enter+exit", floor: floorBoth, start: floorSession(floor.TimedCounted)},
		{name: oursSystem, hooks: "tp_btf enter+exit", floor: floorBoth,
			start: oursSession(bpf.Options{CountCalls: true}, 0)},
		{name: oursSystemErr, hooks: "tp_btf enter+exit", floor: floorBoth,
			start: oursSession(bpf.Options{CountCalls: true, CountErrors: true}, 0)},
		{name: oursProcCalls, hooks: "tp_btf enter+exit", floor: floorBoth,
			start: oursSession(bpf.Options{GroupByProcess: true, CountCalls: true}, 0)},
		{name: oursProc, hooks: "tp_btf enter+exit", floor: floorBoth,
			start: oursSession(bpf.Options{GroupByProcess: true, CountCalls: true, CountErrors: true}, 0)},
		{name: oursProcNoSigreturn, hooks: "tp_btf exit", floor: floorExit,
			start: oursSession(bpf.Options{GroupByProcess: true, CountCalls: true, CountErrors: true, UncountedSigreturns: true}, 0)},
		{name: oursFull, hooks: "tp_btf enter+exit", floor: floorBoth,
			start: oursSession(defaults(), 0)},
		{name: oursSampled, hooks: "tp_btf enter+exit", floor: floorBoth,
			start: oursSession(defaults(func(o *bpf.Options) { o.DurationSampleOneIn = 16 }), 0)},
		{name: oursNoClock, hooks: "tp_btf enter+exit", floor: floorBoth,
			start: oursSession(defaults(func(o *bpf.Options) { o.Ablate = bpf.AblateClock }), 0)},
		{name: oursNoBucket, hooks: "tp_btf enter+exit", floor: floorBoth,
			start: oursSession(defaults(func(o *bpf.Options) { o.Ablate = bpf.AblateBucket }), 0)},
		{name: oursNoHistogram, hooks: "tp_btf enter+exit", floor: floorBoth,
			start: oursSession(defaults(func(o *bpf.Options) { o.Ablate = bpf.AblateHistogram }), 0)},
		{name: oursCgroup, hooks: "tp_btf enter+exit", floor: floorBoth,
			start: oursSession(bpf.Options{GroupByCgroup: true, CountCalls: true, CountErrors: true}, 0)},
		// Room for every exited process and the host's own: a group past
		// max_groups is counted in the cheaper overflow array instead.
		{name: oursProcs(10), hooks: "tp_btf enter+exit", floor: floorBoth,
			start: oursSession(bpf.Options{GroupByProcess: true, CountCalls: true, CountErrors: true, MaxGroups: uint32(cfg.procs + 10_000)}, 10)},
		{name: oursProcs(cfg.procs), hooks: "tp_btf enter+exit", floor: floorBoth,
			start: oursSession(bpf.Options{GroupByProcess: true, CountCalls: true, CountErrors: true, MaxGroups: uint32(cfg.procs + 10_000)}, cfg.procs)},
		{name: bpftraceID, hooks: "tp enter", floor: floorExit,
			key:   func(loop.Result) string { return strconv.Itoa(syscall.SYS_GETPPID) },
			start: startPeer(peer.Spec{Argv: []string{"bpftrace", "-e", "tracepoint:raw_syscalls:sys_enter { @[args->id] = count(); }"}, Programs: 1, Parse: peer.ParseBpftraceMap})},
		{name: bpftraceCm, hooks: "tp enter", floor: floorExit,
			key:   func(loop.Result) string { return self },
			start: startPeer(peer.Spec{Argv: []string{"bpftrace", "-e", "tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }"}, Programs: 1, Parse: peer.ParseBpftraceMap})},
		// What our per-process mode counts, as bpftrace would: by process
		// and syscall.
		{name: bpftracePidID, hooks: "tp enter", floor: floorExit,
			key:   func(r loop.Result) string { return fmt.Sprintf("%d, %d", r.PID, syscall.SYS_GETPPID) },
			start: startPeer(peer.Spec{Argv: []string{"bpftrace", "-e", "tracepoint:raw_syscalls:sys_enter { @[pid, args->id] = count(); }"}, Programs: 1, Parse: peer.ParseBpftraceMap})},
		// libbpf-tools syscount loads sys_enter and sys_exit but attaches
		// sys_enter only for -L (its bpf_link count tells).
		{name: syscount, hooks: "tp exit", floor: floorExit, key: getppid,
			start: startPeer(peer.Spec{Argv: []string{"syscount"}, Programs: 2, Links: 1, Parse: syscountRows})},
		{name: syscountP, hooks: "tp exit", floor: floorExit,
			key:   func(r loop.Result) string { return strconv.Itoa(r.PID) },
			start: startPeer(peer.Spec{Argv: []string{"syscount", "-P"}, Programs: 2, Links: 1, Parse: syscountByPID})},
		{name: syscountL, hooks: "tp enter+exit", floor: floorBoth, key: getppid,
			start: startPeer(peer.Spec{Argv: []string{"syscount", "-L"}, Programs: 2, Links: 2, Parse: syscountRows})},
		{name: straceC, hooks: "ptrace", n: cfg.straceN, key: getppid, start: straceSession},
	}
	for i := range vs {
		if vs[i].n == 0 {
			vs[i].n = cfg.n
		}
	}
	return vs
}

// syscount prints "SYSCALL COUNT [TIME]" rows, or "PID COMM COUNT" with -P.
func syscountRows(out string) map[string]uint64  { return peer.ParseColumns(out, 0, 1) }
func syscountByPID(out string) map[string]uint64 { return peer.ParseColumns(out, 0, -1) }

// bpfSession is one of our own program sets: attached synchronously, so
// there is nothing to wait for.
type bpfSession struct {
	closer  io.Closer
	ids     []uint32
	entries int // entries in the per-process map after forking, if any
}

func (s *bpfSession) command(argv []string) []string   { return argv }
func (s *bpfSession) afterRun() error                  { return nil }
func (s *bpfSession) programs() []uint32               { return s.ids }
func (s *bpfSession) stop() (map[string]uint64, error) { return nil, s.closer.Close() }

func floorSession(kind floor.Kind) func() (session, error) {
	return func() (session, error) {
		f, err := floor.Attach(kind)
		if err != nil {
			return nil, err
		}
		return &bpfSession{closer: f, ids: progIDs(f.ProgramIDs())}, nil
	}
}

// oursSession loads the receiver's programs as the receiver does (its own
// syscalls excluded), then creates exited processes whose counters stay in
// the per-process map: nothing deletes them until a receiver scrapes.
func oursSession(opts bpf.Options, exited int) func() (session, error) {
	return func() (session, error) {
		opts.ExcludeTGID = uint32(os.Getpid())
		c, err := bpf.Load(opts)
		if err != nil {
			return nil, err
		}
		progs, _ := c.ObjectIDs()
		s := &bpfSession{closer: c, ids: progIDs(progs)}
		if exited > 0 {
			if err := procs.ForkExited(exited); err != nil {
				_ = c.Close()
				return nil, err
			}
			_, maps := c.ObjectIDs()
			s.entries = mapEntries(maps)
		}
		return s, nil
	}
}

// mapEntries counts the groups admitted to the per-process maps (the map
// named "groups"; else the entries of the largest per-CPU hash). Reading
// through map ids keeps this independent of the loader's Go types.
func mapEntries(ids []ebpf.MapID) int {
	most := 0
	for _, id := range ids {
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			continue
		}
		info, _ := m.Info()
		if n := countKeys(m); info != nil && info.Name == "groups" {
			_ = m.Close()
			return n
		} else if m.Type() == ebpf.PerCPUHash {
			most = max(most, n)
		}
		_ = m.Close()
	}
	return most
}

func countKeys(m *ebpf.Map) int {
	n := 0
	var key any // nil: the first key
	for {
		next, err := m.NextKeyBytes(key)
		if err != nil || next == nil {
			return n
		}
		n++
		key = next
	}
}

type peerSession struct{ *peer.Running }

// startPeer starts a peer tool; bpftrace compiles its script with LLVM
// first, which takes seconds.
func startPeer(spec peer.Spec) func() (session, error) {
	if spec.Name == "" {
		spec.Name = strings.Join(spec.Argv, " ")
	}
	return func() (session, error) {
		r, err := peer.Start(spec, 2*time.Minute)
		if err != nil {
			return nil, err
		}
		return peerSession{r}, nil
	}
}

func (s peerSession) command(argv []string) []string { return argv }
func (s peerSession) afterRun() error                { return nil }
func (s peerSession) programs() []uint32             { return s.Programs() }
func (s peerSession) stop() (map[string]uint64, error) {
	out, err := s.Stop()
	return s.Parse(out), err
}

// straceSession runs each workload under strace -c -f, whose summary goes
// to a file read after each run.
type straceSessionT struct {
	out    string
	counts map[string]uint64
}

func straceSession() (session, error) {
	f, err := os.CreateTemp("", "syscallbench-strace-*.out")
	if err != nil {
		return nil, err
	}
	_ = f.Close()
	return &straceSessionT{out: f.Name(), counts: map[string]uint64{}}, nil
}

func (s *straceSessionT) command(argv []string) []string {
	return append([]string{"strace", "-c", "-f", "-o", s.out}, argv...)
}

// afterRun adds the run's summary: "% time seconds usecs/call calls
// [errors] syscall" rows.
func (s *straceSessionT) afterRun() error {
	b, err := os.ReadFile(s.out)
	if err != nil {
		return err
	}
	for k, v := range peer.ParseColumns(string(b), -1, 3) {
		s.counts[k] += v
	}
	return nil
}

func (s *straceSessionT) programs() []uint32 { return nil }
func (s *straceSessionT) stop() (map[string]uint64, error) {
	return s.counts, os.Remove(s.out)
}

func progIDs(ids []ebpf.ProgramID) []uint32 {
	out := make([]uint32, len(ids))
	for i, id := range ids {
		out[i] = uint32(id)
	}
	return out
}

// comm is the kernel's name for our workload processes, which run this
// binary: its name cut to 15 bytes.
func comm() string {
	exe, _ := os.Executable()
	name := filepath.Base(exe)
	return name[:min(len(name), 15)]
}
