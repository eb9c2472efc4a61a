//go:build linux && (amd64 || arm64)

package floor

import (
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// The floor attaches one program per hook and leaves nothing behind.
func TestAttachClose(t *testing.T) {
	kerneltest.Require(t)
	for _, enter := range []bool{false, true} {
		f, err := Attach(enter, true)
		if err != nil {
			t.Fatal(err)
		}
		ids := f.ProgramIDs()
		if want := map[bool]int{false: 1, true: 2}[enter]; len(ids) != want {
			t.Errorf("enter=%v: %d programs attached, want %d", enter, len(ids), want)
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
