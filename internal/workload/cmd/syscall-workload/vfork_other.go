//go:build linux && !amd64 && !arm64

package main

func vfork(name *byte, getppid int) (pid int, errno int) { return -1, 38 /* ENOSYS */ }

const canFork = false
