//go:build linux && (amd64 || arm64)

package engine

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/seed22255693/syscallsreceiver/internal/cgroupv2"
)

// cgroupPaths maps cgroup v2 ids (the directory's inode number, what
// bpf_get_current_cgroup_id returns) to paths relative to the v2 root.
type cgroupPaths struct {
	root  string
	paths map[uint64]string
}

func newCgroupPaths() (*cgroupPaths, error) {
	root, err := cgroupv2.Root()
	if err != nil {
		return nil, err
	}
	return &cgroupPaths{root: root, paths: map[uint64]string{}}, nil
}

// path returns the cgroup's path, walking the hierarchy again when the id
// is new; ok is false when the cgroup no longer exists.
func (c *cgroupPaths) path(id uint64) (string, bool) {
	if p, ok := c.paths[id]; ok && c.exists(id, p) {
		return p, true
	}
	c.rescan()
	p, ok := c.paths[id]
	return p, ok
}

func (c *cgroupPaths) exists(id uint64, path string) bool {
	fi, err := os.Stat(filepath.Join(c.root, path))
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Ino == id
}

func (c *cgroupPaths) rescan() {
	paths := map[uint64]string{}
	_ = filepath.WalkDir(c.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			rel, _ := filepath.Rel(c.root, p)
			paths[st.Ino] = filepath.Clean("/" + rel)
		}
		return nil
	})
	c.paths = paths
}
