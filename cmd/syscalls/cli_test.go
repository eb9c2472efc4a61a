//go:build linux && (amd64 || arm64)

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// runTool runs the tool and returns its stdout, stderr and exit status.
func runTool(t *testing.T, prefix []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(tool, args...)
	if len(prefix) > 0 {
		cmd = exec.Command(prefix[0], append(append(prefix[1:], tool), args...)...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := exitStatus(t, cmd.Run())
	return stdout.String(), stderr.String(), code
}

// TestBadInput: each bad command line gets one line saying what is wrong,
// and strace's exit statuses.
func TestBadInput(t *testing.T) {
	kerneltest.Require(t)
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"-c", "-x", "--", "true"}, "flag provided but not defined: -x", 1},
		{[]string{"-c", "-S", "size", "--", "true"}, `-S: invalid sortby "size"`, 1},
		{[]string{"-c", "-U", "calls,colour", "--", "true"}, `-U: unknown column "colour"`, 1},
		{[]string{"-c"}, "must have a command to run, or -p, --cgroup or --comm", 1},
		{[]string{"-c", "-p", "1", "--comm", "sh"}, "give one of a command, -p, --cgroup and --comm", 1},
		{[]string{"-c", "-p", "x1"}, `-p: invalid process id "x1"`, 1},
		{[]string{"-c", "-p", "2147483600"}, "-p 2147483600: no such process", 1},
		{[]string{"-c", "--cgroup", "/no/such/cgroup"}, `--cgroup: "/no/such/cgroup" does not exist`, 1},
		{[]string{"-c", "--comm", "a-name-longer-than-15"}, "longer than the kernel's 15 bytes", 1},
		{[]string{"-c", "-d", "1", "--", "true"}, "-d is for -p, --cgroup and --comm", 1},
		{[]string{"-c", "--hook", "kprobe", "--", "true"}, "kprobe", 1},
		{[]string{"-c", "--", "no-such-command-here"}, "syscalls: Can't stat 'no-such-command-here': No such file or directory", 127},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := runTool(t, nil, tc.args...)
			require.Equal(t, tc.code, code, stderr)
			require.Contains(t, stderr, tc.want)
			require.NotContains(t, stderr, "% time", "no table for a bad command line")
		})
	}
}

// TestWithoutPrivileges runs the tool as nobody: one sentence says what it
// needs, and the command is not run.
func TestWithoutPrivileges(t *testing.T) {
	kerneltest.Require(t)
	setpriv, err := exec.LookPath("setpriv")
	require.NoError(t, err, "setpriv (util-linux) is needed")
	require.NoError(t, os.Chmod(filepath.Dir(tool), 0o755))
	marker := filepath.Join(t.TempDir(), "ran")
	require.NoError(t, os.Chmod(filepath.Dir(marker), 0o777))
	_, stderr, code := runTool(t, []string{setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all"},
		"-c", "--", "touch", marker)
	require.Equal(t, 1, code)
	require.Equal(t, "syscalls: counting syscalls in the kernel needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), "+
		"and this process lacks CAP_BPF and CAP_PERFMON: run it as root (sudo)\n", stderr)
	require.NoFileExists(t, marker)
}

// TestColumnsErrnosAndSorting: -U picks the columns, with our histogram
// ones; -e lists the errors by errno; -S orders the rows; the command's
// stdout stays its own and the table goes to stderr, as with strace.
func TestColumnsErrnosAndSorting(t *testing.T) {
	kerneltest.Require(t)
	missing := filepath.Join(t.TempDir(), "missing")
	stdout, stderr, code := runTool(t, nil, "-c", "-U", "name,calls,errors,p50,p99,max", "-S", "name", "-e", "--",
		"sh", "-c", "cat "+missing+" "+missing+" 2>/dev/null; echo out")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "out\n", stdout)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	require.Regexp(t, `^syscall\s+calls\s+errors\s+p50 us\s+p99 us\s+max us$`, lines[0])
	var names []string
	calls := map[string]string{}
	for _, l := range lines[2:] {
		if strings.HasPrefix(l, "---") {
			break
		}
		f := strings.Fields(l)
		names = append(names, f[0])
		calls[f[0]] = f[1]
	}
	require.IsIncreasing(t, names, "-S name sorts by name")
	require.Equal(t, "1", calls["execve"], "sh's own execve only: its child cat is not followed without -f")
	require.Contains(t, calls, "wait4")
	for _, l := range lines[2 : 2+len(names)] {
		if f := strings.Fields(l); len(f) == 6 {
			p50, p99, maxUs := mustFloat(t, f[3]), mustFloat(t, f[4]), mustFloat(t, f[5])
			require.True(t, p50 <= p99 && p99 <= maxUs, "p50 ≤ p99 ≤ max: %s", l)
		}
	}

	// cat's two missing files, and the message catalogues it looks for.
	_, stderr, code = runTool(t, nil, "-c", "-e", "--", "cat", missing, "/etc/hostname", missing)
	require.Equal(t, 1, code)
	byErrno := regexp.MustCompile(`(?m)^  openat\s+ENOENT (\d+)$`).FindStringSubmatch(stderr)
	require.NotNil(t, byErrno, stderr)
	require.GreaterOrEqual(t, mustUint(t, byErrno[1]), uint64(2))
	require.Regexp(t, `(?m)^\s*[\d.]+\s+[\d.]+\s+\d+\s+\d+\s+`+byErrno[1]+` openat$`, stderr,
		"the errors column holds the same errors as -e")
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, s)
	return f
}

// TestIntervalTables: -i prints the totals so far every interval, and -d
// stops counting a comm on time.
func TestIntervalTables(t *testing.T) {
	kerneltest.Require(t)
	sleeper := exec.Command("sh", "-c", "while :; do cat /etc/hostname >/dev/null; sleep 0.05; done")
	require.NoError(t, sleeper.Start())
	defer func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() }()
	_, stderr, code := runTool(t, nil, "-c", "--comm", "cat", "-d", "1.3", "-i", "0.5")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, `syscalls: counting comm "cat"`)
	require.Equal(t, 3, strings.Count(stderr, "% time"), "two interval tables and the final one:\n%s", stderr)
	require.Regexp(t, `(?m)\s\d+\s+openat$`, stderr)
	require.NotContains(t, stderr, " wait4", "only cat's own syscalls, not sh's")
}
