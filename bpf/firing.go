//go:build linux && (amd64 || arm64)

package bpf

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// probeCalls is how many syscalls the firing check makes itself.
const probeCalls = 64

// silentHook is an attached hook that ran fewer times than the check's
// own syscalls.
type silentHook struct {
	tracepoint string
	runs       int64
}

func (h silentHook) String() string {
	return fmt.Sprintf("%s (%d runs during %d syscalls)", h.tracepoint, h.runs, probeCalls)
}

// silentHooks returns the syscall hooks that are attached but that the
// kernel does not run: an attach that succeeds is no proof that the
// program runs. On 6.1 and 5.10 arm64 guests under qemu, a syscall hook was
// seen attached without error and never run, so its calls went uncounted.
// The check makes probeCalls syscalls with the kernel's BPF statistics on
// and reads the programs' run counts. conclusive says that the statistics
// demonstrably counted (some hook ran them all); where they cannot be
// turned on (before Linux 5.8, or without CAP_SYS_ADMIN, which
// BPF_ENABLE_STATS needs) nothing is silent. The runs counted are every
// thread's, not only ours: a hook that ran for others proves it runs.
func (c *Counters) silentHooks() (silent []silentHook, conclusive bool) {
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return nil, false
	}
	defer func() { _ = stats.Close() }()
	var hooks []attachedHook
	for _, h := range c.hooksNeeded() {
		if h.tracepoint != "sched_process_exit" { // runs only when a task exits
			hooks = append(hooks, h)
		}
	}
	before, ok := runCounts(hooks)
	for range probeCalls {
		unix.Getppid()
	}
	after, ok2 := runCounts(hooks)
	if !ok || !ok2 {
		return nil, false
	}
	for i, h := range hooks {
		if ran := after[i] - before[i]; ran >= probeCalls {
			conclusive = true
		} else {
			silent = append(silent, silentHook{h.tracepoint, ran})
		}
	}
	return silent, conclusive
}

// runCounts reads each hook's program's run count; false where it cannot.
func runCounts(hooks []attachedHook) ([]int64, bool) {
	counts := make([]int64, len(hooks))
	for i, h := range hooks {
		st, err := h.prog.Stats()
		if err != nil {
			return nil, false
		}
		counts[i] = int64(st.RunCount)
	}
	return counts, true
}

// attachFiring attaches the programs and checks that the kernel runs them;
// a hook it does not run is attached once more (which made it run on the
// guest where this was seen), and if it still does not, Load fails rather
// than count nothing.
func (c *Counters) attachFiring() error {
	if err := c.attach(); err != nil {
		return err
	}
	return c.ensureFiring()
}

// ensureFiring attaches again when the kernel does not run a hook. With
// one syscall hook only (calls counted at sys_enter) a silent hook and
// statistics that do not count look alike: it is attached again all the
// same, which costs nothing, but Start fails only on proof.
func (c *Counters) ensureFiring() error {
	silent, _ := c.silentHooks()
	if len(silent) == 0 {
		return nil
	}
	again, conclusive, attempts, err := attachAgain(silent, c.reattach, c.silentHooks)
	if err != nil {
		return err
	}
	switch {
	case len(again) == 0:
		c.reattached = fmt.Sprintf("the kernel did not run %s after the first attach; attached again, it does%s",
			joinHooks(silent), timesSuffix(attempts))
	case conclusive:
		return fmt.Errorf("the kernel accepted the %s programs but does not run them on %s, even after attaching "+
			"them %d more times: every syscall would go uncounted. Try another hook (hook: raw_tracepoint or "+
			"tracepoint), and report the kernel version", c.hook.hook, joinHooks(again), attempts)
	default:
		c.reattached = fmt.Sprintf("the kernel's BPF statistics showed no run of %s, attached %d times; "+
			"whether it counts could not be verified", joinHooks(again), attempts+1)
	}
	return nil
}

// attachAgain attaches the silent hooks again until check finds none, up to
// maxReattach times: what is still silent, whether check's statistics
// proved it, and how many attaches it made.
func attachAgain(silent []silentHook, reattach func([]silentHook) error,
	check func() ([]silentHook, bool)) (again []silentHook, conclusive bool, attempts int, err error) {
	again = silent
	for attempts < maxReattach && len(again) > 0 {
		if err := reattach(again); err != nil {
			return again, false, attempts, err
		}
		attempts++
		again, conclusive = check()
	}
	return again, conclusive, attempts, nil
}

// maxReattach is how many more attaches a silent hook gets. Once was not
// always enough on the 6.12 arm64 guest under qemu.
const maxReattach = 3

func timesSuffix(n int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf(" (after %d more attaches)", n)
}

// reattach closes and attaches again the links of the silent hooks, and
// only those: the others keep running, so the entry times sys_enter
// recorded meanwhile still time their calls.
func (c *Counters) reattach(silent []silentHook) error {
	for _, h := range c.hooksNeeded() {
		if !slices.ContainsFunc(silent, func(s silentHook) bool { return s.tracepoint == h.tracepoint }) {
			continue
		}
		if i := slices.Index(c.linkNames, h.tracepoint); i >= 0 {
			_ = c.links[i].Close() // a link the kernel does not run: nothing to lose
			c.links = slices.Delete(c.links, i, i+1)
			c.linkNames = slices.Delete(c.linkNames, i, i+1)
		}
		if err := c.attachOne(h); err != nil {
			return err
		}
	}
	return nil
}

// joinHooks lists silent hooks for a message.
func joinHooks(hooks []silentHook) string {
	parts := make([]string, len(hooks))
	for i, h := range hooks {
		parts[i] = h.String()
	}
	return strings.Join(parts, ", ")
}

// Reattached says, when the kernel did not run a hook after its first
// attach, what the second attach fixed ("" otherwise).
func (c *Counters) Reattached() string { return c.reattached }
