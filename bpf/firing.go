//go:build linux && (amd64 || arm64)

package bpf

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// probeCalls is how many syscalls the firing check makes itself.
const probeCalls = 64

// silentHooks returns the syscall hooks that are attached but that the
// kernel does not run: an attach that succeeds is no proof that the
// program runs. On a 6.1 arm64 guest under qemu, sys_exit was seen
// attached without error and never run while sys_enter ran, so every call
// went uncounted. The check makes probeCalls syscalls with the kernel's
// BPF statistics on and reads the programs' run counts. It decides only
// when the statistics demonstrably count (some hook ran them all): where
// they cannot be turned on (before Linux 5.8) it returns nothing.
func (c *Counters) silentHooks() []string {
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return nil
	}
	defer func() { _ = stats.Close() }()
	var progs []*ebpf.Program
	var names []string
	for i, name := range c.linkNames {
		switch name {
		case "sys_enter":
			progs = append(progs, c.objs.SyscallsEnter)
		case "sys_exit":
			progs = append(progs, c.objs.SyscallsExit)
		default:
			continue // sched_process_exit runs only when a task exits
		}
		names = append(names, c.linkNames[i])
	}
	before := runCounts(progs)
	for range probeCalls {
		unix.Getppid()
	}
	after := runCounts(progs)
	var silent []string
	counting := false
	for i := range progs {
		if before[i] < 0 || after[i] < 0 {
			return nil
		}
		ran := after[i] - before[i]
		if ran >= probeCalls {
			counting = true
		} else {
			silent = append(silent, fmt.Sprintf("%s (%d runs during %d syscalls)", names[i], ran, probeCalls))
		}
	}
	if !counting {
		return nil
	}
	return silent
}

// runCounts reads each program's run count, -1 where it cannot.
func runCounts(progs []*ebpf.Program) []int64 {
	counts := make([]int64, len(progs))
	for i, p := range progs {
		st, err := p.Stats()
		if err != nil {
			counts[i] = -1
			continue
		}
		counts[i] = int64(st.RunCount)
	}
	return counts
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

// ensureFiring attaches again when the kernel does not run a hook.
func (c *Counters) ensureFiring() error {
	silent := c.silentHooks()
	if len(silent) == 0 {
		return nil
	}
	_ = c.detach() // a link the kernel does not run: nothing to lose
	if err := c.attach(); err != nil {
		return err
	}
	again := c.silentHooks()
	if len(again) > 0 {
		return fmt.Errorf("the kernel accepted the %s programs but does not run them on %s, even after attaching "+
			"them again: every syscall would go uncounted. Try another hook (hook: raw_tracepoint or tracepoint), "+
			"and report the kernel version", c.hook.hook, strings.Join(again, ", "))
	}
	c.reattached = fmt.Sprintf("the kernel did not run %s after the first attach; attached again, it does",
		strings.Join(silent, ", "))
	return nil
}

// Reattached says, when the kernel did not run a hook after its first
// attach, what the second attach fixed ("" otherwise).
func (c *Counters) Reattached() string { return c.reattached }
