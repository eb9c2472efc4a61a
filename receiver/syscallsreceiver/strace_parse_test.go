//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/bpf"
)

// The end of a real strace capture of the go preemption program: its last
// thread's exit_group kills the others, two in their calls ("= ?") and the
// leader as it entered one, unseen by strace ("???()").
func TestStraceComparisonOfKilledThreads(t *testing.T) {
	run := parseStrace(t, "testdata/referee/strace_killed.txt")
	require.Len(t, run.procs, 1, "the threads folded into their process")
	want := run.procs[12185]
	require.NotNil(t, want)
	assert.Equal(t, map[string]int64{"futex": 1, "nanosleep": 1}, run.died[12185])
	assert.Equal(t, map[sysKey]int64{{"execve", nativeABI}: 1, {"clone", nativeABI}: 3, {"futex", nativeABI}: 1,
		{"nanosleep", nativeABI}: 1, {"exit_group", nativeABI}: 1}, want.calls, `"???()" is no call`)

	died := run.died[12185]
	ours := func(change func(c *refCounts)) *refCounts { return changed(want, change) }
	allowed := map[string]func(c *refCounts){
		"the same":                func(*refCounts) {},
		"futex ran, killed in it": func(c *refCounts) { c.errors["futex ERESTARTSYS"]++ },
		"futex skipped, killed at its entry stop": func(c *refCounts) { c.calls[sysKey{"futex", nativeABI}]-- },
		"both died calls with errors": func(c *refCounts) {
			c.errors["futex ERESTARTSYS"]++
			c.errors["nanosleep ERESTART_RESTARTBLOCK"]++
		},
	}
	for name, change := range allowed {
		for _, hook := range bpf.Hooks {
			assert.Empty(t, compareWithStrace(hook, ours(change), want, died, ""), "%s, %s", name, hook)
		}
	}
	refused := map[string]func(c *refCounts){
		"a died call both skipped and failed": func(c *refCounts) {
			c.calls[sysKey{"futex", nativeABI}]--
			c.errors["futex ERESTARTSYS"]++
		},
		"two errors of one died call":     func(c *refCounts) { c.errors["futex ERESTARTSYS"] += 2 },
		"a call strace never saw":         func(c *refCounts) { c.calls[sysKey{"getpid", nativeABI}]++ },
		"a call missing that did not die": func(c *refCounts) { c.calls[sysKey{"clone", nativeABI}]-- },
		// What tp_btf counted of a thread killed as it entered, before it
		// read the task at sys_exit.
		"the skipped call with its ENOSYS": func(c *refCounts) {
			c.calls[sysKey{"pread64", nativeABI}]++
			c.errors["pread64 ENOSYS"]++
		},
	}
	for name, change := range refused {
		assert.NotEmpty(t, compareWithStrace(bpf.HookTPBTF, ours(change), want, died, ""), name)
	}
	// The hooks that count at sys_enter count the skipped call's -ENOSYS
	// only: they do not check the task at sys_exit.
	assert.Empty(t, compareWithStrace(bpf.HookRawTracepoint, ours(func(c *refCounts) { c.errors["pread64 ENOSYS"]++ }), want, died, ""))
	assert.NotEmpty(t, compareWithStrace(bpf.HookTPBTF, ours(func(c *refCounts) { c.errors["pread64 ENOSYS"]++ }), want, died, ""))
}

// Another real capture's end: a thread killed in its nanosleep, which
// strace printed as entered and never as ended.
func TestStraceCallEnteredNeverEnded(t *testing.T) {
	run := parseStrace(t, "testdata/referee/strace_killed_at_entry_stop.txt")
	require.Len(t, run.procs, 1)
	assert.Equal(t, map[string]int64{"futex": 1, "nanosleep": 1}, run.died[11163])
	want := run.procs[11163]
	assert.EqualValues(t, 1, want.calls[sysKey{"nanosleep", nativeABI}])
	skipped := changed(want, func(c *refCounts) { c.calls[sysKey{"nanosleep", nativeABI}]-- })
	assert.Empty(t, compareWithStrace(bpf.HookTPBTF, skipped, want, run.died[11163], ""))
}

// changed returns a copy of c with change applied.
func changed(c *refCounts, change func(c *refCounts)) *refCounts {
	out := newRefCounts()
	maps.Copy(out.calls, c.calls)
	maps.Copy(out.errors, c.errors)
	change(out)
	return out
}
