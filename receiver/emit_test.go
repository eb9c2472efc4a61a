//go:build linux && (amd64 || arm64)

package receiver

import (
	"cmp"
	"flag"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/filter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/receiver/internal/metadata"
)

// Regenerate with: go test ./receiver/ -run TestEmitGolden -update
// then read the diff: the golden files are the specification.
var update = flag.Bool("update", false, "rewrite testdata/golden/*.yaml from the current output of emit")

var (
	// When the programs were attached: the start of every cumulative point.
	testStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// When the counters were read.
	testNow = time.Date(2026, 1, 2, 3, 5, 35, 123456789, time.UTC)
)

// amd64 syscall numbers used below.
const (
	nrRead      = 0
	nrWrite     = 1
	nrGetpid    = 39
	nrExecve    = 59
	nrExitGroup = 231
	nrOpenat    = 257
	nrUnnamed   = 999 // no syscall has this number: exported as syscall_999
)

// testCounts is a snapshot of four processes:
//   - 1200 nginx, alive, with exe and ppid;
//   - 3400 curl, exited (only its comm is known), whose write failed with
//     two errnos without a name, 4000 and 4001, that merge into _OTHER;
//   - 5600, alive, with spaces and parentheses in comm and exe path;
//   - 7800, exited unseen: nothing but its pid is known.
func testCounts() *bpf.Counts {
	return &bpf.Counts{
		Syscalls: map[bpf.SyscallKey]bpf.Stats{
			{Group: pg(1200), Nr: nrRead}:      {Calls: 100, DurationNs: 1_500_000_000, MinNs: 1_000, MaxNs: 1_000_000_000},
			{Group: pg(1200), Nr: nrOpenat}:    {Calls: 40, DurationNs: 250, MinNs: 5, MaxNs: 10},
			{Group: pg(1200), Nr: nrUnnamed}:   {Calls: 3}, // no duration: no point
			{Group: pg(3400), Nr: nrWrite}:     {Calls: 7, DurationNs: 7_000, MinNs: 1_000, MaxNs: 1_000},
			{Group: pg(3400), Nr: nrExecve}:    {Calls: 1, DurationNs: 2_000_000},
			{Group: pg(5600), Nr: nrGetpid}:    {Calls: 5, DurationNs: 123_456_789},
			{Group: pg(7800), Nr: nrExitGroup}: {Calls: 1}, // never returns
		},
		// Bucket indexes at scale 3: 1 µs is in -160, 1 s in -1, 5 ns in -221,
		// 10 ns in -213.
		Durations: map[bpf.SyscallKey]bpf.Buckets{
			{Group: pg(1200), Nr: nrRead}:   {-160: 99, -1: 1},              // 99 × ~1 µs, one 1 s read
			{Group: pg(1200), Nr: nrOpenat}: {-221: 10, -214: 20, -213: 10}, // 5 to 10 ns
			{Group: pg(3400), Nr: nrWrite}:  {-160: 7},
		},
		Errors: map[bpf.ErrorKey]uint64{
			{Group: pg(1200), Nr: nrOpenat, Errno: 2}:   12, // ENOENT
			{Group: pg(1200), Nr: nrRead, Errno: 11}:    30, // EAGAIN
			{Group: pg(1200), Nr: nrRead, Errno: 512}:   2,  // ERESTARTSYS
			{Group: pg(1200), Nr: nrUnnamed, Errno: 38}: 3,  // ENOSYS
			{Group: pg(3400), Nr: nrWrite, Errno: 4000}: 4,  // _OTHER
			{Group: pg(3400), Nr: nrWrite, Errno: 4001}: 1,  // _OTHER too
			{Group: pg(3400), Nr: nrExecve, Errno: 13}:  1,  // EACCES
		},
	}
}

// pg is the group of a process counted per process.
func pg(pid uint32) bpf.Group { return bpf.Group{TGID: pid, StartNs: uint64(pid) * 1e7} }

func testProcs() map[bpf.Group]groupInfo {
	return map[bpf.Group]groupInfo{
		pg(1200): {Comm: "nginx", Exe: "/usr/sbin/nginx", PPID: 1},
		pg(3400): {Comm: "curl"},
		pg(5600): {Comm: "my (odd) app", Exe: "/opt/my app/bin/app", PPID: 1200},
		pg(7800): {},
	}
}

// systemWide is what the kernel reports for testCounts when counting
// system-wide: the same totals, all under TGID 0.
func systemWide(c *bpf.Counts) *bpf.Counts {
	out := &bpf.Counts{Syscalls: map[bpf.SyscallKey]bpf.Stats{}, Errors: map[bpf.ErrorKey]uint64{}, Durations: map[bpf.SyscallKey]bpf.Buckets{}}
	for k, v := range c.Syscalls {
		k.Group = bpf.Group{}
		prev := out.Syscalls[k]
		out.Syscalls[k] = bpf.Stats{Calls: prev.Calls + v.Calls, DurationNs: prev.DurationNs + v.DurationNs,
			MinNs: max(prev.MinNs, v.MinNs), MaxNs: max(prev.MaxNs, v.MaxNs)}
	}
	for k, v := range c.Durations {
		k.Group = bpf.Group{}
		if out.Durations[k] == nil {
			out.Durations[k] = bpf.Buckets{}
		}
		for b, n := range v {
			out.Durations[k][b] += n
		}
	}
	for k, v := range c.Errors {
		k.Group = bpf.Group{}
		out.Errors[k] += v
	}
	return out
}

// newTestScraper builds a scraper without eBPF: amd64 names, whatever the
// host, and a builder whose start time is fixed.
func newTestScraper(t *testing.T, cfg *Config) *syscallsScraper {
	t.Helper()
	names, err := sysnames.ForArch("amd64")
	require.NoError(t, err)
	set := receivertest.NewNopSettings(metadata.Type)
	return &syscallsScraper{
		cfg:       cfg,
		settings:  set,
		procfs:    t.TempDir(),
		names:     names,
		mb:        metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set, metadata.WithStartTime(pcommon.NewTimestampFromTime(testStart))),
		startTime: pcommon.NewTimestampFromTime(testStart),
	}
}

func TestEmitGolden(t *testing.T) {
	noDuration := createDefaultConfig()
	noDuration.Metrics.SyscallDuration.Enabled = false
	systemCfg := createDefaultConfig()
	systemCfg.GroupBy = []string{}

	tests := []struct {
		name   string
		cfg    *Config
		counts *bpf.Counts
		procs  map[bpf.Group]groupInfo
	}{
		{name: "process", cfg: createDefaultConfig(), counts: testCounts(), procs: testProcs()},
		{name: "system_wide", cfg: systemCfg, counts: systemWide(testCounts()), procs: nil},
		{name: "duration_disabled", cfg: noDuration, counts: testCounts(), procs: testProcs()},
		{name: "threads_containers_overflow", cfg: allGroupsConfig(), counts: groupCounts(), procs: groupInfos()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestScraper(t, tt.cfg)
			actual := s.emit(tt.counts, tt.procs, pcommon.NewTimestampFromTime(testNow))
			path := filepath.Join("testdata", "golden", tt.name+".yaml")
			if *update {
				// The golden file keeps the real timestamps: the start
				// time is part of what is checked.
				out := pmetric.NewMetrics()
				actual.CopyTo(out)
				require.NoError(t, golden.WriteMetricsToFile(path, out, golden.SkipMetricTimestampNormalization()))
				t.Logf("wrote %s", path)
			}
			expected, err := golden.ReadMetrics(path)
			require.NoError(t, err)
			// The golden files are sorted by attributes; the order emit
			// produces is checked by TestEmitOrder.
			require.NoError(t, pmetrictest.CompareMetrics(expected, actual,
				pmetrictest.IgnoreResourceMetricsOrder(),
				pmetrictest.IgnoreMetricDataPointsOrder(),
			))
		})
	}
}

// TestEmitOrder: emit is deterministic, whatever the map iteration order:
// resources by pid, points by syscall number then errno.
func TestEmitOrder(t *testing.T) {
	s := newTestScraper(t, createDefaultConfig())
	var first pmetric.Metrics
	for i := range 5 {
		md := s.emit(testCounts(), testProcs(), pcommon.NewTimestampFromTime(testNow))
		if i == 0 {
			first = md
			continue
		}
		// Also shows that nothing is carried over from one emit to
		// the next.
		require.NoError(t, pmetrictest.CompareMetrics(first, md), "emit %d", i)
	}

	var pids []int64
	for _, rm := range first.ResourceMetrics().All() {
		pid, ok := rm.Resource().Attributes().Get("process.pid")
		require.True(t, ok)
		pids = append(pids, pid.Int())
	}
	assert.Equal(t, []int64{1200, 3400, 5600, 7800}, pids)

	nginx := first.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	require.Equal(t, 3, nginx.Len())
	var calls, errs []string
	for _, dp := range nginx.At(0).Sum().DataPoints().All() {
		name, _ := dp.Attributes().Get("syscall.name")
		calls = append(calls, name.Str())
	}
	for _, dp := range nginx.At(1).Sum().DataPoints().All() {
		name, _ := dp.Attributes().Get("syscall.name")
		errType, _ := dp.Attributes().Get("error.type")
		errs = append(errs, name.Str()+"/"+errType.Str())
	}
	assert.Equal(t, []string{"read", "openat", "syscall_999"}, calls)
	assert.Equal(t, []string{"read/EAGAIN", "read/ERESTARTSYS", "openat/ENOENT", "syscall_999/ENOSYS"}, errs)
}

// TestEmitTimestamps: every point starts when the programs were attached
// and ends when the counters were read, in every mode.
func TestEmitTimestamps(t *testing.T) {
	for _, procs := range []map[bpf.Group]groupInfo{testProcs(), nil} {
		s := newTestScraper(t, createDefaultConfig())
		counts := testCounts()
		if procs == nil {
			counts = systemWide(counts)
		}
		md := s.emit(counts, procs, pcommon.NewTimestampFromTime(testNow))
		require.Positive(t, md.DataPointCount())
		for _, rm := range md.ResourceMetrics().All() {
			for _, m := range rm.ScopeMetrics().At(0).Metrics().All() {
				if m.Name() == "syscall.duration" {
					require.Equal(t, pmetric.MetricTypeExponentialHistogram, m.Type())
					assert.Equal(t, pmetric.AggregationTemporalityCumulative, m.ExponentialHistogram().AggregationTemporality())
					for _, dp := range m.ExponentialHistogram().DataPoints().All() {
						assert.Equal(t, testStart, dp.StartTimestamp().AsTime(), m.Name())
						assert.Equal(t, testNow, dp.Timestamp().AsTime(), m.Name())
					}
					continue
				}
				assert.Equal(t, pmetric.MetricTypeSum, m.Type(), m.Name())
				assert.True(t, m.Sum().IsMonotonic(), m.Name())
				assert.Equal(t, pmetric.AggregationTemporalityCumulative, m.Sum().AggregationTemporality(), m.Name())
				for _, dp := range m.Sum().DataPoints().All() {
					assert.Equal(t, testStart, dp.StartTimestamp().AsTime(), m.Name())
					assert.Equal(t, testNow, dp.Timestamp().AsTime(), m.Name())
				}
			}
		}
	}
}

func TestEmitNothing(t *testing.T) {
	s := newTestScraper(t, createDefaultConfig())
	empty := &bpf.Counts{Syscalls: map[bpf.SyscallKey]bpf.Stats{}, Errors: map[bpf.ErrorKey]uint64{}}
	assert.Zero(t, s.emit(empty, map[bpf.Group]groupInfo{}, pcommon.NewTimestampFromTime(testNow)).ResourceMetrics().Len())
	assert.Zero(t, s.emit(empty, nil, pcommon.NewTimestampFromTime(testNow)).ResourceMetrics().Len())
}

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
		Syscalls: map[bpf.SyscallKey]bpf.Stats{
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

func groupInfos() map[bpf.Group]groupInfo {
	return map[bpf.Group]groupInfo{
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
func emitWithBuilder(s *syscallsScraper, counts *bpf.Counts, infos map[bpf.Group]groupInfo, now pcommon.Timestamp) pmetric.Metrics {
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
			if e.stats.Calls > 0 {
				name, abi := s.syscallName(e.key.Nr, e.key.ABI)
				s.mb.RecordSyscallCallsDataPoint(now, int64(e.stats.Calls), name, abi)
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

func resourceWithBuilder(s *syscallsScraper, g bpf.Group, info groupInfo) pcommon.Resource {
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
		infos  map[bpf.Group]groupInfo
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
				want := emitWithBuilder(newTestScraper(t, cfg), snap.counts(), snap.infos, now)
				got := newTestScraper(t, cfg).emit(snap.counts(), snap.infos, now)
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
	md := newTestScraper(t, cfg).emit(testCounts(), testProcs(), pcommon.NewTimestampFromTime(testNow))
	require.Equal(t, 4, md.ResourceMetrics().Len())
	assert.Equal(t, map[string]any{"process.pid": int64(1200), "process.executable.name": "nginx"},
		md.ResourceMetrics().At(0).Resource().Attributes().AsRaw())
}
