//go:build linux && (amd64 || arm64)

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/internal/cgroupv2"
	"github.com/seed22255693/syscallsreceiver/internal/launchtest"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// TestAttachParity attaches the tool (-p, --cgroup) and strace -c -p to
// the same stopped program, then lets it run: both count the same run, so
// even the timing-dependent calls (signal returns, pipe reads) agree.
func TestAttachParity(t *testing.T) {
	kerneltest.Require(t)
	launcher := launchtest.Build(t)
	missing := filepath.Join(t.TempDir(), "missing")
	pipeline := "printf 'b\\na\\nb\\n' | sort | uniq -c >/dev/null; ls " + missing + " 2>/dev/null; exit 3"

	t.Run("-p", func(t *testing.T) {
		prog, _ := stoppedInCgroup(t, launcher, "ls", "-la", "/etc/hostname", missing)
		pid := strconv.Itoa(prog.Process.Pid)
		tool := startAttached(t, "-p", pid)
		strace, straceOut := straceAttach(t, false, pid)
		require.NoError(t, syscall.Kill(prog.Process.Pid, syscall.SIGCONT))
		require.Equal(t, 2, exitStatus(t, prog.Wait()), "ls exits 2 for a missing path")
		require.NoError(t, strace.Wait())
		ourTables := tool.wait(t) // -p ends when the process does
		requireSameCounts(t, ourTables, readStrace(t, straceOut), nil)
	})
	t.Run("--cgroup", func(t *testing.T) {
		prog, dir := stoppedInCgroup(t, launcher, "sh", "-c", pipeline)
		root, err := cgroupv2.Root()
		require.NoError(t, err)
		tool := startAttached(t, "--cgroup", strings.TrimPrefix(dir, root))
		strace, straceOut := straceAttach(t, true, strconv.Itoa(prog.Process.Pid))
		require.NoError(t, syscall.Kill(prog.Process.Pid, syscall.SIGCONT))
		require.Equal(t, 3, exitStatus(t, prog.Wait()))
		require.NoError(t, strace.Wait())
		waitEmpty(dir)
		require.NoError(t, tool.cmd.Process.Signal(os.Interrupt))
		ourTables := tool.wait(t)
		require.Contains(t, ourTables["native"], "rt_sigreturn", "the shell handles SIGCHLD")
		requireSameCounts(t, ourTables, readStrace(t, straceOut), nil)
	})
}

// stoppedInCgroup starts the launcher (it stops itself, then execs args
// when continued) in a new cgroup of its own, and returns once it stopped.
func stoppedInCgroup(t *testing.T, launcher string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	root, err := cgroupv2.Root()
	require.NoError(t, err)
	dir := filepath.Join(root, fmt.Sprintf("syscalls-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	require.NoError(t, os.Mkdir(dir, 0o755))
	t.Cleanup(func() { removeCgroup(dir) })
	f, err := os.Open(dir)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	cmd := exec.Command(launcher, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(f.Fd())}
	launchtest.Start(t, cmd)
	return cmd, dir
}

// attached is the tool counting something already running.
type attached struct {
	cmd    *exec.Cmd
	output string
	stderr *lineLog
	done   chan struct{}
}

// startAttached starts the tool and returns once it says it is counting.
func startAttached(t *testing.T, args ...string) *attached {
	t.Helper()
	a := &attached{output: filepath.Join(t.TempDir(), "table.json"), stderr: &lineLog{}, done: make(chan struct{})}
	a.cmd = exec.Command(tool, append([]string{"-c", "--json", "-o", a.output}, args...)...)
	pipe, err := a.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, a.cmd.Start())
	t.Cleanup(func() { _ = a.cmd.Process.Kill() })
	counting := waitForLine(pipe, "counting", a.stderr, a.done)
	select {
	case <-counting:
	case <-time.After(30 * time.Second):
		t.Fatalf("the tool did not start counting: %s", a.stderr)
	}
	return a
}

// wait waits for the tool to end by itself and returns its tables.
func (a *attached) wait(t *testing.T) summary {
	t.Helper()
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the tool did not end: %s", a.stderr)
	}
	require.NoError(t, a.cmd.Wait(), a.stderr.String())
	b, err := os.ReadFile(a.output)
	require.NoError(t, err)
	var parsed struct {
		Tables []struct {
			Syscalls []struct {
				Syscall       string
				Calls, Errors uint64
			}
		}
	}
	require.NoError(t, json.Unmarshal(b, &parsed), "%s", b)
	s := summary{"native": {}}
	for _, r := range parsed.Tables[0].Syscalls {
		s["native"][r.Syscall] = counts{r.Calls, r.Errors}
	}
	return s
}

// straceAttach attaches strace -c (-f) to pid, returning once it has.
func straceAttach(t *testing.T, follow bool, pid string) (*exec.Cmd, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "strace.txt")
	args := []string{"-c", "-o", out, "-p", pid}
	if follow {
		args = append(args, "-f")
	}
	cmd := exec.Command("strace", args...)
	pipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start(), "strace is needed (apt-get install strace)")
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var stderr lineLog
	select {
	case <-waitForLine(pipe, "attached", &stderr, make(chan struct{})):
	case <-time.After(10 * time.Second):
		t.Fatalf("strace did not attach: %s", &stderr)
	}
	return cmd, out
}

func readStrace(t *testing.T, path string) summary {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return parseStraceSummary(t, string(b))
}

// lineLog collects a pipe's lines for error messages, safe to read while
// the pipe is still being read.
type lineLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lineLog) add(line string) { l.mu.Lock(); l.b.WriteString(line + "\n"); l.mu.Unlock() }

func (l *lineLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// waitForLine copies r into log, closes the returned channel at the first
// line holding want, and closes eof when r ends.
func waitForLine(r io.Reader, want string, log *lineLog, eof chan struct{}) <-chan struct{} {
	seen := make(chan struct{})
	go func() {
		defer close(eof)
		sc := bufio.NewScanner(r)
		found := false
		for sc.Scan() {
			log.add(sc.Text())
			if !found && strings.Contains(sc.Text(), want) {
				found = true
				close(seen)
			}
		}
	}()
	return seen
}
