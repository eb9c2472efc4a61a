//go:build linux && (amd64 || arm64)

package bpf

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/internal/workload"
)

// nativeCBinary builds the test program testdata/SRC with gcc, as name, or
// takes the one test/kernels built under that name (workload.PrebuiltEnv),
// as where no gcc runs.
func nativeCBinary(t *testing.T, name, src string) string {
	t.Helper()
	if prebuilt, err := workload.Prebuilt(name); prebuilt != "" || err != nil {
		require.NoError(t, err)
		return prebuilt
	}
	bin := filepath.Join(t.TempDir(), name)
	out, err := exec.Command("gcc", "-O2", "-o", bin, filepath.Join("testdata", src)).CombinedOutput()
	require.NoError(t, err, "building testdata/%s needs gcc: %s", src, out)
	return bin
}
