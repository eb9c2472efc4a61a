//go:build linux

// Command nanosleeper makes syscalls of known duration for the latency
// histogram tests: N clock_nanosleep calls of D microseconds each, then M
// getppid calls (a sub-microsecond syscall). It uses clock_nanosleep
// because the Go runtime itself calls nanosleep (usleep) in the background.
// It prints the total and the longest sleep as timed from user space, in
// ns, the number of clock_nanosleep calls made, and how long the getppid
// loop took, in ns.
//
// Usage: nanosleeper N D_MICROSECONDS M
package main

import (
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

const clockMonotonic = 1

func main() {
	if len(os.Args) != 4 {
		_, _ = os.Stderr.WriteString("usage: nanosleeper N D_MICROSECONDS M\n")
		os.Exit(2)
	}
	var n [3]int
	for i := range n {
		v, err := strconv.Atoi(os.Args[i+1])
		if err != nil || v < 0 {
			_, _ = os.Stderr.WriteString("arguments must be non-negative integers\n")
			os.Exit(2)
		}
		n[i] = v
	}
	ts := syscall.NsecToTimespec(int64(n[1]) * 1000)
	// Each sleep is also timed from user space: the kernel's measurement
	// of the syscall lies within it, whatever the machine's load.
	// A signal cuts a sleep short (EINTR; sleeps are never restarted): the
	// rest is slept in another call, and every call is reported.
	var total, longest time.Duration
	calls := 0
	for range n[0] {
		left := ts
		for {
			began := time.Now()
			_, _, errno := syscall.Syscall6(syscall.SYS_CLOCK_NANOSLEEP, clockMonotonic, 0,
				uintptr(unsafe.Pointer(&left)), uintptr(unsafe.Pointer(&left)), 0, 0)
			took := time.Since(began)
			calls++
			total, longest = total+took, max(longest, took)
			if errno == 0 {
				break
			}
			if errno != syscall.EINTR {
				os.Exit(3)
			}
		}
	}
	// The getppid loop is timed too: how fast a syscall is depends on the
	// machine (under emulation a getppid takes microseconds).
	began := time.Now()
	for range n[2] {
		_, _, _ = syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
	}
	loop := time.Since(began)
	_, _ = os.Stdout.WriteString(strconv.FormatInt(int64(total), 10) + " " + strconv.FormatInt(int64(longest), 10) +
		" " + strconv.Itoa(calls) + " " + strconv.FormatInt(int64(loop), 10) + "\n")
}
