//go:build linux && (amd64 || arm64)

package receiver

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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

var (
	// A 64-hex container id as docker, containerd, cri-o and podman name
	// their scopes or directories: docker-<id>.scope, cri-containerd-<id>.scope,
	// crio-<id>.scope, libpod-<id>.scope, /docker/<id>, /kubepods/.../<id>.
	containerIDPattern = regexp.MustCompile(`(?:^|[/-])([0-9a-f]{64})(?:\.scope)?$`)
	// systemd-nspawn machines: machine.slice/systemd-nspawn@NAME.service or
	// machine-NAME.scope.
	nspawnPattern = regexp.MustCompile(`/machine\.slice/(?:systemd-nspawn@([^/]+)\.service|machine-([^/]+)\.scope)`)
	// Kubernetes pods: .../pod<uid>/ (cgroupfs driver) or
	// kubepods-<qos>-pod<uid with _>.slice (systemd driver).
	podPattern = regexp.MustCompile(`pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?(?:/|$)`)
)

// parseCgroup extracts the container id and Kubernetes pod UID a cgroup
// path encodes, if any.
func parseCgroup(path string) (containerID, podUID string) {
	if m := podPattern.FindStringSubmatch(path); m != nil {
		podUID = strings.ReplaceAll(m[1], "_", "-")
	}
	for dir := path; dir != "/" && dir != "."; dir = filepath.Dir(dir) {
		if m := containerIDPattern.FindStringSubmatch(dir); m != nil {
			return m[1], podUID
		}
	}
	if m := nspawnPattern.FindStringSubmatch(path); m != nil {
		return m[1] + m[2], podUID
	}
	return "", podUID
}
