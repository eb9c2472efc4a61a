package kerneltest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPrivileged(t *testing.T) {
	assert.False(t, privileged(0))
	assert.False(t, privileged(1<<capBPF), "CAP_BPF alone cannot attach tracing programs")
	assert.False(t, privileged(1<<capPerfmon))
	assert.True(t, privileged(1<<capBPF|1<<capPerfmon))
	assert.True(t, privileged(1<<capSysAdmin))
}

func TestEffectiveCaps(t *testing.T) {
	caps, ok := effectiveCaps("Name:\tx\nCapPrm:\t0000000000000000\nCapEff:\t000001ffffffffff\n")
	assert.True(t, ok)
	assert.Equal(t, uint64(0x1ffffffffff), caps)
	_, ok = effectiveCaps("Name:\tx\n")
	assert.False(t, ok)
}

func TestInCI(t *testing.T) {
	for value, want := range map[string]bool{"true": true, "1": true, "": false, "false": false, "yes": false} {
		t.Setenv("CI", value)
		assert.Equal(t, want, InCI(), "CI=%q", value)
	}
}
