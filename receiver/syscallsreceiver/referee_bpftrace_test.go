//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/internal/cgroupv2"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// pidSyscall is one (process, native syscall number) series.
type pidSyscall struct {
	pid int
	nr  uint32
}

var bpftraceEntry = regexp.MustCompile(`^@c\[(\d+), (\d+)\]: (\d+)$`)

// startBpftrace counts, in the kernel and at sys_enter, every syscall made
// in cgroupDir by (pid, number), and returns once its probe is attached.
func startBpftrace(t *testing.T, cgroupDir string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	// BEGIN runs once every probe is attached ("Attaching" comes before).
	script := fmt.Sprintf(`BEGIN { printf("counting\n"); } `+
		`tracepoint:raw_syscalls:sys_enter /cgroup == cgroupid(%q)/ { @c[pid, args->id] = count(); }`, cgroupDir)
	cmd := exec.Command("bpftrace", "-e", script)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start(), "bpftrace is needed (apt-get install bpftrace)")
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	out := new(bytes.Buffer)
	attached, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "counting" {
				close(attached)
				continue
			}
			out.WriteString(sc.Text() + "\n")
		}
	}()
	select {
	case <-attached:
	case <-time.After(60 * time.Second):
		t.Fatal("bpftrace did not attach its probe (tracefs mounted? mount -t tracefs tracefs /sys/kernel/tracing)")
	}
	t.Cleanup(func() { <-done })
	return cmd, out
}

// TestBpftraceReferee runs a busy multi-process workload (shell pipelines,
// python threads with signals, Go preemption, gzip) while the receiver and
// bpftrace count it at the same time, in the kernel, and requires every
// (process, syscall) count to be the same, on every hook. bpftrace counts
// at sys_enter; with no tracer or seccomp filter in the workload, no call
// is seen on one side only.
func TestBpftraceReferee(t *testing.T) {
	kerneltest.Require(t)
	mountTracefs(t)
	bins := buildRefereeBins(t)
	workload := fmt.Sprintf("/usr/bin/python3 testdata/referee/threads.py & %s & "+
		"find /usr/share -maxdepth 3 -name '*.gz' | sort > /dev/null & "+
		"gzip -c /etc/services | gunzip | wc -l > /dev/null & ls -la /nonexistent /etc > /dev/null 2>&1; "+
		"for i in $(seq 30); do cat /etc/hostname /nonexistent$i > /dev/null 2>&1; done; wait", bins.preempt)
	table := sysnames.Native()
	for _, hook := range bpf.Hooks {
		t.Run(string(hook), func(t *testing.T) {
			cmd, path := stoppedInCgroup(t, bins.launcher, "sh", "-c", workload)
			cfg := testConfig()
			cfg.Hook = string(hook)
			cfg.Filter.Cgroups = []string{path}
			s := liveScraper(t, cfg)
			root, err := cgroupv2.Root()
			require.NoError(t, err)
			bpftrace, out := startBpftrace(t, filepath.Join(root, path))
			require.NoError(t, syscall.Kill(cmd.Process.Pid, syscall.SIGCONT))
			require.NoError(t, cmd.Wait())
			require.NoError(t, bpftrace.Process.Signal(syscall.SIGINT))
			waitTimeout(t, bpftrace, 30*time.Second)

			theirs := map[pidSyscall]int64{}
			for line := range strings.Lines(out.String()) {
				if m := bpftraceEntry.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
					pid, _ := strconv.Atoi(m[1])
					nr, _ := strconv.ParseUint(m[2], 10, 32)
					n, _ := strconv.ParseInt(m[3], 10, 64)
					theirs[pidSyscall{pid, uint32(nr)}] = n
				}
			}
			ours := map[pidSyscall]int64{}
			for _, r := range liveScrape(t, s) {
				for k, n := range r.calls {
					nr, ok := table.Number(k.name)
					require.True(t, ok && k.abi == nativeABI, "%v", k)
					ours[pidSyscall{int(r.int("process.pid")), nr}] += n
				}
			}
			var diffs []string
			var calls int64
			for _, k := range union(ours, theirs) {
				calls += theirs[k]
				if ours[k] != theirs[k] {
					diffs = append(diffs, fmt.Sprintf("pid %d %s: ours %d, bpftrace %d", k.pid, table.Name(k.nr), ours[k], theirs[k]))
				}
			}
			pids := map[int]bool{}
			for k := range theirs {
				pids[k.pid] = true
			}
			assert.Empty(t, diffs)
			assert.Greater(t, len(pids), 30, "a multi-process workload")
			rtSigreturn, _ := table.Number("rt_sigreturn")
			assert.True(t, slices.ContainsFunc(slices.Collect(maps.Keys(theirs)), func(k pidSyscall) bool { return k.nr == rtSigreturn }),
				"signals handled (python's, Go's preemption)")
			t.Logf("%d processes, %d (pid, syscall) series, %d calls: %d differences", len(pids), len(theirs), calls, len(diffs))
		})
	}
}

// mountTracefs mounts tracefs where a new machine has not: bpftrace's
// tracepoints need it.
func mountTracefs(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("mount"); err == nil {
		_ = exec.Command("sh", "-c", "test -d /sys/kernel/tracing/events || mount -t tracefs tracefs /sys/kernel/tracing").Run()
	}
}
