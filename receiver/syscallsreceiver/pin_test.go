//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"
)

// TestPinPathRemovedFromTheConfig: pins a config with pin_path left at the
// receiver's default pin path are removed by the next Start without it, so
// that nothing stays attached that the configuration no longer asks for.
func TestPinPathRemovedFromTheConfig(t *testing.T) {
	kerneltest.Require(t)
	kerneltest.MountBPFFS(t)
	settings := receivertest.NewNopSettings(metadata.Type)
	settings.ID = component.MustNewIDWithName("syscalls", "pin-test")
	pins := DefaultPinPath(settings.ID.String())
	t.Cleanup(func() { _ = os.RemoveAll(pins) })

	cfg := testConfig()
	cfg.PinPath = pins
	require.NoError(t, cfg.Validate())
	s := newSyscallsScraper(cfg, settings)
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, s.shutdown(context.Background()))
	assert.DirExists(t, pins, "shutdown leaves the pins")

	cfg = testConfig()
	s = newSyscallsScraper(cfg, settings)
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, s.shutdown(context.Background()))
	assert.NoDirExists(t, pins, "a Start without pin_path removed them")
}

// TestPinPathNotOnBPFFS: Start says what to do, and nothing is attached.
func TestPinPathNotOnBPFFS(t *testing.T) {
	kerneltest.Require(t)
	cfg := testConfig()
	cfg.PinPath = t.TempDir()
	require.NoError(t, cfg.Validate())
	s := newSyscallsScraper(cfg, receivertest.NewNopSettings(metadata.Type))
	err := s.start(context.Background(), componenttest.NewNopHost())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not on a bpffs")
	assert.Contains(t, err.Error(), "mount -t bpf bpf /sys/fs/bpf")
	assert.Nil(t, s.engine)
}

func TestPinPathMustBeAbsolute(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.PinPath = "pins/syscalls"
	assert.ErrorContains(t, cfg.Validate(), `pin_path: "pins/syscalls" must be an absolute path on a bpffs`)
}
