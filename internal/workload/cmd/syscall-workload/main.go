// Command syscall-workload makes an exactly known number of syscalls, so
// tests can check the receiver's counts for its pid. It imports only
// syscall to keep the Go runtime's own start-up syscalls small and fixed.
//
// Usage: syscall-workload GETPPID OPEN_MISSING WRITE_DEVNULL
// It makes GETPPID getppid calls, OPEN_MISSING openat calls on a path that
// does not exist (each fails with ENOENT) and WRITE_DEVNULL one-byte writes
// to /dev/null.
package main

import (
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// atFDCWD is AT_FDCWD: resolve relative to the working directory. A
// variable, because a negative constant cannot be converted to uintptr.
var atFDCWD = -100

const missingPath = "/nonexistent/syscall-workload/missing"

func main() {
	if len(os.Args) != 4 {
		os.Stderr.WriteString("usage: syscall-workload GETPPID OPEN_MISSING WRITE_DEVNULL\n")
		os.Exit(2)
	}
	n := make([]int, 3)
	for i := range n {
		v, err := strconv.Atoi(os.Args[i+1])
		if err != nil || v < 0 {
			os.Stderr.WriteString("counts must be non-negative integers\n")
			os.Exit(2)
		}
		n[i] = v
	}
	for range n[0] {
		syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
	}
	path, _ := syscall.BytePtrFromString(missingPath)
	for range n[1] {
		_, _, errno := syscall.RawSyscall6(syscall.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(path)), syscall.O_RDONLY, 0, 0, 0)
		if errno != syscall.ENOENT {
			os.Exit(3)
		}
	}
	if n[2] > 0 {
		fd, err := syscall.Open("/dev/null", syscall.O_WRONLY, 0)
		if err != nil {
			os.Exit(4)
		}
		buf := []byte{'x'}
		for range n[2] {
			syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), 1)
		}
	}
	os.Exit(0)
}
