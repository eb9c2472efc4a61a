// Package peer runs the tools the receiver is compared with (bpftrace,
// libbpf-tools syscount) and reads back what they counted, so that the
// benchmark can prove each was attached for the whole measurement instead
// of assuming it.
package peer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/seed22255693/syscallsreceiver/bench/kstats"
)

// Spec describes a peer tool run until it is interrupted.
type Spec struct {
	Name string
	Argv []string
	// Programs and Links are the eBPF program and bpf_link fds the tool
	// holds once attached; Start waits for them.
	Programs, Links int
	// Parse reads what the tool printed on exit into counts by key
	// (syscall name, syscall number, pid or comm, depending on the tool).
	Parse func(output string) map[string]uint64
}

// Running is a started peer.
type Running struct {
	spec Spec
	cmd  *exec.Cmd
	out  *os.File
	done chan error
}

// settle is how long we wait after the programs are loaded for the last
// one to be attached: tools attach right after loading, and the check of
// their counts after the run catches one that did not.
const settle = 300 * time.Millisecond

// Start runs the tool and returns once its programs are loaded and linked.
func Start(spec Spec, timeout time.Duration) (*Running, error) {
	out, err := os.CreateTemp("", "syscallbench-peer-*.out")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	r := &Running{spec: spec, cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { r.done <- cmd.Wait() }()

	deadline := time.Now().Add(timeout)
	for {
		progs, _ := kstats.ProgramsOf(cmd.Process.Pid)
		links, _ := kstats.LinksOf(cmd.Process.Pid)
		if len(progs) >= spec.Programs && links >= spec.Links {
			time.Sleep(settle)
			return r, nil
		}
		select {
		case err := <-r.done:
			r.done <- err
			output, _ := r.Stop()
			return nil, fmt.Errorf("%s exited before attaching (%v):\n%s", spec.Name, err, output)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			output, _ := r.Stop()
			return nil, fmt.Errorf("%s did not load its programs within %s:\n%s", spec.Name, timeout, output)
		}
	}
}

// Programs returns the ids of the tool's eBPF programs.
func (r *Running) Programs() []uint32 {
	ids, _ := kstats.ProgramsOf(r.cmd.Process.Pid)
	return ids
}

// Parse reads what the tool printed into counts by key.
func (r *Running) Parse(output string) map[string]uint64 { return r.spec.Parse(output) }

// Stop interrupts the tool (its cue to print the counts) and returns what
// it printed.
func (r *Running) Stop() (string, error) {
	var err error
	if signalErr := r.cmd.Process.Signal(syscall.SIGINT); signalErr != nil && !errors.Is(signalErr, os.ErrProcessDone) {
		err = signalErr
	}
	select {
	case _ = <-r.done:
	case <-time.After(time.Minute):
		_ = r.cmd.Process.Kill()
		_ = <-r.done
		err = fmt.Errorf("%s ignored SIGINT for a minute and was killed", r.spec.Name)
	}
	output, readErr := r.output()
	_ = r.out.Close()
	_ = os.Remove(r.out.Name())
	return output, errors.Join(err, readErr)
}

func (r *Running) output() (string, error) {
	b, err := os.ReadFile(r.out.Name())
	return string(b), err
}

// Counted checks that the tool saw at least the expected count for every
// key, and says what it saw otherwise.
func Counted(name string, got, want map[string]uint64) error {
	var errs []error
	for key, n := range want {
		if got[key] < n {
			errs = append(errs, fmt.Errorf("%s counted %d for %q, the workload made %d: it was not attached all along", name, got[key], key, n))
		}
	}
	return errors.Join(errs...)
}
