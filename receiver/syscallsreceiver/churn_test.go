//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/internal/workload"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// TestMaxGroupsOverflow: with max_groups 5, no export has more than 5
// groups plus the overflow resource, and the sum of getppid calls over all
// resources is exactly what the workloads made.
func TestMaxGroupsOverflow(t *testing.T) {
	kerneltest.Require(t)
	bin := workloadBin(t)
	comm := uniqueComm("ovf")
	cfg := testConfig()
	cfg.MaxGroups = 5
	cfg.Filter.Comms = []string{comm} // the workloads only
	s := liveScraper(t, cfg)

	const n = 50
	want := map[int64]int64{} // pid → its getppid calls
	var total, exported, overflow int64
	var exports, overflowed, maxResources int
	seen := map[int64]bool{}
	check := func() {
		rs := liveScrape(t, s)
		exports++
		maxResources = max(maxResources, len(rs))
		require.LessOrEqual(t, len(rs), cfg.MaxGroups+1, "more than max_groups groups plus the overflow resource")
		overflows := 0
		for _, r := range rs {
			if r.overflow() {
				overflows++
				assert.Equal(t, map[string]any{"otel.metric.overflow": true}, r.attrs)
				overflow = r.native("getppid") // cumulative since start
				continue
			}
			pid := r.int("process.pid")
			require.Contains(t, want, pid, "a process that is not a workload: %v", r.attrs)
			require.False(t, seen[pid], "pid %d exported twice: its exit was seen, so it is final once exported", pid)
			seen[pid] = true
			if !assert.Equal(t, want[pid], r.native("getppid"), "pid %d: a group admitted to the maps has all its calls", pid) {
				r.log(t)
			}
			exported += r.native("getppid")
		}
		require.LessOrEqual(t, overflows, 1)
	}
	for i := range n {
		spec := workload.Spec{Getppid: 1000 + i, Comm: comm}
		pid, err := workload.Run(bin, spec)
		require.NoError(t, err)
		want[int64(pid)] = int64(spec.Getppid)
		total += int64(spec.Getppid)
		if i%10 == 9 {
			check()
		}
	}
	check()
	for pid := range want {
		if !seen[pid] {
			overflowed++
		}
	}
	t.Logf("%d workloads, %d exports (at most %d resources each): %d processes with their own resource, %d in overflow; "+
		"getppid %d in own resources + %d in overflow = %d", n, exports, maxResources, len(seen), overflowed, exported, overflow, exported+overflow)
	assert.Equal(t, total, exported+overflow, "the sum over all resources is exact")
	assert.Positive(t, overflow, "max_groups 5 must have overflowed")
}

// TestChurn: 20,000 short-lived processes with distinct names, scraped every
// 100 ms while they come and go: no export holds more than max_groups+1
// resources, every count is exported and exact in total, and nothing of
// them stays in the kernel maps or in the receiver.
func TestChurn(t *testing.T) {
	kerneltest.Require(t)
	bin := workloadBin(t)
	cg := newLiveCgroups(t)
	box := cg.make("/churn")
	cfg := testConfig()
	cfg.MaxGroups = 500
	cfg.Filter.Cgroups = []string{box} // the spawner and its children only
	s := liveScraper(t, cfg)

	spec := workload.Spec{Fork: 20000, ForkMod: 7, ForkPrefix: "c"}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)

	type key struct {
		pid  int64
		comm string
	}
	type seen struct {
		getppid, exitGroup int64
		exports            int
		lastExport         int
	}
	// A process is known by pid and name; its name may be missing from an
	// export made while it was exiting, and appear in the next one. Pids
	// wrap around (pid_max) during the run: a nameless export is the same
	// process only if it is adjacent to the named one.
	last := map[key]*seen{}
	byPid := map[int64]key{} // the latest process seen with each pid
	var exports int
	find := func(pid int64, comm string) *seen {
		prev, ok := byPid[pid]
		if ok && (prev.comm == comm || ((prev.comm == "" || comm == "") && last[prev].lastExport >= exports-1)) {
			v := last[prev]
			if prev.comm == "" && comm != "" { // the name arrived
				delete(last, prev)
				prev.comm = comm
				last[prev] = v
				byPid[pid] = prev
			}
			return v
		}
		k := key{pid, comm}
		last[k], byPid[pid] = &seen{}, k
		return last[k]
	}
	var overflowGetppid, overflowExit int64
	var maxResources, overflowExports int
	var peakHeap uint64
	var scrapeTime time.Duration
	scrape := func() {
		began := time.Now()
		rs := liveScrape(t, s)
		scrapeTime += time.Since(began)
		exports++
		maxResources = max(maxResources, len(rs))
		require.LessOrEqual(t, len(rs), cfg.MaxGroups+1, "export %d", exports)
		for _, r := range rs {
			if r.overflow() {
				overflowExports++
				overflowGetppid, overflowExit = r.native("getppid"), r.native("exit_group")
				continue
			}
			k := key{r.int("process.pid"), r.str("process.executable.name")}
			v := find(k.pid, k.comm)
			// Cumulative: a later export of the same process never has less.
			require.GreaterOrEqual(t, r.native("getppid"), v.getppid, "%v", k)
			v.getppid, v.exitGroup = r.native("getppid"), r.native("exit_group")
			v.exports++
			v.lastExport = exports
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, ms.HeapInuse)
	}

	p, err := workload.Start(cg.in(workload.Command(bin, spec), box))
	require.NoError(t, err)
	started := time.Now()
	done := make(chan error, 1)
	go func() { done <- p.Finish() }()
	tick := time.NewTicker(scrapeEvery)
	defer tick.Stop()
	for running := true; running; {
		select {
		case err := <-done:
			require.NoError(t, err)
			running = false
		case <-tick.C:
			scrape()
		}
	}
	ran := time.Since(started)
	scrape() // the last children and the spawner, dead
	scrape() // nothing of them any more
	runtime.GC()
	runtime.ReadMemStats(&after)

	var getppid, exitGroup int64
	var named, exact, nameless, maxExports int
	for k, v := range last {
		getppid += v.getppid
		exitGroup += v.exitGroup
		if k.pid == int64(p.Pid()) {
			continue // the spawner, alive through every scrape
		}
		maxExports = max(maxExports, v.exports)
		require.LessOrEqual(t, v.exports, 2, "%v: exported at most while alive and once after its exit", k)
		if i, ok := childIndex(k.comm); ok {
			named++
			// A child that started past max_groups counts in the
			// overflow group until a scrape frees room: its calls may be
			// split between the two, never more than it made.
			require.LessOrEqual(t, v.getppid, int64(spec.ForkGetppid(i)), "%v", k)
			if v.getppid == int64(spec.ForkGetppid(i)) {
				exact++
			}
		} else if k.comm == "" {
			nameless++
		}
	}
	t.Logf("%d processes in %v (%.0f/s); %d exports (%v scraping in all), at most %d resources in one, %d with an overflow resource",
		spec.Fork, ran.Round(time.Millisecond), float64(spec.Fork)/ran.Seconds(), exports, scrapeTime.Round(time.Millisecond),
		maxResources, overflowExports)
	t.Logf("children with their own resource: %d named c<i> (%d of them with all their calls), %d without a name; "+
		"at most %d exports of one child", named, exact, nameless, maxExports)
	t.Logf("getppid: %d in own resources + %d in overflow (want %d); exit_group: %d + %d (want %d)",
		getppid, overflowGetppid, spec.TotalGetppid(), exitGroup, overflowExit, spec.Fork+1)
	t.Logf("collector heap in use: %.1f MiB before, %.1f MiB peak after a scrape, %.1f MiB after (GC'd)",
		mib(before.HeapInuse), mib(peakHeap), mib(after.HeapInuse))
	assert.EqualValues(t, spec.TotalGetppid(), getppid+overflowGetppid, "every getppid call is exported")
	assert.EqualValues(t, spec.Fork+1, exitGroup+overflowExit, "every process's exit_group is exported")

	// Nothing of them stays: the filter counts nobody else.
	assert.Empty(t, s.engine.Tracked(), "the receiver still remembers groups")
	counts, err := s.engine.Counters().ReadCounts()
	require.NoError(t, err)
	assert.Empty(t, counts.Groups, "groups still in the kernel map")
	for k := range counts.Syscalls {
		require.Equal(t, bpf.OverflowGroup, k.Group, "counters still in the kernel")
	}
	exited, err := s.engine.Counters().ExitedTasks()
	require.NoError(t, err)
	for tid, task := range exited {
		_, child := childIndex(task.Comm)
		require.False(t, child, "exit record of %d (%s) not forgotten", tid, task.Comm)
	}
	assert.Zero(t, counts.Dropped)
}

// childIndex parses the comm TestChurn's children have: c<i>.
func childIndex(comm string) (int, bool) {
	digits, ok := strings.CutPrefix(comm, "c")
	i, err := strconv.Atoi(digits)
	return i, ok && err == nil
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
