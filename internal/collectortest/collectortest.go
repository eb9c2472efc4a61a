// Package collectortest holds what the tests that run the ocb-built
// collector and the backends beside it share: finding the binaries the
// Makefile builds, free ports, process output, the file exporter's output.
package collectortest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/seed22255693/syscallsreceiver/internal/cgroupv2"
	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
	"github.com/seed22255693/syscallsreceiver/internal/workload"
)

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..")
}

// Binary finds a program the Makefile builds or caches: from env, else at
// def under the repository (or on PATH when def has no slash). A missing
// one skips the test, pointing at `make test`; in CI (CI=true) it fails.
func Binary(t *testing.T, env, def string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" && def != "" {
		if strings.Contains(def, "/") {
			p = filepath.Join(RepoRoot(), def)
		} else if lp, err := exec.LookPath(def); err == nil {
			p = lp
		}
	}
	if _, err := os.Stat(p); p == "" || err != nil {
		msg := fmt.Sprintf("%s: no binary (%q): `make test` or `make e2e` builds it and sets %s", env, p, env)
		if kerneltest.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	abs, err := filepath.Abs(p)
	require.NoError(t, err)
	return abs
}

// Otelcol is the ocb-built collector.
func Otelcol(t *testing.T) string { return Binary(t, "OTELCOL_BIN", "_build/otelcol-syscalls") }

// FreeAddr is a loopback address with a port nothing listens on.
func FreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// LogBuffer collects a process's output while it runs.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ForEachExport calls fn with every complete export in the file exporter's
// JSON-lines output so far (a partial last line is left for next time). A
// missing file has no exports yet.
func ForEachExport(t *testing.T, path string, fn func(pmetric.Metrics)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }()
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
		md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(line)
		require.NoError(t, err, "the file exporter wrote a line that is not OTLP JSON")
		fn(md)
	}
}

// Cgroup2Root is where the cgroup v2 hierarchy is mounted here.
func Cgroup2Root(t *testing.T) string {
	t.Helper()
	root, err := cgroupv2.Root()
	require.NoError(t, err)
	return root
}

// RandomHex is n random bytes in hex.
func RandomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// lastValues reads the file exporter's output and returns pid's sums in
// the last export that has it (see Values).
func lastValues(t *testing.T, path string, pid int) map[string]int64 {
	t.Helper()
	var last map[string]int64
	ForEachExport(t, path, func(md pmetric.Metrics) {
		if v := Values(md, pid); v != nil {
			last = v
		}
	})
	return last
}

// Values returns pid's sum data points in one export keyed
// metric/syscall[/errno], e.g. "syscall.errors/openat/ENOENT"; nil if the
// export has no resource for pid.
func Values(md pmetric.Metrics, pid int) map[string]int64 {
	var values map[string]int64
	for _, rm := range md.ResourceMetrics().All() {
		if v, ok := rm.Resource().Attributes().Get("process.pid"); !ok || v.Int() != int64(pid) {
			continue
		}
		values = map[string]int64{}
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				if m.Type() != pmetric.MetricTypeSum {
					continue
				}
				for _, dp := range m.Sum().DataPoints().All() {
					values[PointKey(m.Name(), dp.Attributes())] = dp.IntValue()
				}
			}
		}
	}
	return values
}

// PointKey names a data point of metric as Values keys it:
// metric/syscall[/errno].
func PointKey(metric string, attrs pcommon.Map) string {
	key := metric
	if v, ok := attrs.Get("syscall.name"); ok {
		key += "/" + v.Str()
	}
	if v, ok := attrs.Get("error.type"); ok {
		key += "/" + v.Str()
	}
	return key
}

// WantOf is what the file export holds for a workload that made spec's
// syscalls, keyed as Values keys it.
func WantOf(spec workload.Spec) map[string]int64 {
	return map[string]int64{
		"syscall.calls/getppid":        int64(spec.Getppid),
		"syscall.calls/write":          int64(spec.WriteDevNull),
		"syscall.errors/openat/ENOENT": int64(spec.OpenMissing),
	}
}

// AwaitValues waits until pid's last export in the file exporter's output
// has every value in want, and returns that export's values.
func AwaitValues(t *testing.T, path string, pid int, want map[string]int64) map[string]int64 {
	t.Helper()
	var got map[string]int64
	require.Eventually(t, func() bool {
		got = lastValues(t, path, pid)
		for k, v := range want {
			if got[k] != v {
				return false
			}
		}
		return true
	}, 30*time.Second, 200*time.Millisecond, "pid %d: want %v in the file export, last seen %v", pid, want, got)
	return got
}
