//go:build linux

package backend

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed22255693/syscallsreceiver/internal/collectortest"

	"github.com/stretchr/testify/require"
)

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// service runs a server process for the duration of the test: SIGTERM and
// wait at cleanup; its output is logged if the test failed.
type service struct {
	name string
	cmd  *exec.Cmd
	logs *collectortest.LogBuffer
	done chan struct{}
}

func startService(t *testing.T, name, bin string, args []string, env ...string) *service {
	t.Helper()
	s := &service{name: name, cmd: exec.Command(bin, args...), logs: &collectortest.LogBuffer{}, done: make(chan struct{})}
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	s.cmd.Dir = t.TempDir()
	require.NoError(t, s.cmd.Start(), "starting %s", name)
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("%s output (last 40 lines):\n%s", name, tail(s.logs.String(), 40))
		}
	})
	return s
}

// waitFor polls cond until it is true, the service exits, or the timeout.
func (s *service) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case <-s.done:
			t.Fatalf("%s exited before %s:\n%s", s.name, what, tail(s.logs.String(), 40))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s after %v:\n%s", s.name, what, timeout, tail(s.logs.String(), 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitReady waits until a collector says its pipelines run.
func (s *service) waitReady(t *testing.T) {
	t.Helper()
	s.waitFor(t, "Everything is ready", 90*time.Second, func() bool {
		return strings.Contains(s.logs.String(), "Everything is ready")
	})
}

func httpOK(u string) bool {
	resp, err := http.Get(u)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// promAPI speaks the Prometheus HTTP query API, which both backends serve.
type promAPI struct {
	name  string
	base  string // http://host:port
	flush func() // makes recent ingestion queryable (VictoriaMetrics), or nil
}

type sample struct {
	Metric map[string]string
	Value  float64
}

// query runs an instant query at the current time.
func (p promAPI) query(q string) ([]sample, error) {
	if p.flush != nil {
		p.flush()
	}
	form := url.Values{"query": {q}, "time": {strconv.FormatInt(time.Now().Unix(), 10)}}
	resp, err := http.PostForm(p.base+"/api/v1/query", form)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %s: decoding the answer: %v", p.name, q, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s: %s", p.name, q, r.Error)
	}
	var out []sample
	switch r.Data.ResultType {
	case "vector":
		var v []struct {
			Metric    map[string]string   `json:"metric"`
			Value     *[2]any             `json:"value"`
			Histogram *[2]json.RawMessage `json:"histogram"` // a native histogram: [time, {count, sum, buckets}]
		}
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			return nil, err
		}
		for _, e := range v {
			var text string
			switch {
			case e.Value != nil:
				text = fmt.Sprint(e.Value[1])
			case e.Histogram != nil:
				var h struct {
					Count string `json:"count"`
				}
				if err := json.Unmarshal(e.Histogram[1], &h); err != nil {
					return nil, err
				}
				text = h.Count // the count stands for the histogram
			default:
				return nil, fmt.Errorf("%s: %s: a sample with neither value nor histogram", p.name, q)
			}
			f, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return nil, err
			}
			out = append(out, sample{e.Metric, f})
		}
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(fmt.Sprint(v[1]), 64)
		if err != nil {
			return nil, err
		}
		out = append(out, sample{map[string]string{}, f})
	default:
		return nil, fmt.Errorf("%s: %s: unexpected result type %q", p.name, q, r.Data.ResultType)
	}
	return out, nil
}

// labelValues is Grafana's label_values(match, label) through the API.
func (p promAPI) labelValues(match, label string) ([]string, error) {
	if p.flush != nil {
		p.flush()
	}
	u := p.base + "/api/v1/label/" + url.PathEscape(label) + "/values?" + url.Values{"match[]": {match}}.Encode()
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status string   `json:"status"`
		Error  string   `json:"error"`
		Data   []string `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: label_values(%s, %s): %s", p.name, match, label, r.Error)
	}
	return r.Data, nil
}

// value polls q until it returns exactly one series whose value is want.
func (p promAPI) eventually(t *testing.T, q string, want float64) {
	t.Helper()
	var last []sample
	var err error
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		last, err = p.query(q)
		if err == nil && len(last) == 1 && last[0].Value == want {
			t.Logf("%s: %s = %v", p.name, q, last[0].Value)
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Errorf("%s: %s: want one series = %v, last answer %v (err %v)", p.name, q, want, last, err)
}

// fakeContainer makes a cgroup v2 directory laid out as a Kubernetes pod's
// container under the systemd cgroup driver
// (…/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope), inside
// a test-only parent of its own. It returns the container id and pod uid
// the receiver should parse from its path, and a directory fd to start a
// process in it (clone3 CLONE_INTO_CGROUP). The directories are removed at
// cleanup, after the processes in them have exited.
func fakeContainer(t *testing.T) container {
	t.Helper()
	u := collectortest.RandomHex(t, 16)
	c := container{podUID: u[0:8] + "-" + u[8:12] + "-" + u[12:16] + "-" + u[16:20] + "-" + u[20:32], id: collectortest.RandomHex(t, 32)}
	root := collectortest.Cgroup2Root(t)
	parent := filepath.Join(root, fmt.Sprintf("syscalls-e2e-%d-%s.slice", os.Getpid(), c.id[:8]))
	pod := filepath.Join(parent, "kubepods-besteffort-pod"+strings.ReplaceAll(c.podUID, "-", "_")+".slice")
	leaf := filepath.Join(pod, "cri-containerd-"+c.id+".scope")
	require.NoError(t, os.MkdirAll(leaf, 0o755))
	t.Cleanup(func() {
		for _, d := range []string{leaf, pod, parent} {
			if err := os.Remove(d); err != nil {
				t.Logf("removing cgroup %s: %v", d, err)
			}
		}
	})
	fd, err := syscall.Open(leaf, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Close(fd) })
	c.fd, c.path = fd, strings.TrimPrefix(leaf, root)
	return c
}

// container is a cgroup made by fakeContainer.
type container struct {
	fd         int    // open directory, for SysProcAttr.CgroupFD
	id, podUID string // what its path says
	path       string // from the cgroup2 root, as filter.cgroups takes it
}

// runUntil runs cmd in the background and returns a function that waits
// for it (with a timeout) and fails the test if it failed.
func runInBackground(t *testing.T, cmd *exec.Cmd) func() {
	t.Helper()
	var out collectortest.LogBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "%s: %s", cmd.Path, out.String())
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			t.Fatalf("%s did not finish", cmd.Path)
		}
	}
}
