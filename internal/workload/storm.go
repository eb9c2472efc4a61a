package workload

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// BuildStorm compiles the storm command into dir.
func BuildStorm(dir string) (string, error) { return goBuild(dir, "storm") }

// StartStorm starts storm for d; Wait on the result returns the pid and the
// number of getppid calls it made.
func StartStorm(bin string, d time.Duration) (*Storm, error) {
	cmd := exec.Command(bin, strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("storm: %w", err)
	}
	return &Storm{cmd: cmd, out: &out}, nil
}

// Storm is a running storm command.
type Storm struct {
	cmd *exec.Cmd
	out *strings.Builder
}

// Pid is the storm's process id.
func (s *Storm) Pid() int { return s.cmd.Process.Pid }

// Wait waits for the storm to end and returns its getppid calls.
func (s *Storm) Wait() (int64, error) {
	if err := s.cmd.Wait(); err != nil {
		return 0, fmt.Errorf("storm: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s.out.String()), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("storm printed %q: %w", s.out.String(), err)
	}
	return n, nil
}
