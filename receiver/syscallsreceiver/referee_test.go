//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"bufio"
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/internal/launchtest"
)

// The referee tests run real programs, which the project did not write,
// under the receiver and an independent referee at the same time, and
// compare per process and per syscall. See "How exact, and how we know"
// in the README for the differences they allow, each with its reason.

// refereeBins builds the launcher and the test programs once per test.
// no32 says why the 32-bit one cannot run here ("": it can).
type refereeBins struct{ launcher, cases, preempt, signals32, no32 string }

func buildRefereeBins(t *testing.T) refereeBins {
	t.Helper()
	dir := t.TempDir()
	b := refereeBins{
		launcher: launchtest.Build(t), cases: filepath.Join(dir, "cases"),
		preempt: filepath.Join(dir, "preempt"), signals32: filepath.Join(dir, "signals32"),
	}
	builds := [][]string{
		{"gcc", "-O2", "-o", b.cases, "testdata/referee/cases.c", "-lpthread"},
		{"go", "build", "-o", b.preempt, "testdata/referee/preempt.go"},
		{"gcc", "-m32", "-static", "-O2", "-o", b.signals32, "../../bpf/testdata/signals.c"},
	}
	for _, args := range builds {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		require.NoError(t, err, "%v (gcc-multilib is needed for -m32): %s", args, out)
	}
	if err := exec.Command(b.signals32, "0", "0").Run(); errors.Is(err, syscall.ENOEXEC) {
		b.no32 = "this kernel does not run 32-bit programs (IA-32 emulation is off)"
	}
	return b
}

// stoppedInCgroup starts the launcher with args in a new cgroup of its own
// and returns once it has stopped itself, before it execs args.
func stoppedInCgroup(t *testing.T, launcher string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cgroups := newLiveCgroups(t)
	path := cgroups.make("/program")
	cmd := cgroups.in(exec.Command(launcher, args...), path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	launchtest.Start(t, cmd)
	return cmd, path
}

// startStrace attaches strace -f to pid and returns once strace says so.
func startStrace(t *testing.T, pid int, out string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("strace", "-f", "-o", out, "-p", strconv.Itoa(pid))
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start(), "strace is needed (apt-get install strace)")
	attached := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "attached") {
				close(attached)
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case <-attached:
	case <-time.After(10 * time.Second):
		t.Fatal("strace did not attach")
	}
	return cmd
}

// underStrace runs args under strace and the receiver (hook, group_by
// process, every metric) at once, and returns both views by process.
func underStrace(t *testing.T, bins refereeBins, hook string, args ...string) (ours map[int]*refCounts, theirs straceRun) {
	t.Helper()
	cmd, path := stoppedInCgroup(t, bins.launcher, args...)
	cfg := testConfig()
	cfg.Hook = hook
	cfg.Filter.Cgroups = []string{path}
	s := liveScraper(t, cfg)
	out := filepath.Join(t.TempDir(), "strace.out")
	strace := startStrace(t, cmd.Process.Pid, out)
	require.NoError(t, syscall.Kill(cmd.Process.Pid, syscall.SIGCONT))
	_ = cmd.Wait() // some programs fail on purpose (ls of missing paths)
	waitTimeout(t, strace, 30*time.Second)
	theirs = parseStrace(t, out)

	ours = map[int]*refCounts{}
	for _, r := range liveScrape(t, s) {
		pid := int(r.int("process.pid"))
		c := newRefCounts()
		for k, n := range r.calls {
			c.calls[k] += n
		}
		for k, n := range r.errors {
			c.errors[k] += n
		}
		ours[pid] = c
	}
	return ours, theirs
}

func waitTimeout(t *testing.T, cmd *exec.Cmd, d time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case _ = <-done:
	case <-time.After(d):
		_ = cmd.Process.Kill()
		t.Fatalf("%v did not end within %v", cmd.Args, d)
	}
}
