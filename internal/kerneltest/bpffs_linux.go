//go:build linux

package kerneltest

import (
	"testing"

	"golang.org/x/sys/unix"
)

// MountBPFFS makes sure a bpffs is mounted at /sys/fs/bpf, as a node
// agent's host has it, mounting one if not: the pinning tests pin there.
func MountBPFFS(t testing.TB) {
	t.Helper()
	var fs unix.Statfs_t
	// fs.Type is an int32 on 32-bit platforms.
	if err := unix.Statfs("/sys/fs/bpf", &fs); err == nil && uint32(fs.Type) == uint32(unix.BPF_FS_MAGIC) {
		return
	}
	if err := unix.Mount("bpf", "/sys/fs/bpf", "bpf", 0, ""); err != nil {
		t.Fatalf("mounting bpffs at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf): %v", err)
	}
}
