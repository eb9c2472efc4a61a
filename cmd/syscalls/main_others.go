//go:build !linux || !(amd64 || arm64)

// Command syscalls counts syscalls with eBPF: it needs Linux.
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	fmt.Fprintf(os.Stderr, "syscalls: counting syscalls needs Linux on amd64 or arm64; this is %s/%s\n", runtime.GOOS, runtime.GOARCH)
	os.Exit(1)
}
