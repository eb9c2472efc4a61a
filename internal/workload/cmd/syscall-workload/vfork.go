//go:build linux && (amd64 || arm64)

package main

// vfork is in vfork_$GOARCH.s.
func vfork(name *byte, getppid int) (pid int, errno int)

const canFork = true
