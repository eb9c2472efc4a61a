//go:build linux

// Package procs creates many real processes cheaply, to fill the receiver's
// per-process map the way a busy host does. Each is a bare fork of the
// caller that makes a few raw syscalls and never runs Go code: fork+exec of
// even /bin/true makes ~30 distinct syscalls, and 10,000 such processes
// would overflow the map (32768 (process, syscall) pairs) instead of
// merely populating it.
package procs

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"
)

// ForkExited creates n processes one after the other; each exits at once.
// Its only syscall seen on entry is exit_group, so in per-process mode each
// leaves exactly one counter behind (bpf.Load alone never deletes them;
// the receiver would on its next scrape).
func ForkExited(n int) error {
	for range n {
		// vfork: the child shares our memory and we wait while it
		// runs, which skips copying page tables (~1 ms a fork here).
		pid, errno := fork(syscall.CLONE_VM|syscall.CLONE_VFORK, false)
		if errno != 0 {
			return fmt.Errorf("fork: %w", errno)
		}
		if err := reap(int(pid)); err != nil {
			return err
		}
	}
	return nil
}

// Idle is a set of live processes blocked in ppoll.
type Idle []int

// ForkIdle creates n processes that each make ten distinct syscalls, one of
// them failing with EBADF, then sleep and wake once a second until Kill: to a
// per-process receiver they look like n idle daemons, 20 data points each
// (calls and duration of every syscall, and the error).
func ForkIdle(n int) (Idle, error) {
	var idle Idle
	for range n {
		pid, errno := fork(0, true)
		if errno != 0 {
			return idle, errors.Join(fmt.Errorf("fork: %w", errno), idle.Kill())
		}
		idle = append(idle, int(pid))
	}
	return idle, nil
}

// Kill ends and reaps the processes.
func (idle Idle) Kill() error {
	var errs []error
	for _, pid := range idle {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, reap(pid))
	}
	return errors.Join(errs...)
}

func reap(pid int) error {
	for {
		_, err := syscall.Wait4(pid, nil, 0, nil)
		if err != syscall.EINTR {
			return err
		}
	}
}

// idleWake is how often an idle process wakes up. A global: the forked
// child reads it from its copy of our memory.
var idleWake = syscall.Timespec{Sec: 1}

// fork clones the calling thread into a new process (clone with SIGCHLD
// and no other flag is fork on every architecture; CLONE_VM|CLONE_VFORK
// makes it vfork). The child is a single-threaded copy of a Go process,
// where the runtime cannot run: it makes only raw syscalls from this
// nosplit function, as syscall.forkExec's child does, and never returns.
//
//go:nosplit
func fork(flags uintptr, idle bool) (pid uintptr, errno syscall.Errno) {
	pid, _, errno = syscall.RawSyscall6(syscall.SYS_CLONE, flags|uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 || pid != 0 {
		return pid, errno // parent
	}
	if idle {
		_, _, _ = syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
		_, _, _ = syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
		_, _, _ = syscall.RawSyscall(syscall.SYS_GETTID, 0, 0, 0)
		_, _, _ = syscall.RawSyscall(syscall.SYS_GETUID, 0, 0, 0)
		_, _, _ = syscall.RawSyscall(syscall.SYS_GETGID, 0, 0, 0)
		_, _, _ = syscall.RawSyscall(syscall.SYS_GETEUID, 0, 0, 0)
		_, _, _ = syscall.RawSyscall(syscall.SYS_GETEGID, 0, 0, 0)
		_, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
		_, _, _ = syscall.RawSyscall(syscall.SYS_CLOSE, ^uintptr(0), 0, 0) // EBADF
		for {
			// nanosleep leaves its request alone (ppoll and select
			// would count it down to zero and then spin).
			_, _, _ = syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&idleWake)), 0, 0)
		}
	}
	_, _, _ = syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	return 0, 0 // not reached
}
