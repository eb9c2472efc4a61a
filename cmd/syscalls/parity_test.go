//go:build linux && (amd64 || arm64)

package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// sigchldTiming is why a shell's rt_sigreturn count may differ between two
// runs: a SIGCHLD sent while another is pending merges with it.
const sigchldTiming = "SIGCHLDs that arrive while one is pending merge, so their number depends on timing (TestAttachParity compares them at once)"

// TestCommandParityWithStrace runs real commands under the tool and under
// strace -c, one after the other: the calls and errors per ABI and syscall
// are the same, and so is the exit status.
func TestCommandParityWithStrace(t *testing.T) {
	kerneltest.Require(t)
	static32 := filepath.Join(t.TempDir(), "signals32")
	out, err := exec.Command("gcc", "-m32", "-static", "-O2", "-o", static32, "../../bpf/testdata/signals.c").CombinedOutput()
	require.NoError(t, err, "gcc-multilib is needed for -m32: %s", out)
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		name   string
		follow bool
		args   []string
		ignore map[string]string
		status int
	}{
		{name: "seed echo", args: []string{"echo", "Hello World"}},
		{name: "ls over missing paths", args: []string{"ls", "-la", "/etc/hostname", missing, "/proc/self/fd", missing + "2"}, status: 2},
		{name: "sh pipeline with children", follow: true, args: []string{"sh", "-c",
			"printf 'b\\na\\nb\\n' | sort | uniq -c >/dev/null; ls " + missing + " 2>/dev/null; cat /etc/hostname >/dev/null; exit 3"},
			ignore: map[string]string{"rt_sigreturn": sigchldTiming}, status: 3},
		{name: "static 32-bit", args: []string{static32, "2", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.args[0] == static32 && errors.Is(exec.Command(static32, "0", "0").Run(), syscall.ENOEXEC) {
				t.Skip("this kernel does not run 32-bit programs (IA-32 emulation is off)")
			}
			args := tc.args
			if tc.follow {
				args = append([]string{"-f", "--"}, args...)
			} else {
				args = append([]string{"--"}, args...)
			}
			ourTables, stderr, code := ours(t, args...)
			theirs, theirCode := straceC(t, tc.follow, tc.args...)
			require.Equal(t, tc.status, code, stderr)
			require.Equal(t, theirCode, code)
			requireSameCounts(t, ourTables, theirs, tc.ignore)
			if !tc.follow {
				// One process: it ends with one exit_group, which only we count.
				var exits uint64
				for _, rows := range ourTables {
					exits += rows["exit_group"].calls
				}
				require.EqualValues(t, 1, exits, "%v", ourTables)
			}
		})
	}
}
