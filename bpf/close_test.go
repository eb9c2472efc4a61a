//go:build linux && (amd64 || arm64)

package bpf

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCloseLeavesNothing: on every hook, once Close returns, no program or
// map of ours stays in the kernel (looked up by the ids the kernel gave
// them), and a second Close is harmless.
func TestCloseLeavesNothing(t *testing.T) {
	for _, hook := range Hooks {
		t.Run(string(hook), func(t *testing.T) {
			opts := allOn(true)
			opts.Hook = hook
			c := load(t, opts)
			progs, maps := c.ObjectIDs()
			require.Len(t, progs, 3)
			require.NotEmpty(t, maps)
			require.NoError(t, c.Close())
			require.NoError(t, c.Close())

			gone := func(err error) bool { return errors.Is(err, os.ErrNotExist) }
			// The kernel frees a map after its last reference is dropped,
			// in a work queue: give it a moment.
			assert.Eventually(t, func() bool {
				for _, id := range progs {
					if p, err := ebpf.NewProgramFromID(id); err == nil {
						_ = p.Close()
						return false
					} else if !gone(err) {
						t.Logf("program %d: %v", id, err)
						return false
					}
				}
				for _, id := range maps {
					if m, err := ebpf.NewMapFromID(id); err == nil {
						_ = m.Close()
						return false
					} else if !gone(err) {
						t.Logf("map %d: %v", id, err)
						return false
					}
				}
				return true
			}, 10*time.Second, 50*time.Millisecond, "programs %v or maps %v stayed loaded after Close", progs, maps)
		})
	}
}
