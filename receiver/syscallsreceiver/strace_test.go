//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// straceRun is what `strace -f -o FILE` saw, per process (tgid), in the
// receiver's terms: calls by syscall name and ABI, errors by "name errno".
type straceRun struct {
	procs map[int]*refCounts
	// died are, per process and "name", the calls strace shows returning
	// "= ?": their thread died in them (a fatal signal, another thread's
	// execve or exit_group), so user space never saw a result.
	died map[int]map[string]int64
}

// refCounts are one process's calls and errors.
type refCounts struct {
	calls  map[sysKey]int64
	errors map[string]int64 // "name errno", any ABI
}

func newRefCounts() *refCounts {
	return &refCounts{calls: map[sysKey]int64{}, errors: map[string]int64{}}
}

var (
	straceLine    = regexp.MustCompile(`^(\d+) +(.*)$`)
	straceCall    = regexp.MustCompile(`^([a-z_0-9]+)\(`)
	straceResumed = regexp.MustCompile(`^<\.\.\. ([a-z_0-9]+) resumed>`)
	// ") = -1 ENOENT (text)", ") = 0x1 (flags FD_CLOEXEC)", ") = ? ERESTARTSYS (text)", ") = ?".
	straceResult = regexp.MustCompile(`\) += (\S+)(?: (E[A-Z0-9_]+))?(?: \(.*\))?$`)
	straceMode   = regexp.MustCompile(`^\[ Process PID=(\d+) runs in (32|64) bit mode\. \]$`)
)

// straceEvent is one completed call of one thread.
type straceEvent struct {
	tid         int
	name, line  string // line: the call's text, joined if it was split
	ret, errno  string
	personality string
}

// parseStrace reads strace -f output. Threads are folded into their
// process by following clone: a child made with CLONE_THREAD belongs to its
// parent's process. That takes a first pass, since a new thread's first
// calls are often printed before its parent's clone returns.
func parseStrace(t *testing.T, path string) straceRun {
	t.Helper()
	events := straceEvents(t, path)
	parent := map[int]int{} // thread → the thread that cloned it
	for _, e := range events {
		if (e.name == "clone" || e.name == "clone3") && strings.Contains(e.line, "CLONE_THREAD") {
			if child, err := strconv.Atoi(e.ret); err == nil && child > 0 {
				parent[child] = e.tid
			}
		}
	}
	process := func(tid int) int {
		for {
			p, ok := parent[tid]
			if !ok {
				return tid
			}
			tid = p
		}
	}
	run := straceRun{procs: map[int]*refCounts{}, died: map[int]map[string]int64{}}
	for _, e := range events {
		g := process(e.tid)
		c := run.procs[g]
		if c == nil {
			c = newRefCounts()
			run.procs[g] = c
		}
		c.calls[sysKey{e.name, e.personality}]++
		if e.errno != "" {
			c.errors[e.name+" "+e.errno]++
		}
		if e.ret == "?" && e.errno == "" && e.name != "exit" && e.name != "exit_group" {
			if run.died[g] == nil {
				run.died[g] = map[string]int64{}
			}
			run.died[g][e.name]++
		}
	}
	return run
}

// straceEvents returns every call strace saw return (or die), in order.
func straceEvents(t *testing.T, path string) []straceEvent {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	var events []straceEvent
	personality := map[int]string{}
	pending := map[int]string{} // tid → the first half of a split call
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		m := straceLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		tid, _ := strconv.Atoi(m[1])
		rest := m[2]
		if mode := straceMode.FindStringSubmatch(rest); mode != nil {
			personality[tid] = map[string]string{"32": "i386", "64": "x86_64"}[mode[2]]
			continue
		}
		e := straceEvent{tid: tid, personality: cmpStr(personality[tid], nativeABI)}
		switch {
		case strings.HasSuffix(rest, "<unfinished ...>"):
			if straceCall.MatchString(rest) {
				pending[tid] = rest
			}
			continue
		case straceResumed.MatchString(rest):
			e.name = straceResumed.FindStringSubmatch(rest)[1]
			e.line = pending[tid] + rest
			delete(pending, tid)
			if e.name == "execve" {
				// A non-leader thread's execve returns in the leader's
				// pid: its first half was printed under its own tid.
				for other, call := range pending {
					if strings.HasPrefix(call, "execve(") {
						delete(pending, other)
					}
				}
			}
		case straceCall.MatchString(rest):
			e.name = straceCall.FindStringSubmatch(rest)[1]
			e.line = rest
		case strings.HasPrefix(rest, "+++ ") && pending[tid] != "":
			// Killed in a call strace saw enter and never saw end
			// (at its entry stop, most likely): as "= ?".
			e.name = straceCall.FindStringSubmatch(pending[tid])[1]
			e.line = pending[tid] + ") = ?"
			delete(pending, tid)
		default:
			continue // signals, exits
		}
		if r := straceResult.FindStringSubmatch(e.line); r != nil {
			e.ret, e.errno = r[1], r[2]
		} else if e.name != "exit" && e.name != "exit_group" {
			t.Errorf("strace line not understood: %q", sc.Text())
			continue
		}
		events = append(events, e)
		if (e.name == "clone" || e.name == "clone3" || e.name == "fork" || e.name == "vfork") && e.ret != "" {
			if child, err := strconv.Atoi(e.ret); err == nil {
				personality[child] = personality[tid]
			}
		}
	}
	require.NoError(t, sc.Err())
	for tid, call := range pending {
		t.Errorf("strace saw thread %d enter a call that never returned nor died: %q", tid, call)
	}
	return events
}

func cmpStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
