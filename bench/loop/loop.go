//go:build linux

// Package loop is the benchmark's workload: getppid in a tight loop. It is
// the cheapest real syscall, so what a hook adds to it is as visible as it
// can be; each thread is pinned to its own CPU so that the scheduler does
// not move it mid-run.
package loop

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// warmup calls per thread before the clock starts: page faults, caches and
// a peer's lazily created map entries are out of the measurement.
const warmup = 10_000

// chunk is how many calls are timed together (~10 ms). On a shared machine
// a thread is sometimes preempted or interrupted; the median over chunks
// leaves out the chunks where that happened, which a mean over the whole
// run cannot.
const chunk = 10_000

// Result is what one run of the loop measured.
type Result struct {
	// NsPerCall is the median over chunks of a chunk's wall time divided
	// by its calls, for each thread, averaged over the threads.
	NsPerCall float64 `json:"ns_per_call"`
	// Calls counts every getppid made, warm-up included: what a tool
	// watching the process must have seen.
	Calls uint64 `json:"calls"`
	PID   int    `json:"pid"`
}

// Run makes n timed getppid calls on each of len(cpus) threads, thread i
// pinned to cpus[i].
func Run(n int, cpus []int) (Result, error) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	nsPerCall := make([]float64, len(cpus))
	errs := make([]error, len(cpus))
	for i, cpu := range cpus {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			// Never unlocked: the thread exits with the goroutine
			// instead of carrying its pinning back to the scheduler.
			runtime.LockOSThread()
			var set unix.CPUSet
			set.Set(cpu)
			errs[i] = unix.SchedSetaffinity(0, &set)
			for range warmup {
				getppid()
			}
			ready.Done()
			<-start
			var perChunk []float64
			for left := n; left > 0; left -= chunk {
				calls := min(left, chunk)
				t0 := time.Now() // vDSO: no syscall
				for range calls {
					getppid()
				}
				perChunk = append(perChunk, float64(time.Since(t0).Nanoseconds())/float64(calls))
			}
			nsPerCall[i] = median(perChunk)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()

	r := Result{Calls: uint64(len(cpus) * (n + warmup)), PID: os.Getpid()}
	for i := range cpus {
		if errs[i] != nil {
			return r, fmt.Errorf("pinning a thread to CPU %d: %w", cpus[i], errs[i])
		}
		r.NsPerCall += nsPerCall[i] / float64(len(cpus))
	}
	return r, nil
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// getppid enters the kernel directly, without the Go scheduler's
// bookkeeping around blocking syscalls.
func getppid() { _, _, _ = syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0) }

// CPUs returns the CPUs this process may run on.
func CPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, err
	}
	var cpus []int
	for cpu := range 1024 {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	return cpus, nil
}
