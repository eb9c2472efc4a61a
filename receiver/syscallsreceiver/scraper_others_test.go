//go:build !linux || !(amd64 || arm64)

package syscallsreceiver

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"
)

// TestStartSaysWhereItRuns: the factory exists on every platform, and Start
// fails with one sentence naming what the receiver needs and what this is.
func TestStartSaysWhereItRuns(t *testing.T) {
	f := NewFactory()
	rcv, err := f.CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type), f.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	err = rcv.Start(context.Background(), componenttest.NewNopHost())
	require.EqualError(t, err, "the syscalls receiver needs Linux on amd64 or arm64; this is "+runtime.GOOS+"/"+runtime.GOARCH)
	require.NoError(t, rcv.Shutdown(context.Background()))
}
