//go:build linux

// Command steady-workload repeats syscall-workload's exactly known set of
// syscalls in rounds with a pause between them, so that it stays alive over
// several collection intervals and its counters rise in steps: rates over
// its series are positive, and its final totals are still exact.
//
// Usage: steady-workload ROUNDS PAUSE_MS GETPPID OPEN_MISSING WRITE_DEVNULL
// Each round makes GETPPID getppid calls, OPEN_MISSING openat calls on a
// path that does not exist (each fails with ENOENT) and WRITE_DEVNULL
// one-byte writes to /dev/null, then sleeps PAUSE_MS milliseconds in
// clock_nanosleep (not after the last round).
package main

import (
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// atFDCWD is AT_FDCWD; a variable, because a negative constant cannot be
// converted to uintptr.
var atFDCWD = -100

const (
	missingPath    = "/nonexistent/steady-workload/missing"
	clockMonotonic = 1
)

func main() {
	if len(os.Args) != 6 {
		_, _ = os.Stderr.WriteString("usage: steady-workload ROUNDS PAUSE_MS GETPPID OPEN_MISSING WRITE_DEVNULL\n")
		os.Exit(2)
	}
	var n [5]int
	for i := range n {
		v, err := strconv.Atoi(os.Args[i+1])
		if err != nil || v < 0 {
			_, _ = os.Stderr.WriteString("arguments must be non-negative integers\n")
			os.Exit(2)
		}
		n[i] = v
	}
	rounds, pause := n[0], syscall.NsecToTimespec(int64(n[1])*1e6)
	path, _ := syscall.BytePtrFromString(missingPath)
	fd, err := syscall.Open("/dev/null", syscall.O_WRONLY, 0)
	if err != nil {
		os.Exit(4)
	}
	buf := []byte{'x'}
	for r := range rounds {
		for range n[2] {
			_, _, _ = syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
		}
		for range n[3] {
			_, _, errno := syscall.RawSyscall6(syscall.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(path)), syscall.O_RDONLY, 0, 0, 0)
			if errno != syscall.ENOENT {
				os.Exit(3)
			}
		}
		for range n[4] {
			_, _, _ = syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), 1)
		}
		if r < rounds-1 {
			// A signal cuts a sleep short (EINTR; sleeps are never
			// restarted): sleep the rest.
			left := pause
			for {
				_, _, errno := syscall.Syscall6(syscall.SYS_CLOCK_NANOSLEEP, clockMonotonic, 0,
					uintptr(unsafe.Pointer(&left)), uintptr(unsafe.Pointer(&left)), 0, 0)
				if errno == 0 {
					break
				}
				if errno != syscall.EINTR {
					os.Exit(5)
				}
			}
		}
	}
	os.Exit(0)
}
