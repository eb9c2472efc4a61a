//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/seed22255693/syscallsreceiver/bpf"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// refereeProgram is a real program with real work and failures (the
// programs of "How exact, and how we know" in the README), and what strace
// must see it do, so that each case really tests what it is for.
type refereeProgram struct {
	args []string
	// denied is the syscall its seccomp filter denies with EPERM.
	denied string
	shows  func(t *testing.T, run straceRun)
}

func refereePrograms(bins refereeBins) map[string]refereeProgram {
	leader := func(run straceRun) *refCounts { return run.procs[slices.Min(slices.Collect(maps.Keys(run.procs)))] }
	return map[string]refereeProgram{
		"ls missing paths": {args: []string{"ls", "-la", "/etc/hostname", "/nonexistent-a", "/nonexistent-b"},
			shows: func(t *testing.T, run straceRun) { assert.GreaterOrEqual(t, sumErrno(leader(run), "ENOENT"), int64(2)) }},
		"sh pipelines": {args: []string{"sh", "-c", "find /usr/share/doc -maxdepth 2 -name '*.gz' | sort > /dev/null; " +
			"gzip -c /etc/services | gunzip > /dev/null; /bin/false; echo done > /dev/null"},
			shows: func(t *testing.T, run straceRun) { assert.GreaterOrEqual(t, len(run.procs), 6, "sh and its children") }},
		"python threads": {args: []string{"/usr/bin/python3", "testdata/referee/threads.py"},
			shows: func(t *testing.T, run straceRun) {
				assert.EqualValues(t, 5, leader(run).calls[sysKey{"rt_sigreturn", nativeABI}], "its 5 signals")
			}},
		"go preemption": {args: []string{bins.preempt},
			shows: func(t *testing.T, run straceRun) {
				assert.Positive(t, leader(run).calls[sysKey{"rt_sigreturn", nativeABI}], "preemption signals")
			}},
		"i386 static": {args: []string{bins.signals32, "3", "4"},
			shows: func(t *testing.T, run straceRun) {
				assert.EqualValues(t, 3, leader(run).calls[sysKey{"rt_sigreturn", "i386"}])
				assert.EqualValues(t, 4, leader(run).calls[sysKey{"sigreturn", "i386"}])
			}},
		"seccomp EPERM": {args: []string{bins.cases, "seccomp"}, denied: "getppid",
			shows: func(t *testing.T, run straceRun) { assert.EqualValues(t, 7, leader(run).errors["getppid EPERM"]) }},
		"posix_spawn, vfork": {args: []string{bins.cases, "spawn"},
			shows: func(t *testing.T, run straceRun) { assert.Len(t, run.procs, 5, "the program, 3 spawned, 1 vforked") }},
		"thread execs": {args: []string{bins.cases, "thread-exec"},
			shows: func(t *testing.T, run straceRun) {
				assert.NotEmpty(t, run.died, "the other threads die in their calls")
			}},
		"killed in read": {args: []string{bins.cases, "killed"},
			shows: func(t *testing.T, run straceRun) {
				assert.Contains(t, slices.Collect(maps.Values(run.died)), map[string]int64{"read": 1})
			}},
		"EINTR, rt_sigreturn": {args: []string{bins.cases, "eintr"},
			shows: func(t *testing.T, run straceRun) {
				// The kernel's view at sys_exit; signal delivery makes it EINTR.
				assert.EqualValues(t, 3, leader(run).errors["read ERESTARTSYS"])
				assert.EqualValues(t, 3, leader(run).errors["rt_sigreturn EINTR"], "strace's view of the restored -EINTR")
			}},
	}
}

func sumErrno(c *refCounts, errno string) (n int64) {
	for k, v := range c.errors {
		if strings.HasSuffix(k, " "+errno) {
			n += v
		}
	}
	return n
}

// TestStraceReferee runs each program under strace -f and the receiver at
// once, on every hook, and requires the same calls and errors per process
// and per syscall, but for the documented differences:
//   - a call whose thread died in it (strace: "= ?") never returned to user
//     space; strace cannot see its end, the kernel still runs sys_exit: we
//     count it with what it returned there (a restart code such as
//     ERESTARTSYS, or its own error), or not at all if the thread was
//     killed at its entry stop, which skips the call (each such call one
//     or the other);
//   - a traced thread killed as it enters a call (strace shows nothing, or
//     "???()") never runs it; tp_btf counts nothing of it, the hooks that
//     count at sys_enter (raw_tracepoint, tracepoint) its -ENOSYS at
//     sys_exit (on x86; arm64 forgets the skipped call's number);
//   - strace counts the value rt_sigreturn restores (an interrupted call's
//     -EINTR) as rt_sigreturn's error; rt_sigreturn did not fail;
//   - hooks that count at sys_enter never see a call that seccomp denied:
//     its error is counted, the call is not;
//   - the tracepoint hook cannot tell 32-bit processes' calls apart.
func TestStraceReferee(t *testing.T) {
	kerneltest.Require(t)
	bins := buildRefereeBins(t)
	programs := refereePrograms(bins)
	for _, hook := range bpf.Hooks {
		for _, name := range slices.Sorted(maps.Keys(programs)) {
			t.Run(string(hook)+"/"+name, func(t *testing.T) {
				p := programs[name]
				if name == "i386 static" && bins.no32 != "" {
					t.Skip(bins.no32)
				}
				ours, theirs := underStrace(t, bins, string(hook), p.args...)
				p.shows(t, theirs)
				defer logTopSyscalls(t, ours, theirs)
				assert.ElementsMatch(t, slices.Collect(maps.Keys(theirs.procs)), slices.Collect(maps.Keys(ours)), "processes")
				for pid, want := range theirs.procs {
					got := ours[pid]
					if got == nil {
						continue
					}
					if hook == bpf.HookTracepoint && name == "i386 static" {
						// Counted, but named from the native table.
						assert.Equal(t, sum(want.calls), sum(got.calls), "pid %d: calls of every name", pid)
						continue
					}
					diffs := compareWithStrace(hook, got, want, theirs.died[pid], p.denied)
					assert.Empty(t, diffs, "pid %d", pid)
					t.Logf("pid %d: %d calls, %d errors, same as strace's%s", pid, sum(want.calls), sum(want.errors), diedNote(theirs.died[pid]))
				}
			})
		}
	}
}

// logTopSyscalls logs the program's most-called syscalls (and its
// rt_sigreturns) summed over its processes, ours beside strace's.
func logTopSyscalls(t *testing.T, ours map[int]*refCounts, theirs straceRun) {
	byName := func(procs map[int]*refCounts) map[string]int64 {
		m := map[string]int64{}
		for _, c := range procs {
			for k, n := range c.calls {
				m[k.name] += n
			}
		}
		return m
	}
	o, s := byName(ours), byName(theirs.procs)
	names := slices.SortedFunc(maps.Keys(s), func(a, b string) int { return cmp.Or(cmp.Compare(s[b], s[a]), cmp.Compare(a, b)) })
	names = names[:min(5, len(names))]
	if _, ok := s["rt_sigreturn"]; ok && !slices.Contains(names, "rt_sigreturn") {
		names = append(names, "rt_sigreturn")
	}
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %d/%d", n, o[n], s[n]))
	}
	t.Logf("calls, ours/strace: %s", strings.Join(parts, ", "))
}

func diedNote(died map[string]int64) string {
	if len(died) == 0 {
		return ""
	}
	return fmt.Sprintf(" (died in: %v)", died)
}

// compareWithStrace lists every difference the documented ones do not
// explain.
func compareWithStrace(hook bpf.Hook, got, want *refCounts, died map[string]int64, denied string) []string {
	var diffs []string
	atEntry := hook != bpf.HookTPBTF
	// Per syscall, the calls strace shows as "= ?" that we do not count
	// or count with one more error than strace's: each can be one or
	// the other, not both.
	spent := map[string]int64{}
	for _, k := range union(got.calls, want.calls) {
		g, w := got.calls[k], want.calls[k]
		if atEntry && k.name == denied {
			w -= want.errors[k.name+" EPERM"]
		}
		if g < w {
			spent[k.name] += w - g
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("calls %s/%s: ours %d, strace %d", k.name, k.abi, g, w))
		}
	}
	for _, k := range union(got.errors, want.errors) {
		name, _, _ := strings.Cut(k, " ")
		g, w := got.errors[k], want.errors[k]
		if name == "rt_sigreturn" || name == "sigreturn" {
			w = 0
		}
		// A traced thread killed as it enters a call never runs it
		// (ptrace skips it); the kernel still runs sys_exit, with the
		// call's number and -ENOSYS (x86). tp_btf checks the task there
		// and counts nothing; the other hooks do not, and count the
		// error.
		if atEntry && strings.HasSuffix(k, " ENOSYS") && g > w {
			continue
		}
		if g > w {
			spent[name] += g - w
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("errors %s: ours %d, strace %d", k, g, w))
		}
	}
	for name, n := range spent {
		if n > died[name] {
			diffs = append(diffs, fmt.Sprintf("%s: %d calls fewer or errors more than strace's, but strace saw only %d die in it (calls ours %d, strace %d; errors ours %v, strace %v)",
				name, n, died[name], callsOf(got, name), callsOf(want, name), errorsOf(got, name), errorsOf(want, name)))
		}
	}
	return diffs
}

// callsOf returns c's calls of the syscall name, over its ABIs.
func callsOf(c *refCounts, name string) (n int64) {
	for k, v := range c.calls {
		if k.name == name {
			n += v
		}
	}
	return n
}

// errorsOf returns c's errors of the syscall name, by "name errno".
func errorsOf(c *refCounts, name string) map[string]int64 {
	m := map[string]int64{}
	for k, v := range c.errors {
		if strings.HasPrefix(k, name+" ") {
			m[k] = v
		}
	}
	return m
}

func union[K comparable, V any](a, b map[K]V) []K {
	seen := map[K]bool{}
	var out []K
	for _, m := range []map[K]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

func sum[K comparable](m map[K]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}
