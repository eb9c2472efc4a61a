//go:build linux

// Command storm makes getppid calls as fast as it can on every CPU for a
// while, then prints how many it made: a syscall storm whose exact size is
// known, to load the receiver and check its totals.
//
// Usage: storm SECONDS
// One locked OS thread per CPU loops on the raw syscall (no Go runtime work
// in between, a clock check every 4096 calls) until the time is up; the
// output is the total number of getppid calls made.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: storm SECONDS")
		os.Exit(2)
	}
	seconds, err := strconv.ParseFloat(os.Args[1], 64)
	if err != nil || seconds <= 0 {
		fmt.Fprintln(os.Stderr, "storm: SECONDS must be a positive number")
		os.Exit(2)
	}
	// Each thread watches the clock itself: with every CPU busy in a
	// syscall loop, a sleeping main goroutine could wake up late.
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	var total atomic.Int64
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Go(func() {
			runtime.LockOSThread()
			var n int64
			for time.Now().Before(deadline) {
				for range 4096 {
					_, _, _ = syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
				}
				n += 4096
			}
			total.Add(n)
		})
	}
	wg.Wait()
	fmt.Println(total.Load())
}
