//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seed22255693/syscallsreceiver/internal/workload"
	"github.com/seed22255693/syscallsreceiver/receiver/syscallsreceiver/internal/metadata"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// TestGroupByThread: one resource per thread, with thread.id and
// thread.name, each with exactly its thread's calls; together they make
// the process's.
func TestGroupByThread(t *testing.T) {
	kerneltest.Require(t)
	bin := workloadBin(t)
	cfg := testConfig()
	cfg.GroupBy = []string{GroupByThread}
	s := liveScraper(t, cfg)

	spec := workload.Spec{Getppid: 100, WriteDevNull: 7, Threads: []int{11, 222, 3333, 4}}
	r := runWorkload(t, workload.Command(bin, spec))
	require.Len(t, r.TIDs, len(spec.Threads))

	rs := withAttr(liveScrape(t, s), "process.pid", int64(r.Pid))
	byTID := map[int64]liveResource{}
	var sum int64
	for _, res := range rs {
		tid := res.int("thread.id")
		require.NotZero(t, tid, "a resource without thread.id: %v", res.attrs)
		require.NotContains(t, byTID, tid, "thread %d exported twice", tid)
		byTID[tid] = res
		sum += res.native("getppid")
		assert.Equal(t, workload.Comm, res.str("process.executable.name"), "thread %d", tid)
	}
	t.Logf("pid %d: %d thread resources (the extra threads and the Go runtime's)", r.Pid, len(rs))

	main := byTID[int64(r.Pid)]
	require.NotNil(t, main.attrs, "the main thread (tid = pid) was not exported")
	if !assert.EqualValues(t, spec.Getppid, main.native("getppid")) {
		main.log(t)
	}
	assert.EqualValues(t, spec.WriteDevNull+1, main.native("write"), "and one write of the tid report to stdout")
	assert.Equal(t, workload.Comm, main.str("thread.name"))
	for i, tid := range r.TIDs {
		res, ok := byTID[int64(tid)]
		require.True(t, ok, "thread %d (tid %d) was not exported", i, tid)
		assert.Equal(t, workload.ThreadName(i), res.str("thread.name"))
		assert.EqualValues(t, spec.Threads[i], res.native("getppid"), "thread %d (tid %d)", i, tid)
		assert.Zero(t, res.native("write"), "thread %d", i)
		t.Logf("  tid %d %s: getppid %d", tid, res.str("thread.name"), res.native("getppid"))
	}
	assert.EqualValues(t, spec.TotalGetppid(), sum, "the threads' calls add up to the process's")
}

// TestGroupByContainer: one resource per cgroup, with its path and the
// container id and pod uid the path encodes; [container, process] gives
// one resource per process with its container fields.
func TestGroupByContainer(t *testing.T) {
	kerneltest.Require(t)
	bin := workloadBin(t)
	cg := newLiveCgroups(t)
	dockerID, criID := randomHex(t, 64), randomHex(t, 64)
	podUID := strings.Join([]string{randomHex(t, 8), randomHex(t, 4), randomHex(t, 4), randomHex(t, 4), randomHex(t, 12)}, "-")
	docker := cg.make("/docker-" + dockerID + ".scope")
	pod := cg.make("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
		strings.ReplaceAll(podUID, "-", "_") + ".slice/cri-containerd-" + criID + ".scope")

	t.Run("container", func(t *testing.T) {
		cfg := testConfig()
		cfg.GroupBy = []string{GroupByContainer}
		s := liveScraper(t, cfg)
		runWorkload(t, cg.in(workload.Command(bin, workload.Spec{Getppid: 1111, WriteDevNull: 11}), docker))
		runWorkload(t, cg.in(workload.Command(bin, workload.Spec{Getppid: 2222, OpenMissing: 22}), pod))
		runWorkload(t, cg.in(workload.Command(bin, workload.Spec{Getppid: 3}), pod))

		for scrape := range 2 { // the cgroups live on: exported again, same totals
			rs := liveScrape(t, s)
			d := withAttr(rs, "process.linux.cgroup", docker)
			require.Len(t, d, 1, "scrape %d: one resource for the docker cgroup", scrape)
			assert.Equal(t, map[string]any{"process.linux.cgroup": docker, "container.id": dockerID}, d[0].attrs)
			assert.EqualValues(t, 1111, d[0].native("getppid"))
			assert.EqualValues(t, 11, d[0].native("write"))

			p := withAttr(rs, "process.linux.cgroup", pod)
			require.Len(t, p, 1, "scrape %d: one resource for the pod's container cgroup", scrape)
			assert.Equal(t, map[string]any{"process.linux.cgroup": pod, "container.id": criID, "k8s.pod.uid": podUID}, p[0].attrs)
			assert.EqualValues(t, 2222+3, p[0].native("getppid"))
			assert.EqualValues(t, 22, p[0].errors["openat ENOENT"])
			for _, r := range rs {
				assert.NotContains(t, r.attrs, "process.pid")
			}
			t.Logf("scrape %d: %d resources; %s getppid=%d; %s getppid=%d", scrape, len(rs),
				docker, d[0].native("getppid"), pod, p[0].native("getppid"))
		}
	})

	t.Run("container,process", func(t *testing.T) {
		cfg := testConfig()
		cfg.GroupBy = []string{GroupByContainer, GroupByProcess}
		s := liveScraper(t, cfg)
		type run struct {
			cgroup, containerID, podUID string
			getppid                     int
		}
		runs := []run{{docker, dockerID, "", 501}, {docker, dockerID, "", 502}, {pod, criID, podUID, 503}}
		pids := map[int]run{}
		for _, r := range runs {
			res := runWorkload(t, cg.in(workload.Command(bin, workload.Spec{Getppid: r.getppid}), r.cgroup))
			pids[res.Pid] = r
		}
		rs := liveScrape(t, s)
		for pid, r := range pids {
			got := withAttr(rs, "process.pid", int64(pid))
			require.Len(t, got, 1, "pid %d: one resource per process", pid)
			want := map[string]any{"process.pid": int64(pid), "process.executable.name": workload.Comm,
				"process.linux.cgroup": r.cgroup, "container.id": r.containerID}
			if r.podUID != "" {
				want["k8s.pod.uid"] = r.podUID
			}
			assert.Equal(t, want, got[0].attrs)
			assert.EqualValues(t, r.getppid, got[0].native("getppid"), "pid %d", pid)
		}
	})
}

// TestI386SyscallNames runs a real static 32-bit binary: its getppid calls
// (number 64 in the i386 table; 64 is semop on x86_64) are reported as
// getppid with syscall.abi i386.
func TestI386SyscallNames(t *testing.T) {
	kerneltest.Require(t)
	if runtime.GOARCH != "amd64" {
		t.Skipf("the i386 ABI exists on amd64 only, not %s", runtime.GOARCH)
	}
	bin, err := workload.Prebuilt("getppid32") // where no gcc runs (test/kernels)
	require.NoError(t, err)
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "getppid32")
		out, err := exec.Command("gcc", "-m32", "-static", "-O2", "-o", bin, "testdata/i386/getppid32.c").CombinedOutput()
		if err != nil {
			t.Fatalf("building a static i386 binary failed (install Debian's gcc-multilib: apt-get install -y gcc-multilib): %v\n%s", err, out)
		}
	}
	cfg := testConfig()
	s := liveScraper(t, cfg)

	const n = 4321
	cmd := exec.Command(bin, strconv.Itoa(n))
	if out, err := cmd.CombinedOutput(); err != nil {
		if errors.Is(err, syscall.ENOEXEC) {
			t.Skipf("this kernel does not run 32-bit programs (IA-32 emulation is off: see dmesg; ia32_emulation=): %v", err)
		}
		t.Fatalf("%s: %v\n%s", bin, err, out)
	}
	pid := cmd.ProcessState.Pid()

	rs := withAttr(liveScrape(t, s), "process.pid", int64(pid))
	require.Len(t, rs, 1)
	t.Logf("pid %d: %v", pid, rs[0].calls)
	assert.EqualValues(t, n, rs[0].calls[sysKey{"getppid", "i386"}])
	assert.Zero(t, rs[0].native("semop"), "the i386 number read in the x86_64 table")
	assert.Zero(t, rs[0].native("getppid"))
	assert.Positive(t, rs[0].native("execve"), "execve was entered as a 64-bit call")
}

// TestReusedPidIsANewProcess forces the kernel to give a second process the
// pid of the first (ns_last_pid) between two scrapes: they are two
// resources with their own counts, never one with the sum.
func TestReusedPidIsANewProcess(t *testing.T) {
	kerneltest.Require(t)
	bin := workloadBin(t)
	comm := uniqueComm("reuse")
	cfg := testConfig()
	cfg.Filter.Comms = []string{comm}
	s := liveScraper(t, cfg)

	first, second := workload.Spec{Getppid: 111, Comm: comm}, workload.Spec{Getppid: 222, Comm: comm}
	pid := runWithPid(t, bin, first, second)

	rs := withAttr(liveScrape(t, s), "process.pid", int64(pid))
	require.Len(t, rs, 2, "two processes had pid %d", pid)
	got := []int64{rs[0].native("getppid"), rs[1].native("getppid")}
	assert.ElementsMatch(t, []int64{111, 222}, got)
	for _, r := range rs {
		if r.str("process.executable.name") == comm { // the exit record names the second
			assert.EqualValues(t, 222, r.native("getppid"))
		}
	}
	// The first one's exit record was overwritten by the second's: it is
	// found dead on the next scrape, exported once more, then dropped.
	rs = withAttr(liveScrape(t, s), "process.pid", int64(pid))
	require.Len(t, rs, 1)
	assert.EqualValues(t, 111, rs[0].native("getppid"))
	assert.Empty(t, withAttr(liveScrape(t, s), "process.pid", int64(pid)))
}

// runWithPid runs first, then makes the kernel hand the same pid to second
// (by setting ns_last_pid to the pid before it), retrying when another
// process took the pid meanwhile. It returns the shared pid.
func runWithPid(t *testing.T, bin string, first, second workload.Spec) int {
	t.Helper()
	for range 20 {
		pid, err := workload.Run(bin, first)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0))
		again, err := workload.Run(bin, second)
		require.NoError(t, err)
		if again == pid {
			return pid
		}
	}
	t.Fatal("could not get the kernel to reuse a pid in 20 tries")
	return 0
}

// TestHostileComm: a process that renames itself (prctl PR_SET_NAME) with
// control characters, invalid UTF-8 and format verbs is exported with the
// documented safe rendering, as valid UTF-8, and counted exactly.
func TestHostileComm(t *testing.T) {
	kerneltest.Require(t)
	bin, err := workload.Build(t.TempDir())
	require.NoError(t, err)
	const raw = "\x1b[2J\xff%s%s%s\n%n!" // 15 bytes: escape, invalid byte, verbs, newline
	require.Len(t, raw, 15)
	cfg := testConfig()
	cfg.Filter.Comms = []string{raw}
	s := newSyscallsScraper(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })

	pid, err := workload.Run(bin, workload.Spec{Getppid: 321, Comm: raw})
	require.NoError(t, err)
	md, err := s.scrape(context.Background())
	require.NoError(t, err)
	var found bool
	for _, r := range liveResources(md) {
		if r.int("process.pid") != int64(pid) {
			continue
		}
		found = true
		name := r.str("process.executable.name")
		assert.Equal(t, `\x1b[2J`+"\uFFFD"+`%s%s%s\x0a%n!`, name)
		assert.True(t, utf8.ValidString(name))
		assert.EqualValues(t, 321, r.native("getppid"))
	}
	require.True(t, found, "the renamed process was not exported")
}
