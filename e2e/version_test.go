//go:build linux && (amd64 || arm64)

package e2e

import (
	"os"
	"os/exec"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/internal/collectortest"
)

// TestCollectorReportsTheVersion: the built collector reports the release
// in builder-config.yaml, for itself and for this component, so that a
// fleet can tell which version counts on each node.
func TestCollectorReportsTheVersion(t *testing.T) {
	manifest, err := os.ReadFile("../builder-config.yaml")
	require.NoError(t, err)
	dist := regexp.MustCompile(`(?m)^  version: (\S+)$`).FindSubmatch(manifest)
	require.NotNil(t, dist, "dist.version in builder-config.yaml")
	version := string(dist[1])
	require.Regexp(t, `(?m)^  - gomod: github.com/seed22255693/syscallsreceiver v`+regexp.QuoteMeta(version)+`\b`, string(manifest),
		"the component's gomod version is dist.version")

	bin := collectortest.Otelcol(t)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "otelcol-syscalls version "+version+"\n", string(out))
	out, err = exec.Command(bin, "components").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Regexp(t, `name: syscalls\n\s+module: github.com/seed22255693/syscallsreceiver v`+regexp.QuoteMeta(version)+`\n`, string(out))
}
