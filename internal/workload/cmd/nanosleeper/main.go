// Command nanosleeper makes syscalls of known duration for the latency
// histogram tests: N clock_nanosleep calls of D microseconds each, then M
// getppid calls (a sub-microsecond syscall). It uses clock_nanosleep
// because the Go runtime itself calls nanosleep (usleep) in the background.
//
// Usage: nanosleeper N D_MICROSECONDS M
package main

import (
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

const clockMonotonic = 1

func main() {
	if len(os.Args) != 4 {
		os.Stderr.WriteString("usage: nanosleeper N D_MICROSECONDS M\n")
		os.Exit(2)
	}
	var n [3]int
	for i := range n {
		v, err := strconv.Atoi(os.Args[i+1])
		if err != nil || v < 0 {
			os.Stderr.WriteString("arguments must be non-negative integers\n")
			os.Exit(2)
		}
		n[i] = v
	}
	ts := syscall.NsecToTimespec(int64(n[1]) * 1000)
	for range n[0] {
		_, _, errno := syscall.Syscall6(syscall.SYS_CLOCK_NANOSLEEP, clockMonotonic, 0, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if errno != 0 {
			os.Exit(3)
		}
	}
	for range n[2] {
		syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
	}
}
