//go:build linux

package procs

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestForkExited(t *testing.T) {
	if err := ForkExited(100); err != nil {
		t.Fatal(err)
	}
}

// Idle processes stay alive, asleep across their wake-ups, until Kill,
// which also reaps them.
func TestForkIdle(t *testing.T) {
	idle, err := ForkIdle(5)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // past the first wake-up
	for _, pid := range idle {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatalf("idle process %d: %v", pid, err)
		}
		// "pid (comm) S ...": a spinning process would be R.
		state, _, _ := strings.Cut(string(stat[bytes.LastIndexByte(stat, ')')+2:]), " ")
		if state != "S" {
			t.Errorf("idle process %d is in state %s, want S (sleeping): %s", pid, state, stat)
		}
	}
	if err := idle.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range idle {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("process %d still exists after Kill", pid)
		}
	}
}
