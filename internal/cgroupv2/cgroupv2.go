// Package cgroupv2 finds the cgroup v2 hierarchy on this host.
package cgroupv2

import (
	"bufio"
	"errors"
	"os"
	"strings"
)

// Root is where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup on most
// hosts, /sys/fs/cgroup/unified on hybrid ones. Never hard-code it.
func Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "36 25 0:31 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw"
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, postFields := strings.Fields(pre), strings.Fields(post)
		if ok && len(fields) >= 5 && len(postFields) >= 1 && postFields[0] == "cgroup2" {
			return fields[4], nil
		}
	}
	return "", errors.New("no cgroup v2 hierarchy is mounted on this host (cgroup v1 only): " +
		"container attribution and filter.cgroups need cgroup v2")
}
