//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckPIDNamespace(t *testing.T) {
	fakeNS := func(t *testing.T, target string) string {
		t.Helper()
		root := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(root, "self", "ns"), 0o755))
		require.NoError(t, os.Symlink(target, filepath.Join(root, "self", "ns", "pid")))
		return root
	}
	t.Run("host namespace", func(t *testing.T) {
		assert.NoError(t, checkPIDNamespace(fakeNS(t, "pid:[4026531836]")))
	})
	t.Run("container namespace", func(t *testing.T) {
		err := checkPIDNamespace(fakeNS(t, "pid:[4026532417]"))
		require.Error(t, err)
		assert.ErrorContains(t, err, "pid:[4026532417]")
		assert.ErrorContains(t, err, "--pid=host")
		assert.ErrorContains(t, err, "group_by: []")
	})
	t.Run("unreadable", func(t *testing.T) {
		assert.NoError(t, checkPIDNamespace(t.TempDir()), "cannot tell: assume the host's")
	})
	t.Run("real procfs", func(t *testing.T) {
		ns, err := os.Readlink("/proc/self/ns/pid")
		require.NoError(t, err)
		if ns == "pid:[4026531836]" {
			assert.NoError(t, checkPIDNamespace("/proc"))
		} else {
			assert.Error(t, checkPIDNamespace("/proc"), "this test runs in %s", ns)
		}
	})
}
