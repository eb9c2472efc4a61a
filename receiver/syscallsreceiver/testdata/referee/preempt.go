//go:build ignore

// Busy goroutines on every CPU for a second: the Go scheduler preempts
// them with SIGURG, so the process handles signals and makes rt_sigreturn
// calls nobody asked for. Built by the referee tests with go build.
package main

import (
	"runtime"
	"sync"
	"time"
)

func main() {
	var wg sync.WaitGroup
	deadline := time.Now().Add(time.Second)
	for range 4 * runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for time.Now().Before(deadline) {
				for i := range 100000 {
					x += i
				}
			}
			_ = x
		}()
	}
	wg.Wait()
}
