//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"cmp"
	"maps"
	"slices"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/filter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/engine"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"
)

func allGroupsConfig() *Config {
	cfg := createDefaultConfig()
	cfg.GroupBy = []string{GroupByContainer, GroupByProcess, GroupByThread}
	return cfg
}

const (
	dockerID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	podPath  = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0c2a7f6e_1b2c_4d5e_8f90_a1b2c3d4e5f6.slice/cri-containerd-" + dockerID + ".scope"
)

var (
	// Two threads of a process in a docker container, a 32-bit process in
	// a Kubernetes pod, and the overflow group.
	mainThread = bpf.Group{CgroupID: 11, StartNs: 5e9, TGID: 900, TID: 900}
	worker     = bpf.Group{CgroupID: 11, StartNs: 6e9, TGID: 900, TID: 901}
	legacy32   = bpf.Group{CgroupID: 12, StartNs: 7e9, TGID: 950, TID: 950}
)

func groupCounts() *bpf.Counts {
	return &bpf.Counts{
		Syscalls: map[bpf.SyscallKey]bpf.SyscallTotals{
			{Group: mainThread, Nr: nrRead}:                       {Calls: 10},
			{Group: worker, Nr: nrRead}:                           {Calls: 20},
			{Group: legacy32, Nr: 64, ABI: bpf.ABICompat}:         {Calls: 3}, // i386 getppid
			{Group: bpf.OverflowGroup, Nr: nrWrite}:               {Calls: 1000},
			{Group: bpf.OverflowGroup, Nr: 4, ABI: bpf.ABICompat}: {Calls: 5}, // i386 write
		},
		Errors: map[bpf.ErrorKey]uint64{
			{Group: worker, Nr: nrRead, Errno: 11}:             2, // EAGAIN
			{Group: bpf.OverflowGroup, Nr: nrOpenat, Errno: 2}: 7, // ENOENT
		},
	}
}

func groupInfos() map[bpf.Group]engine.GroupInfo {
	return map[bpf.Group]engine.GroupInfo{
		mainThread: {Comm: "nginx", Exe: "/usr/sbin/nginx", PPID: 1, ThreadName: "nginx", Cgroup: "/system.slice/docker-" + dockerID + ".scope"},
		worker:     {Comm: "nginx", Exe: "/usr/sbin/nginx", PPID: 1, ThreadName: "nginx: worker", Cgroup: "/system.slice/docker-" + dockerID + ".scope"},
		legacy32:   {Comm: "legacy32", ThreadName: "legacy32", Cgroup: podPath},
	}
}

// TestParseCgroup: container ids and pod UIDs from the runtimes' paths.
func TestParseCgroup(t *testing.T) {
	for path, want := range map[string][2]string{
		"/system.slice/docker-" + dockerID + ".scope":                             {dockerID, ""},
		"/docker/" + dockerID:                                                     {dockerID, ""},
		"/system.slice/crio-" + dockerID + ".scope":                               {dockerID, ""},
		"/machine.slice/libpod-" + dockerID + ".scope/container":                  {dockerID, ""},
		"/kubepods/burstable/pod0c2a7f6e-1b2c-4d5e-8f90-a1b2c3d4e5f6/" + dockerID: {dockerID, "0c2a7f6e-1b2c-4d5e-8f90-a1b2c3d4e5f6"},
		podPath: {dockerID, "0c2a7f6e-1b2c-4d5e-8f90-a1b2c3d4e5f6"},
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0c2a7f6e_1b2c_4d5e_8f90_a1b2c3d4e5f6.slice": {"", "0c2a7f6e-1b2c-4d5e-8f90-a1b2c3d4e5f6"},
		"/machine.slice/systemd-nspawn@debian.service":                                                                {"debian", ""},
		"/machine.slice/machine-fedora.scope":                                                                         {"fedora", ""},
		"/user.slice/user-1000.slice/session-2.scope":                                                                 {"", ""},
		"/": {"", ""},
	} {
		id, pod := parseCgroup(path)
		assert.Equal(t, want, [2]string{id, pod}, path)
	}
}

// emitWithBuilder is emit as it was before the points were written straight
// into pdata: through the generated Record functions and ResourceBuilder.
// TestEmitMatchesTheBuilder holds emit to it.
func emitWithBuilder(s *emitter, counts *bpf.Counts, infos map[bpf.Group]engine.GroupInfo, now pcommon.Timestamp) pmetric.Metrics {
	stats := map[bpf.Group][]syscallEntry{}
	errs := map[bpf.Group][]bpf.ErrorKey{}
	for k, st := range counts.Syscalls {
		stats[k.Group] = append(stats[k.Group], syscallEntry{k, st})
	}
	for k := range counts.Errors {
		errs[k.Group] = append(errs[k.Group], k)
	}
	groups := slices.Collect(maps.Keys(stats))
	for g := range errs {
		if _, ok := stats[g]; !ok {
			groups = append(groups, g)
		}
	}
	for _, g := range slices.SortedFunc(slices.Values(groups), compareGroups) {
		slices.SortFunc(stats[g], func(a, b syscallEntry) int {
			return cmp.Or(cmp.Compare(a.key.ABI, b.key.ABI), cmp.Compare(a.key.Nr, b.key.Nr))
		})
		slices.SortFunc(errs[g], func(a, b bpf.ErrorKey) int {
			return cmp.Or(cmp.Compare(a.ABI, b.ABI), cmp.Compare(a.Nr, b.Nr), cmp.Compare(a.Errno, b.Errno))
		})
		for _, e := range stats[g] {
			if e.totals.Calls > 0 {
				name, abi := s.syscallName(e.key.Nr, e.key.ABI)
				s.mb.RecordSyscallCallsDataPoint(now, int64(e.totals.Calls), name, abi)
			}
		}
		for _, k := range errs[g] {
			name, abi := s.syscallName(k.Nr, k.ABI)
			s.mb.RecordSyscallErrorsDataPoint(now, int64(counts.Errors[k]), name, abi, sysnames.ErrnoName(k.Errno))
		}
		s.mb.EmitForResource(metadata.WithResource(resourceWithBuilder(s, g, infos[g])),
			metadata.WithResourceMetrics(func(_ pcommon.Resource, ms pmetric.MetricSlice) {
				(&resourceEmitter{s: s, counts: counts, now: now, syscalls: stats[g]}).appendDurations(ms)
			}))
	}
	return s.mb.Emit()
}

func resourceWithBuilder(s *emitter, g bpf.Group, info engine.GroupInfo) pcommon.Resource {
	rb := s.mb.NewResourceBuilder()
	if g == bpf.OverflowGroup {
		rb.SetOtelMetricOverflow(true)
		return rb.Emit()
	}
	if g.TGID != 0 {
		rb.SetProcessPid(int64(g.TGID))
		if info.Comm != "" {
			rb.SetProcessExecutableName(info.Comm)
		}
		if info.Exe != "" {
			rb.SetProcessExecutablePath(info.Exe)
		}
		if info.PPID > 0 {
			rb.SetProcessParentPid(info.PPID)
		}
	}
	if g.TID != 0 {
		rb.SetThreadID(int64(g.TID))
		if info.ThreadName != "" {
			rb.SetThreadName(info.ThreadName)
		}
	}
	if s.cfg.groupBy(GroupByContainer) && info.Cgroup != "" {
		rb.SetProcessLinuxCgroup(info.Cgroup)
		containerID, podUID := parseCgroup(info.Cgroup)
		if containerID != "" {
			rb.SetContainerID(containerID)
		}
		if podUID != "" {
			rb.SetK8sPodUID(podUID)
		}
	}
	return rb.Emit()
}

// TestEmitMatchesTheBuilder: the points written straight into pdata are
// those the generated builder made, in the same order, whatever the
// mdatagen settings: metrics switched off, fewer attributes and each
// aggregation_strategy (points whose attributes become equal are merged,
// such as write on x86_64 and on i386 without syscall.abi), resource
// attributes switched off or filtered.
func TestEmitMatchesTheBuilder(t *testing.T) {
	snapshots := []struct {
		name   string
		cfg    func() *Config
		counts func() *bpf.Counts
		infos  map[bpf.Group]engine.GroupInfo
	}{
		{"process", createDefaultConfig, testCounts, testProcs()},
		{"system_wide", func() *Config { c := createDefaultConfig(); c.GroupBy = []string{}; return c },
			func() *bpf.Counts { return systemWide(testCounts()) }, nil},
		{"threads_containers_overflow", allGroupsConfig, groupCounts, groupInfos()},
	}
	onlyName := func(strategy string) func(*Config) {
		return func(c *Config) {
			c.Metrics.SyscallCalls.EnabledAttributes = []metadata.SyscallCallsMetricAttributeKey{metadata.SyscallCallsMetricAttributeKeySyscallName}
			c.Metrics.SyscallCalls.AggregationStrategy = strategy
			c.Metrics.SyscallErrors.EnabledAttributes = []metadata.SyscallErrorsMetricAttributeKey{metadata.SyscallErrorsMetricAttributeKeySyscallName}
			c.Metrics.SyscallErrors.AggregationStrategy = strategy
		}
	}
	settings := []struct {
		name   string
		change func(*Config)
	}{
		{"default", func(*Config) {}},
		{"calls_off", func(c *Config) { c.Metrics.SyscallCalls.Enabled = false }},
		{"errors_off", func(c *Config) { c.Metrics.SyscallErrors.Enabled = false }},
		{"duration_off", func(c *Config) { c.Metrics.SyscallDuration.Enabled = false }},
		{"only_name_sum", onlyName(metadata.AggregationStrategySum)},
		{"only_name_avg", onlyName(metadata.AggregationStrategyAvg)},
		{"only_name_min", onlyName(metadata.AggregationStrategyMin)},
		{"only_name_max", onlyName(metadata.AggregationStrategyMax)},
		{"no_attributes_avg", func(c *Config) {
			c.Metrics.SyscallCalls.EnabledAttributes = nil
			c.Metrics.SyscallCalls.AggregationStrategy = metadata.AggregationStrategyAvg
			c.Metrics.SyscallErrors.EnabledAttributes = []metadata.SyscallErrorsMetricAttributeKey{metadata.SyscallErrorsMetricAttributeKeyErrorType}
			c.Metrics.SyscallErrors.AggregationStrategy = metadata.AggregationStrategyAvg
		}},
		{"resource_attributes_off", func(c *Config) {
			ra := &c.ResourceAttributes
			for _, a := range []*metadata.ResourceAttributeConfig{&ra.ProcessPid, &ra.ProcessExecutablePath, &ra.ThreadName,
				&ra.ContainerID, &ra.K8sPodUID, &ra.OtelMetricOverflow} {
				a.Enabled = false
			}
		}},
		{"metrics_include", func(c *Config) {
			c.ResourceAttributes.ProcessExecutableName.MetricsInclude = []filter.Config{{Strict: "nginx"}}
		}},
		{"metrics_exclude", func(c *Config) {
			c.ResourceAttributes.ProcessExecutableName.MetricsExclude = []filter.Config{{Regex: "^cu"}}
		}},
	}
	for _, snap := range snapshots {
		for _, set := range settings {
			t.Run(snap.name+"/"+set.name, func(t *testing.T) {
				cfg := snap.cfg()
				set.change(cfg)
				now := pcommon.NewTimestampFromTime(testNow)
				want := emitWithBuilder(newTestEmitter(t, cfg), snap.counts(), snap.infos, now)
				got := newTestEmitter(t, cfg).emit(snap.counts(), snap.infos, now)
				require.NoError(t, pmetrictest.CompareMetrics(want, got))
			})
		}
	}
}

// TestEmitResourceAttributeSwitchedOff: resource attributes switched off in
// resource_attributes are left out; the others stay.
func TestEmitResourceAttributeSwitchedOff(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.ResourceAttributes.ProcessExecutablePath.Enabled = false
	cfg.ResourceAttributes.ProcessParentPid.Enabled = false
	md := newTestEmitter(t, cfg).emit(testCounts(), testProcs(), pcommon.NewTimestampFromTime(testNow))
	require.Equal(t, 4, md.ResourceMetrics().Len())
	assert.Equal(t, map[string]any{"process.pid": int64(1200), "process.executable.name": "nginx"},
		md.ResourceMetrics().At(0).Resource().Attributes().AsRaw())
}
