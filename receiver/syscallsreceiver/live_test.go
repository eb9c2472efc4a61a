//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seed22255693/syscallsreceiver/internal/cgroupv2"
	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/internal/workload"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"
)

// Helpers of the kernel integration tests (groupby_test.go, filters_test.go,
// churn_test.go, the referee tests). Each test drives the scraper by hand
// (start, then scrape when the test's workloads have exited) so that every
// count is exact: the workloads make known numbers of getppid, write and failing
// openat calls (the Go runtime makes none of those on its own). Other
// processes on the host are told apart by pid, comm or cgroup.

// liveScraper starts a scraper on the real kernel; the test scrapes by hand.
func liveScraper(t *testing.T, cfg *Config) *syscallsScraper {
	t.Helper()
	require.NoError(t, cfg.Validate())
	s := newSyscallsScraper(cfg, receivertest.NewNopSettings(metadata.Type))
	err := s.start(context.Background(), componenttest.NewNopHost())
	skipIfKernelLacks(t, cfg, err)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })
	return s
}

func liveScrape(t *testing.T, s *syscallsScraper) []liveResource {
	t.Helper()
	md, err := s.scrape(context.Background())
	require.NoError(t, err)
	return liveResources(md)
}

// sysKey is a syscall of one ABI.
type sysKey struct{ name, abi string }

// liveResource is one exported resource, flattened for assertions.
type liveResource struct {
	attrs  map[string]any
	calls  map[sysKey]int64
	errors map[string]int64 // "name errno" (any ABI)
}

func liveResources(md pmetric.Metrics) []liveResource {
	var out []liveResource
	for _, rm := range md.ResourceMetrics().All() {
		r := liveResource{attrs: rm.Resource().Attributes().AsRaw(), calls: map[sysKey]int64{}, errors: map[string]int64{}}
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				if m.Type() != pmetric.MetricTypeSum { // the duration histogram
					continue
				}
				for _, dp := range m.Sum().DataPoints().All() {
					name, _ := dp.Attributes().Get("syscall.name")
					abi, _ := dp.Attributes().Get("syscall.abi")
					switch m.Name() {
					case "syscall.calls":
						r.calls[sysKey{name.Str(), abi.Str()}] += dp.IntValue()
					case "syscall.errors":
						errType, _ := dp.Attributes().Get("error.type")
						r.errors[name.Str()+" "+errType.Str()] += dp.IntValue()
					}
				}
			}
		}
		out = append(out, r)
	}
	return out
}

// log writes everything the resource holds: where its calls went when a
// test did not find them where it looked.
func (r liveResource) log(t *testing.T) {
	t.Helper()
	t.Logf("resource %v: calls %v, errors %v", r.attrs, r.calls, r.errors)
	kerneltest.LogPrograms(t)
}

var nativeABI = sysnames.Native().ABI()

// native is the count of a syscall of the running architecture's own ABI.
func (r liveResource) native(name string) int64 { return r.calls[sysKey{name, nativeABI}] }

func (r liveResource) int(attr string) int64 {
	v, _ := r.attrs[attr].(int64)
	return v
}

func (r liveResource) str(attr string) string {
	v, _ := r.attrs[attr].(string)
	return v
}

func (r liveResource) overflow() bool {
	v, _ := r.attrs["otel.metric.overflow"].(bool)
	return v
}

// withAttr returns the resources whose attribute attr equals value.
func withAttr(rs []liveResource, attr string, value any) []liveResource {
	var out []liveResource
	for _, r := range rs {
		if r.attrs[attr] == value {
			out = append(out, r)
		}
	}
	return out
}

func workloadBin(t *testing.T) string {
	t.Helper()
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	return bin
}

func runWorkload(t *testing.T, cmd *exec.Cmd) workload.Result {
	t.Helper()
	r, err := workload.RunCommand(cmd)
	require.NoError(t, err)
	return r
}

// uniqueComm is a comm no other process on the host has.
func uniqueComm(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, os.Getpid()%100000)
}

// liveCgroups creates cgroup v2 directories for one test, under a parent of
// its own, and removes them (deepest first) when the test ends, once the
// processes in them have exited.
type liveCgroups struct {
	t    *testing.T
	root string // the v2 mount point
	base string // this test's parent, relative to root ("/...")
	dirs []string
}

var cgroupSeq atomic.Int32

func newLiveCgroups(t *testing.T) *liveCgroups {
	t.Helper()
	root, err := cgroupv2.Root()
	require.NoError(t, err, "these tests need cgroup v2")
	c := &liveCgroups{t: t, root: root, base: fmt.Sprintf("/syscallsreceiver-test-%d-%d", os.Getpid(), cgroupSeq.Add(1))}
	t.Cleanup(c.remove)
	c.make("")
	return c
}

// make creates base+rel (and its missing parents) and returns its path
// relative to the v2 root, as process.linux.cgroup spells it.
func (c *liveCgroups) make(rel string) string {
	path := c.base + rel
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i := range parts {
		dir := filepath.Join(c.root, filepath.Join(parts[:i+1]...))
		if slices.Contains(c.dirs, dir) {
			continue
		}
		err := os.Mkdir(dir, 0o755)
		require.NoError(c.t, err)
		c.dirs = append(c.dirs, dir)
		if i > 0 {
			// As container runtimes do, the cpu controller is enabled down
			// to the container: a Go program (the workload) opens its
			// cgroup's cpu.max at start, and where there is none that
			// openat fails (ENOENT) among the errors the tests count.
			// Best effort: a hybrid host keeps cpu in v1, which Go reads.
			_ = os.WriteFile(filepath.Join(filepath.Dir(dir), "cgroup.subtree_control"), []byte("+cpu"), 0)
		}
	}
	return path
}

func (c *liveCgroups) dir(path string) string { return filepath.Join(c.root, path) }

func (c *liveCgroups) remove() {
	// A process that was just reaped may keep its cgroup busy briefly.
	slices.SortFunc(c.dirs, func(a, b string) int { return len(b) - len(a) })
	for _, dir := range c.dirs {
		deadline := time.Now().Add(5 * time.Second)
		for {
			err := os.Remove(dir)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				c.t.Errorf("removing cgroup %s: %v", dir, err)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// in makes cmd start inside the cgroup (clone3 CLONE_INTO_CGROUP), so that
// every syscall of the process, from its first, is made there.
func (c *liveCgroups) in(cmd *exec.Cmd, path string) *exec.Cmd {
	f, err := os.Open(c.dir(path))
	require.NoError(c.t, err)
	c.t.Cleanup(func() { _ = f.Close() })
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(f.Fd())}
	return cmd
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, (n+1)/2)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)[:n]
}
