//go:build linux

package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed22255693/syscallsreceiver/internal/collectortest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/seed22255693/syscallsreceiver/internal/workload"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

const cgroupConfig = `receivers:
  syscalls:
    collection_interval: 1s
    group_by: [container, process]
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

// TestPodCgroupView recreates what a container runtime gives the agent — its
// own cgroup, a private cgroup namespace, cgroup2 mounted at the usual place
// showing only its own subtree — and shows why the DaemonSet mounts the
// host's /sys/fs/cgroup over it: without that mount a workload in another
// pod's container cgroup gets no container.id; with it, it does.
func TestPodCgroupView(t *testing.T) {
	kerneltest.Require(t)
	bin := collectortest.Otelcol(t)
	unshare, err := exec.LookPath("unshare")
	require.NoError(t, err)
	wl, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	root := collectortest.Cgroup2Root(t)

	top := filepath.Join(root, fmt.Sprintf("syscalls-deploy-%d", os.Getpid()))
	agent := filepath.Join(top, "agent")
	podUID := collectortest.RandomHex(t, 4) + "-" + collectortest.RandomHex(t, 2) + "-" + collectortest.RandomHex(t, 2) + "-" + collectortest.RandomHex(t, 2) + "-" + collectortest.RandomHex(t, 6)
	pod := filepath.Join(top, "kubepods-besteffort-pod"+strings.ReplaceAll(podUID, "-", "_")+".slice")
	containerID := collectortest.RandomHex(t, 32)
	ctr := filepath.Join(pod, "cri-containerd-"+containerID+".scope")
	for _, d := range []string{agent, ctr} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	t.Cleanup(func() {
		for _, d := range []string{ctr, pod, agent, top} {
			if err := os.Remove(d); err != nil {
				t.Logf("removing %s: %v", d, err)
			}
		}
	})

	for _, tc := range []struct {
		name      string
		hostMount bool
	}{
		{"own cgroup namespace only", false},
		{"host /sys/fs/cgroup mounted over it (the DaemonSet)", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			saved := filepath.Join(dir, "host-cgroup")
			require.NoError(t, os.Mkdir(saved, 0o755))
			cfg := filepath.Join(dir, "config.yaml")
			require.NoError(t, os.WriteFile(cfg, []byte(cgroupConfig), 0o644))
			out := filepath.Join(dir, "metrics.jsonl")
			// In the agent's cgroup, then a private mount and cgroup namespace:
			// the runtime's cgroup2 mount shows only the agent's subtree.
			// With HOSTMOUNT, the host's tree (kept aside first) is bound over
			// it, as the DaemonSet's hostPath volume is; nothing else of the
			// host's cgroup2 mount stays visible.
			script := `set -e
if [ "$HOSTMOUNT" = yes ]; then mount --bind "$ROOT" "$SAVED"; fi
umount "$ROOT"
mount -t cgroup2 pod-cgroupns "$ROOT"
if [ "$HOSTMOUNT" = yes ]; then mount --bind "$SAVED" "$ROOT"; umount "$SAVED"; fi
exec "$OTELCOL" --config "$CFG"`
			cmd := exec.Command("sh", "-c", `echo $$ > "$AGENT/cgroup.procs" && exec "$UNSHARE" --mount --cgroup --propagation private sh -c "$SCRIPT"`)
			hostMount := "no"
			if tc.hostMount {
				hostMount = "yes"
			}
			cmd.Env = append(os.Environ(), "ROOT="+root, "SAVED="+saved, "HOSTMOUNT="+hostMount, "OTELCOL="+bin,
				"CFG="+cfg, "OUT="+out, "AGENT="+agent, "UNSHARE="+unshare, "SCRIPT="+script)
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
					<-exited
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
			require.Contains(t, logs.String(), "Everything is ready")

			// A workload started straight into the other pod's container cgroup.
			fd, err := syscall.Open(ctr, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
			require.NoError(t, err)
			defer func() { _ = syscall.Close(fd) }()
			w := exec.Command(wl, "300", "3", "1")
			w.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
			require.NoError(t, w.Run())
			pid := w.ProcessState.Pid()

			var attrs map[string]string
			require.Eventually(t, func() bool {
				attrs = resourceOf(t, out, pid)
				return attrs != nil
			}, 30*time.Second, 200*time.Millisecond, "pid %d never exported", pid)
			if tc.hostMount {
				assert.Equal(t, containerID, attrs["container.id"])
				assert.Equal(t, podUID, attrs["k8s.pod.uid"])
			} else {
				// The cgroup id is not in the namespace's tree: no path at all.
				assert.Empty(t, attrs["container.id"], "resolved without the host's cgroup tree?")
				assert.Empty(t, attrs["process.linux.cgroup"])
			}
			t.Logf("pid %d: container.id=%q k8s.pod.uid=%q process.linux.cgroup=%q",
				pid, attrs["container.id"], attrs["k8s.pod.uid"], attrs["process.linux.cgroup"])
		})
	}
}

// resourceOf is the resource attributes of pid in the last export that
// has it.
func resourceOf(t *testing.T, path string, pid int) map[string]string {
	t.Helper()
	var last map[string]string
	collectortest.ForEachExport(t, path, func(md pmetric.Metrics) {
		for _, rm := range md.ResourceMetrics().All() {
			if v, ok := rm.Resource().Attributes().Get("process.pid"); ok && v.Int() == int64(pid) {
				last = map[string]string{}
				for k, v := range rm.Resource().Attributes().All() {
					last[k] = v.AsString()
				}
			}
		}
	})
	return last
}
