//go:build linux

package sysnames

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// kernelOnlyErrnos are the kernel-internal codes (include/linux/errno.h)
// that can be seen at sys_exit before signal handling turns them into EINTR
// or restarts the call; user space never sees them, so libc has no names.
var kernelOnlyErrnos = map[uint32]string{
	512: "ERESTARTSYS",
	513: "ERESTARTNOINTR",
	514: "ERESTARTNOHAND",
	515: "ENOIOCTLCMD",
	516: "ERESTART_RESTARTBLOCK",
	524: "ENOTSUPP",
}

// ErrnoName is the symbolic name of an errno, or _OTHER when it has none
// (the error.type convention for unknown values).
func ErrnoName(errno uint32) string {
	if name := unix.ErrnoName(syscall.Errno(errno)); name != "" {
		return name
	}
	if name, ok := kernelOnlyErrnos[errno]; ok {
		return name
	}
	return "_OTHER"
}
