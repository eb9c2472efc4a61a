//go:build linux

package sysnames

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestErrnoName(t *testing.T) {
	tests := []struct {
		errno uint32
		want  string
	}{
		{1, "EPERM"},
		{2, "ENOENT"},
		{4, "EINTR"},
		// 11 is also EWOULDBLOCK: the canonical name wins.
		{11, "EAGAIN"},
		{13, "EACCES"},
		{38, "ENOSYS"},
		// Kernel-internal codes, unknown to libc and x/sys/unix.
		{512, "ERESTARTSYS"},
		{513, "ERESTARTNOINTR"},
		{514, "ERESTARTNOHAND"},
		{515, "ENOIOCTLCMD"},
		{516, "ERESTART_RESTARTBLOCK"},
		{524, "ENOTSUPP"},
		// No name: 0 is not an error, 517 is kernel-internal but not
		// mapped, the rest is past every defined code.
		{0, "_OTHER"},
		{517, "_OTHER"},
		{4000, "_OTHER"},
		{4095, "_OTHER"},
		{1 << 31, "_OTHER"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.errno), func(t *testing.T) {
			assert.Equal(t, tt.want, ErrnoName(tt.errno))
		})
	}
}

// TestErrnoNamesAreDistinct: the named user-space codes of Linux (1 to
// EHWPOISON, 133) all have a name, and two codes share a name only when
// they are aliases, so the error.type attribute never merges two errors.
func TestErrnoNamesAreDistinct(t *testing.T) {
	seen := map[string]uint32{}
	for errno := uint32(1); errno <= 133; errno++ {
		name := ErrnoName(errno)
		switch errno {
		case 41, 58: // never assigned on Linux
			assert.Equal(t, "_OTHER", name, "errno %d", errno)
			continue
		}
		assert.NotEqual(t, "_OTHER", name, "errno %d has no name", errno)
		if prev, dup := seen[name]; dup {
			t.Errorf("errno %d and %d are both named %s", prev, errno, name)
		}
		seen[name] = errno
	}
	for errno, name := range kernelOnlyErrnos {
		if prev, dup := seen[name]; dup {
			t.Errorf("kernel-only errno %d reuses the name %s of errno %d", errno, name, prev)
		}
		assert.Equal(t, name, ErrnoName(errno))
	}
}
