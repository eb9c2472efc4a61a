package syscallsreceiver

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/internal/cgroupv2"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"
)

// loadConfig reads the receiver config named syscalls/<name> from
// testdata/config.yaml the way the collector does: the factory's default
// config, overwritten by Unmarshal, then validated recursively. It returns
// the errors of both stages separately.
func loadConfig(t *testing.T, name string) (cfg *Config, unmarshalErr, validateErr error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	id := component.NewIDWithName(metadata.Type, name).String()
	require.True(t, cm.IsSet(id), "testdata/config.yaml has no %s", id)
	sub, err := cm.Sub(id)
	require.NoError(t, err)

	cfg = NewFactory().CreateDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return cfg, err, nil
	}
	return cfg, nil, confmap.Validate(cfg)
}

func TestFactoryDefaultConfig(t *testing.T) {
	cfg, ok := NewFactory().CreateDefaultConfig().(*Config)
	require.True(t, ok, "the default config is a %T", NewFactory().CreateDefaultConfig())
	assert.Equal(t, metadata.Type, NewFactory().Type())
	assert.Equal(t, createDefaultConfig(), cfg)
	assert.NoError(t, confmap.Validate(cfg))
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, uerr, verr := loadConfig(t, "defaults")
	require.NoError(t, uerr)
	require.NoError(t, verr)

	assert.Equal(t, 10*time.Second, cfg.CollectionInterval)
	assert.Equal(t, time.Second, cfg.InitialDelay, "scraperhelper's default initial_delay")
	assert.Zero(t, cfg.Timeout)
	assert.Equal(t, []string{"process"}, cfg.GroupBy)
	assert.True(t, cfg.groupBy(GroupByProcess))
	assert.True(t, cfg.ExcludeSelf)
	assert.True(t, cfg.Metrics.SyscallCalls.Enabled)
	assert.True(t, cfg.Metrics.SyscallErrors.Enabled)
	assert.True(t, cfg.Metrics.SyscallDuration.Enabled)
	for name, enabled := range map[string]bool{
		"process.pid":             cfg.ResourceAttributes.ProcessPid.Enabled,
		"process.parent_pid":      cfg.ResourceAttributes.ProcessParentPid.Enabled,
		"process.executable.name": cfg.ResourceAttributes.ProcessExecutableName.Enabled,
		"process.executable.path": cfg.ResourceAttributes.ProcessExecutablePath.Enabled,
	} {
		assert.True(t, enabled, "resource attribute %s", name)
	}
	// An empty section changes nothing at all.
	assert.Equal(t, createDefaultConfig(), cfg)
}

// TestLoadConfigHook: a hook can be forced, e.g. to compare paths.
func TestLoadConfigHook(t *testing.T) {
	cfg, uerr, verr := loadConfig(t, "raw_tracepoint")
	require.NoError(t, uerr)
	require.NoError(t, verr)
	opts, err := cfg.bpfOptions()
	require.NoError(t, err)
	assert.Equal(t, bpf.HookRawTracepoint, opts.Hook)

	opts, err = createDefaultConfig().bpfOptions()
	require.NoError(t, err)
	assert.Equal(t, bpf.HookAuto, opts.Hook, "auto tries every hook")
}

// TestLoadConfigSampled: duration.sample_one_in reaches the kernel's
// options; the default times every call.
func TestLoadConfigSampled(t *testing.T) {
	cfg, uerr, verr := loadConfig(t, "sampled")
	require.NoError(t, uerr)
	require.NoError(t, verr)
	opts, err := cfg.bpfOptions()
	require.NoError(t, err)
	assert.EqualValues(t, 16, opts.DurationSampleOneIn)
	assert.Equal(t, bpf.MaxDurationScale, opts.DurationScale, "the scale keeps its default")

	opts, err = createDefaultConfig().bpfOptions()
	require.NoError(t, err)
	assert.EqualValues(t, 1, opts.DurationSampleOneIn, "every call is timed by default")
}

// TestLoadConfigEmptyGroupBy: `group_by: []` must replace the default
// [process] with an empty list (system-wide), not be merged into it or
// ignored.
func TestLoadConfigEmptyGroupBy(t *testing.T) {
	cfg, uerr, verr := loadConfig(t, "system_wide")
	require.NoError(t, uerr)
	require.NoError(t, verr)
	assert.Empty(t, cfg.GroupBy)
	assert.False(t, cfg.groupBy(GroupByProcess))
	// The rest keeps its defaults.
	assert.Equal(t, 10*time.Second, cfg.CollectionInterval)
	assert.True(t, cfg.ExcludeSelf)
}

// TestLoadConfigNullGroupBy: `group_by:` without a value (YAML null) is
// unset, unlike `group_by: []`, and keeps the default.
func TestLoadConfigNullGroupBy(t *testing.T) {
	cfg, uerr, verr := loadConfig(t, "null_group_by")
	require.NoError(t, uerr)
	require.NoError(t, verr)
	assert.Equal(t, []string{"process"}, cfg.GroupBy)
}

func TestLoadConfigFull(t *testing.T) {
	cfg, uerr, verr := loadConfig(t, "full")
	require.NoError(t, uerr)
	require.NoError(t, verr)

	assert.Equal(t, 30*time.Second, cfg.CollectionInterval)
	assert.Equal(t, 2*time.Second, cfg.InitialDelay)
	assert.Equal(t, 5*time.Second, cfg.Timeout)
	assert.Equal(t, []string{"process"}, cfg.GroupBy)
	assert.False(t, cfg.ExcludeSelf)
	assert.True(t, cfg.Metrics.SyscallCalls.Enabled, "not mentioned: stays enabled")
	assert.True(t, cfg.Metrics.SyscallErrors.Enabled)
	assert.False(t, cfg.Metrics.SyscallDuration.Enabled)
	assert.False(t, cfg.ResourceAttributes.ProcessExecutablePath.Enabled)
	assert.True(t, cfg.ResourceAttributes.ProcessExecutableName.Enabled, "not mentioned: stays enabled")
}

// TestLoadConfigAllOptions: every group_by, filter and bound option decodes and validates.
func TestLoadConfigAllOptions(t *testing.T) {
	cfg, uerr, verr := loadConfig(t, "all_groups")
	require.NoError(t, uerr)
	require.NoError(t, verr)
	assert.Equal(t, []string{"container", "process", "thread"}, cfg.GroupBy)
	assert.Equal(t, 500, cfg.MaxGroups)
	assert.Equal(t, FilterConfig{
		PIDs: []int{1, 2}, Comms: []string{"nginx", "postgres"}, Cgroups: []string{"/"},
		Syscalls: []string{"read", "write", "openat"}, ExcludeSyscalls: []string{"futex"},
	}, cfg.Filter)

	opts, err := cfg.bpfOptions()
	require.NoError(t, err)
	assert.True(t, opts.GroupByCgroup && opts.GroupByProcess && opts.GroupByThread)
	assert.EqualValues(t, 500, opts.MaxGroups)
	assert.Equal(t, []uint32{1, 2}, opts.Filter.PIDs)
	root, err := cgroupv2.Root()
	require.NoError(t, err)
	assert.Equal(t, []string{root}, opts.Filter.CgroupDirs)
	require.NotNil(t, opts.Filter.Syscalls)
	assert.False(t, opts.Filter.Syscalls.AllowHighSyscalls, "an allow-list excludes unknown numbers")
}

// TestSyscallSelection: names select their number in every ABI's table.
func TestSyscallSelection(t *testing.T) {
	amd64, err := sysnames.ForArch("amd64")
	require.NoError(t, err)
	sel := syscallSelection(amd64, []string{"getppid", "openat"}, nil)
	count := func(abi int) (n int) {
		for _, on := range sel.Selected[abi] {
			if on {
				n++
			}
		}
		return n
	}
	assert.True(t, sel.Selected[bpf.ABINative][110], "getppid is 110 on x86_64")
	assert.True(t, sel.Selected[bpf.ABINative][257], "openat is 257 on x86_64")
	assert.True(t, sel.Selected[bpf.ABICompat][64], "getppid is 64 on i386")
	assert.True(t, sel.Selected[bpf.ABICompat][295], "openat is 295 on i386")
	assert.Equal(t, 2, count(bpf.ABINative))
	assert.Equal(t, 2, count(bpf.ABICompat))
	assert.False(t, sel.AllowHighSyscalls)

	sel = syscallSelection(amd64, nil, []string{"futex"})
	assert.False(t, sel.Selected[bpf.ABINative][202], "futex is 202 on x86_64")
	assert.False(t, sel.Selected[bpf.ABICompat][240], "futex is 240 on i386")
	assert.Equal(t, bpf.SyscallSlots-1, count(bpf.ABINative))
	assert.True(t, sel.AllowHighSyscalls, "an exclude-list keeps unknown numbers")
}

// TestLoadConfigInvalid: every invalid value is rejected, at the stage the
// collector would reject it, with a message that names the key.
func TestLoadConfigInvalid(t *testing.T) {
	tests := []struct {
		name string
		// atUnmarshal: rejected while decoding; otherwise by validation.
		atUnmarshal bool
		// want are substrings of the error message.
		want []string
	}{
		{name: "unknown_group_by", want: []string{"group_by", `"pid"`, "process"}},
		{name: "duplicate_group_by", want: []string{"group_by", `"process" is listed twice`}},
		{name: "unknown_key", atUnmarshal: true, want: []string{"invalid keys", "grup_by"}},
		{name: "negative_interval", want: []string{"collection_interval", "requires positive value"}},
		{name: "zero_interval", want: []string{"collection_interval", "requires positive value"}},
		{name: "all_metrics_disabled", want: []string{"metrics", "syscall.calls", "syscall.errors", "syscall.duration", "all disabled"}},
		{name: "wrong_type", atUnmarshal: true, want: []string{"exclude_self", "expected type 'bool'"}},
		{name: "unknown_metric", atUnmarshal: true, want: []string{"metrics", "invalid keys", "syscall.open"}},
		{name: "unknown_filter_syscall", want: []string{`filter.syscalls: unknown syscall "frobnicate" on `}},
		{name: "unknown_exclude_syscall", want: []string{`filter.exclude_syscalls: unknown syscall "futexx" on `}},
		{name: "empty_filter", want: []string{"filter.comms: an empty list would count nothing; remove the key to count everything"}},
		{name: "duplicate_filter", want: []string{"filter.pids: 42 is listed twice"}},
		{name: "both_lists", want: []string{`filter: "write" is both in syscalls and in exclude_syscalls`}},
		{name: "bad_pid", want: []string{"filter.pids: 0 is not a valid pid"}},
		{name: "long_comm", want: []string{`filter.comms: "a-comm-longer-than-15": a comm is 1 to 15 bytes`}},
		{name: "missing_cgroup", want: []string{`filter.cgroups: "/no/such/cgroup-for-syscalls-test" does not exist in the cgroup v2 hierarchy mounted at /`}},
		{name: "relative_cgroup", want: []string{`filter.cgroups: "system.slice": a cgroup path starts with / (the cgroup v2 root)`}},
		{name: "zero_max_groups", want: []string{"max_groups: 0 is out of range: it must be between 1 and 100000"}},
		{name: "huge_max_groups", want: []string{"max_groups: 100000000 is out of range: it must be between 1 and 100000"}},
		{name: "unknown_filter_key", atUnmarshal: true, want: []string{"filter", "invalid keys: pid"}},
		{name: "bad_scale", want: []string{"duration.max_scale: 4 is out of range: it must be between 0 and 3"}},
		{name: "negative_scale", want: []string{"duration.max_scale: -1 is out of range: it must be between 0 and 3"}},
		{name: "zero_sample", want: []string{"duration.sample_one_in: 0 is out of range: 1 times every call, N (up to 65536) about 1 call in N"}},
		{name: "huge_sample", want: []string{"duration.sample_one_in: 1000000 is out of range"}},
		{name: "unknown_hook", want: []string{`hook: unknown value "kprobe" (valid values: auto, tp_btf, raw_tracepoint, tracepoint)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, uerr, verr := loadConfig(t, tt.name)
			err := verr
			if tt.atUnmarshal {
				require.Error(t, uerr, "accepted by Unmarshal")
				err = uerr
			} else {
				require.NoError(t, uerr, "rejected by Unmarshal instead of Validate")
				require.Error(t, verr, "accepted by Validate")
			}
			t.Logf("error: %v", err)
			for _, want := range tt.want {
				assert.ErrorContains(t, err, want)
			}
		})
	}
}

// TestValidateReportsEveryProblem: Validate reports all invalid values at
// once, not just the first, one line per problem.
func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.GroupBy = []string{"pid", "process", "process"}
	cfg.Metrics.SyscallCalls.Enabled = false
	cfg.Metrics.SyscallErrors.Enabled = false
	cfg.Metrics.SyscallDuration.Enabled = false
	err := cfg.Validate()
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, `group_by: unknown value "pid"`)
	assert.Contains(t, msg, `group_by: "process" is listed twice`)
	assert.Contains(t, msg, "all disabled")
	assert.Equal(t, 3, len(strings.Split(msg, "\n")), "one line per problem:\n%s", msg)

	// Any one metric enabled is enough.
	for _, enable := range []func(c *Config){
		func(c *Config) { c.Metrics.SyscallCalls.Enabled = true },
		func(c *Config) { c.Metrics.SyscallErrors.Enabled = true },
		func(c *Config) { c.Metrics.SyscallDuration.Enabled = true },
	} {
		cfg := createDefaultConfig()
		cfg.Metrics.SyscallCalls.Enabled = false
		cfg.Metrics.SyscallErrors.Enabled = false
		cfg.Metrics.SyscallDuration.Enabled = false
		enable(cfg)
		assert.NoError(t, cfg.Validate())
	}
}
