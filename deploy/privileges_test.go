package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed22255693/syscallsreceiver/internal/collectortest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/internal/workload"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// privConfig: the workload's syscalls only, to a file, every second.
const privConfig = `receivers:
  syscalls:
    collection_interval: 1s
    group_by: [process]
    filter:
      comms: [syscall-workloa]
exporters:
  file:
    path: ${env:OUT}
    format: json
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [syscalls]
      exporters: [file]
`

// bpfPerfmon is CAP_BPF (39) and CAP_PERFMON (38) as /proc/PID/status shows
// a capability set.
const bpfPerfmon = "000000c000000000"

// TestLeastPrivilege runs the collector with exactly the privileges each
// deployment grants, recreated with setpriv, and requires a workload's
// exact counts; the process holds only CAP_BPF and CAP_PERFMON.
func TestLeastPrivilege(t *testing.T) {
	kerneltest.Require(t)
	bin := collectortest.Otelcol(t)
	setpriv, err := exec.LookPath("setpriv")
	require.NoError(t, err, "setpriv (util-linux) is needed")
	setcap, err := exec.LookPath("setcap")
	require.NoError(t, err, "setcap (libcap2-bin) is needed")
	wl, err := workload.Build(t.TempDir())
	require.NoError(t, err)

	unit := unitSettings(t)
	unitCaps := capsArg(t, unit["AmbientCapabilities"])
	require.Equal(t, unit["AmbientCapabilities"], unit["CapabilityBoundingSet"], "the unit's bounding set is its ambient set")
	require.Equal(t, "yes", unit["NoNewPrivileges"])

	for _, tc := range []struct {
		name     string
		fileCaps bool
		uid      int
		args     []string
	}{
		{
			// deploy/kubernetes/daemonset.yaml, deploy/helm/values.yaml and the
			// Dockerfile: uid 65532, capabilities drop ALL + add BPF, PERFMON
			// (the bounding set), the binary's file capabilities.
			name: "DaemonSet/uid 65532 with file capabilities", fileCaps: true, uid: 65532,
			args: []string{"--reuid=65532", "--regid=65532", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all,+bpf,+perfmon"},
		},
		{
			// The alternative in the README for images without file
			// capabilities: root, only BPF and PERFMON,
			// allowPrivilegeEscalation: false (no_new_privs).
			name: "DaemonSet/root with only BPF and PERFMON", uid: 0,
			args: []string{"--inh-caps=-all", "--bounding-set=-all,+bpf,+perfmon", "--no-new-privs"},
		},
		{
			// deploy/systemd/otelcol-syscalls.service: a system user,
			// AmbientCapabilities = CapabilityBoundingSet, NoNewPrivileges.
			name: "systemd unit/system user with ambient capabilities", uid: 65532,
			args: []string{"--reuid=65532", "--regid=65532", "--clear-groups",
				"--inh-caps=-all," + unitCaps, "--ambient-caps=-all," + unitCaps,
				"--bounding-set=-all," + unitCaps, "--no-new-privs"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Not under t.TempDir(), whose parent only root can enter.
			dir, err := os.MkdirTemp("", "syscalls-privileges-")
			require.NoError(t, err)
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			require.NoError(t, os.Chmod(dir, 0o777))
			exe := filepath.Join(dir, "otelcol-syscalls")
			copyFile(t, bin, exe, 0o755)
			if tc.fileCaps {
				out, err := exec.Command(setcap, "cap_bpf,cap_perfmon+ep", exe).CombinedOutput()
				require.NoError(t, err, "%s", out)
			}
			cfg := filepath.Join(dir, "config.yaml")
			require.NoError(t, os.WriteFile(cfg, []byte(privConfig), 0o644))
			out := filepath.Join(dir, "metrics.jsonl")

			cmd := exec.Command(setpriv, append(tc.args, "--", exe, "--config", cfg)...)
			cmd.Env = append(os.Environ(), "OUT="+out)
			cmd.Dir = dir
			logs := &collectortest.LogBuffer{}
			cmd.Stdout, cmd.Stderr = logs, logs
			require.NoError(t, cmd.Start())
			exited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(exited) }()
			t.Cleanup(func() {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(20 * time.Second):
					_ = cmd.Process.Kill()
				}
				if t.Failed() {
					t.Logf("collector output:\n%s", logs.String())
				}
			})
			require.Eventually(t, func() bool {
				select {
				case <-exited:
					return true
				default:
				}
				return strings.Contains(logs.String(), "Everything is ready")
			}, 60*time.Second, 100*time.Millisecond)
			require.Contains(t, logs.String(), "Everything is ready", "the collector did not start")

			// setpriv execs the collector: same pid.
			status := procStatus(t, cmd.Process.Pid)
			assert.Equal(t, bpfPerfmon, status["CapEff"], "effective capabilities")
			assert.Equal(t, bpfPerfmon, status["CapPrm"], "permitted capabilities")
			assert.Equal(t, strconv.Itoa(tc.uid), strings.Fields(status["Uid"])[1], "effective uid")

			spec := workload.Spec{Getppid: 777, OpenMissing: 13, WriteDevNull: 5}
			pid, err := workload.Run(wl, spec)
			require.NoError(t, err)
			got := collectortest.AwaitValues(t, out, pid, collectortest.WantOf(spec))
			t.Logf("uid %s, CapEff %s (cap_bpf,cap_perfmon): pid %d getppid=%d openat ENOENT=%d write=%d",
				strings.Fields(status["Uid"])[1], status["CapEff"], pid,
				got["syscall.calls/getppid"], got["syscall.errors/openat/ENOENT"], got["syscall.calls/write"])
		})
	}
}

// capsArg turns "CAP_BPF CAP_PERFMON" into setpriv's "+bpf,+perfmon".
func capsArg(t *testing.T, caps string) string {
	t.Helper()
	var out []string
	for _, c := range strings.Fields(caps) {
		require.True(t, strings.HasPrefix(c, "CAP_"), c)
		out = append(out, "+"+strings.ToLower(strings.TrimPrefix(c, "CAP_")))
	}
	require.NotEmpty(t, out)
	return strings.Join(out, ",")
}

func procStatus(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	s := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			s[k] = strings.TrimSpace(v)
		}
	}
	return s
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, data, mode))
}
