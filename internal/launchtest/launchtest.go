//go:build linux

// Package launchtest starts programs stopped, for tests that attach a
// counter and a referee to the same run: the launcher stops itself, both
// attach, and a SIGCONT lets it exec the program, so that both see every
// syscall from the execve on.
package launchtest

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

//go:embed launcher.c.txt
var launcherSource []byte

// Build compiles the launcher (gcc) into a temporary directory. Its source
// is not named .c: a Go package holding C files needs cgo.
func Build(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "launcher.c"), filepath.Join(dir, "launcher")
	require.NoError(t, os.WriteFile(src, launcherSource, 0o644))
	out, err := exec.Command("gcc", "-O2", "-o", bin, src).CombinedOutput()
	require.NoError(t, err, "building the launcher: %s", out)
	return bin
}

// Start starts cmd, a launcher command (its arguments the program to run;
// put it in a cgroup through cmd.SysProcAttr), and returns once the
// launcher has stopped itself. The process is killed at the end of the test.
func Start(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.Eventually(t, func() bool { return State(cmd.Process.Pid) == "T" }, 10*time.Second, time.Millisecond,
		"the launcher did not stop itself")
}

// State is a process's state letter from /proc/PID/stat ("" if it is gone).
func State(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}
