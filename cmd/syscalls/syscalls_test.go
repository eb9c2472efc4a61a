//go:build linux && (amd64 || arm64)

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// The tool's tests run the built binary on real commands, as root, and
// compare its tables with strace -c's (the referee it imitates).

var tool string // the built binary

func TestMain(m *testing.M) {
	if !kerneltest.Privileged() {
		os.Exit(m.Run()) // every test here skips (or, in CI, fails) first
	}
	dir, err := os.MkdirTemp("", "syscalls-tool")
	if err != nil {
		panic(err)
	}
	tool = filepath.Join(dir, "syscalls")
	if out, err := exec.Command("go", "build", "-o", tool, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// counts are the calls and errors of one syscall.
type counts struct{ calls, errors uint64 }

// summary is a table per ABI ("native" for the first strace prints, or
// ours for the machine's own ABI), by syscall.
type summary map[string]map[string]counts

// ours runs the tool with --json and returns its tables, its stderr and
// its exit status.
func ours(t *testing.T, args ...string) (summary, string, int) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "table.json")
	cmd := exec.Command(tool, append([]string{"-c", "--json", "-o", out}, args...)...)
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, &stderr
	code := exitStatus(t, cmd.Run())
	b, err := os.ReadFile(out)
	require.NoError(t, err, "stderr: %s", stderr.String())
	var parsed struct {
		Tables []struct {
			ABI      string
			Syscalls []struct {
				Syscall       string
				Calls, Errors uint64
			}
		}
	}
	require.NoError(t, json.Unmarshal(b, &parsed), "%s", b)
	s := summary{}
	for i, tab := range parsed.Tables {
		abi := tab.ABI
		if i == 0 {
			abi = "native"
		}
		s[abi] = map[string]counts{}
		for _, r := range tab.Syscalls {
			s[abi][r.Syscall] = counts{r.Calls, r.Errors}
		}
	}
	return s, stderr.String(), code
}

// parseStraceSummary reads strace -c's table: one per personality, the
// 32-bit one under "System call usage summary for 32 bit mode:".
func parseStraceSummary(t *testing.T, text string) summary {
	t.Helper()
	s := summary{}
	abi := "native"
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "summary for 32 bit mode") {
			abi = "i386"
			continue
		}
		f := strings.Fields(line)
		if len(f) < 5 || f[len(f)-1] == "total" || f[len(f)-1] == "syscall" {
			continue
		}
		if _, err := strconv.ParseFloat(f[0], 64); err != nil {
			continue
		}
		c := counts{calls: mustUint(t, f[3])}
		if len(f) == 6 {
			c.errors = mustUint(t, f[4])
		}
		if s[abi] == nil {
			s[abi] = map[string]counts{}
		}
		s[abi][f[len(f)-1]] = c
	}
	return s
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	require.NoError(t, err, s)
	return n
}

func exitStatus(t *testing.T, err error) int {
	t.Helper()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	require.NoError(t, err)
	return 0
}

// straceC runs args under strace -c (and -f with follow) and returns its
// table and the command's exit status.
func straceC(t *testing.T, follow bool, args ...string) (summary, int) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "strace.txt")
	flags := []string{"-c", "-o", out}
	if follow {
		flags = append(flags, "-f")
	}
	cmd := exec.Command("strace", append(flags, append([]string{"--"}, args...)...)...)
	cmd.Stdin, cmd.Stdout = nil, nil
	code := exitStatus(t, cmd.Run())
	b, err := os.ReadFile(out)
	require.NoError(t, err, "strace is needed (apt-get install strace)")
	return parseStraceSummary(t, string(b)), code
}

// neverReturn are the calls that end their thread: we count them (at task
// exit), strace -c does not, as it counts at a syscall's return.
var neverReturn = map[string]bool{"exit": true, "exit_group": true}

// sigreturns return the registers they restore, so strace counts an
// interrupted call's -EINTR as the sigreturn's error; we count them as they
// enter, without errors. Their calls are compared, not their errors.
var sigreturns = map[string]bool{"rt_sigreturn": true, "sigreturn": true}

// requireSameCounts compares per ABI and syscall. ignore names calls whose
// count may differ, each with its reason.
func requireSameCounts(t *testing.T, ourTables, theirs summary, ignore map[string]string) {
	t.Helper()
	var diffs []string
	for abi, rows := range ourTables {
		for name, c := range rows {
			if _, ok := ignore[name]; ok || neverReturn[name] {
				continue
			}
			want := theirs[abi][name]
			if sigreturns[name] {
				want.errors = c.errors
			}
			if want != c {
				diffs = append(diffs, abi+" "+name+": ours "+show(c)+", strace "+show(theirs[abi][name]))
			}
		}
	}
	for abi, rows := range theirs {
		for name, c := range rows {
			if _, ok := ignore[name]; !ok {
				if _, seen := ourTables[abi][name]; !seen {
					diffs = append(diffs, abi+" "+name+": ours none, strace "+show(c))
				}
			}
		}
	}
	require.Empty(t, diffs, "ours: %v\nstrace: %v", ourTables, theirs)
	var n, calls, errs uint64
	for _, rows := range theirs {
		for _, c := range rows {
			n, calls, errs = n+1, calls+c.calls, errs+c.errors
		}
	}
	t.Logf("same as strace: %d syscalls, %d calls, %d errors", n, calls, errs)
}

func show(c counts) string {
	return strconv.FormatUint(c.calls, 10) + " calls/" + strconv.FormatUint(c.errors, 10) + " errors"
}
