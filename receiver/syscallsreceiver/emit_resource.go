//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/engine"
)

// putResource writes the group's resource attributes, those switched on
// in resource_attributes.
func (s *emitter) putResource(attrs pcommon.Map, g bpf.Group, info engine.GroupInfo) {
	ra := &s.cfg.ResourceAttributes
	if g == bpf.OverflowGroup {
		if ra.OtelMetricOverflow.Enabled {
			attrs.PutBool("otel.metric.overflow", true)
		}
		return
	}
	container := s.cfg.groupBy(GroupByContainer) && info.Cgroup != ""
	// Room for every attribute the group may have: one allocation.
	n := 0
	if g.TGID != 0 {
		n += 4
	}
	if g.TID != 0 {
		n += 2
	}
	if container {
		n += 3
	}
	attrs.EnsureCapacity(n)

	if g.TGID != 0 {
		if ra.ProcessPid.Enabled {
			attrs.PutInt("process.pid", int64(g.TGID))
		}
		if info.Comm != "" && ra.ProcessExecutableName.Enabled {
			attrs.PutStr("process.executable.name", info.Comm)
		}
		if info.Exe != "" && ra.ProcessExecutablePath.Enabled {
			attrs.PutStr("process.executable.path", info.Exe)
		}
		if info.PPID > 0 && ra.ProcessParentPid.Enabled {
			attrs.PutInt("process.parent_pid", info.PPID)
		}
	}
	if g.TID != 0 {
		if ra.ThreadID.Enabled {
			attrs.PutInt("thread.id", int64(g.TID))
		}
		if info.ThreadName != "" && ra.ThreadName.Enabled {
			attrs.PutStr("thread.name", info.ThreadName)
		}
	}
	if container {
		if ra.ProcessLinuxCgroup.Enabled {
			attrs.PutStr("process.linux.cgroup", info.Cgroup)
		}
		containerID, podUID := parseCgroup(info.Cgroup)
		if containerID != "" && ra.ContainerID.Enabled {
			attrs.PutStr("container.id", containerID)
		}
		if podUID != "" && ra.K8sPodUID.Enabled {
			attrs.PutStr("k8s.pod.uid", podUID)
		}
	}
}

// syscallName names a syscall number of an ABI, with the ABI's name.
func (s *emitter) syscallName(nr, abi uint32) (name, abiName string) {
	return s.names.NameABI(nr, abi)
}

// compareGroups orders resources by pid, thread, cgroup; overflow last
// (all its fields are ones). Plain comparisons with early exits: it runs
// for every comparison of the sort.
func compareGroups(a, b bpf.Group) int {
	switch {
	case a.TGID != b.TGID:
		return ascending(a.TGID < b.TGID)
	case a.TID != b.TID:
		return ascending(a.TID < b.TID)
	case a.CgroupID != b.CgroupID:
		return ascending(a.CgroupID < b.CgroupID)
	case a.StartNs != b.StartNs:
		return ascending(a.StartNs < b.StartNs)
	}
	return 0
}

// ascending is what a comparison returns for two values that differ: -1
// when the first is less, else 1.
func ascending(firstIsLess bool) int {
	if firstIsLess {
		return -1
	}
	return 1
}
