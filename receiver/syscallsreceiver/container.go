//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"path/filepath"
	"regexp"
	"strings"
)

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
