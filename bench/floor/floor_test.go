//go:build linux && (amd64 || arm64)

package floor

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// Each floor attaches one program per hook and leaves nothing behind.
func TestAttachClose(t *testing.T) {
	kerneltest.Require(t)
	for kind, want := range map[Kind]int{Exit: 1, EnterExit: 2, Timed: 2, EnterExitCounted: 2, TimedCounted: 2} {
		f, err := Attach(kind)
		if err != nil {
			t.Fatal(err)
		}
		ids := f.ProgramIDs()
		if len(ids) != want {
			t.Errorf("kind %d: %d programs attached, want %d", kind, len(ids), want)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		// The kernel frees programs after an RCU grace period.
		for _, id := range ids {
			deadline := time.Now().Add(5 * time.Second)
			for {
				p, err := ebpf.NewProgramFromID(id)
				if err != nil {
					break
				}
				_ = p.Close()
				if time.Now().After(deadline) {
					t.Errorf("program %d still loaded 5 s after Close", id)
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
}

// The floors that stand for timing and per-process counting do that work:
// a floor the compiler emptied would measure nothing.
func TestFloorsDoTheirWork(t *testing.T) {
	kerneltest.Require(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const calls = 1000

	counted, err := Attach(EnterExitCounted)
	if err != nil {
		t.Fatal(err)
	}
	for range calls {
		unix.Getppid()
	}
	n, err := counted.ProcessCalls(uint32(os.Getpid()), unix.SYS_GETPPID)
	_ = counted.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n != calls {
		t.Errorf("the counting floor saw %d getppid calls of this process, want %d", n, calls)
	}

	timed, err := Attach(Timed)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range calls {
		unix.Getppid()
	}
	wall := time.Since(start)
	ns, err := timed.TimedNs()
	_ = timed.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Every other thread's syscalls are timed too, so only a lower bound
	// holds: each getppid takes more than 0 ns.
	if ns < calls {
		t.Errorf("the timing floor summed %d ns over %d getppid calls (%v of wall time)", ns, calls, wall)
	}

	both, err := Attach(TimedCounted)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	for range calls {
		unix.Getppid()
	}
	wall = time.Since(start)
	ns, err = both.ProcessNs(uint32(os.Getpid()), unix.SYS_GETPPID)
	_ = both.Close()
	if err != nil {
		t.Fatal(err)
	}
	// This process's getppid calls alone: each more than 0 ns, all within
	// the loop's wall time.
	if ns < calls || ns > uint64(wall) {
		t.Errorf("the timed counting floor summed %d ns over %d getppid calls of this process in %v", ns, calls, wall)
	}
}
