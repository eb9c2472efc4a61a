//go:build linux && (amd64 || arm64)

package bpf

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/seed22255693/syscallsreceiver/internal/workload"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// Syscalls the kernel renumbers while they run, per ABI: the native table
// and the 32-bit one (i386 on x86-64, arm EABI on arm64, whose numbers for
// these agree).
var (
	nativeRtSigreturn = abiNr{unix.SYS_RT_SIGRETURN, ABINative}
	nativeExecve      = abiNr{unix.SYS_EXECVE, ABINative}
	compatSigreturn   = abiNr{119, ABICompat}
	compatRtSigreturn = abiNr{173, ABICompat}
	compatExecve      = abiNr{11, ABICompat}
)

type abiNr struct{ nr, abi uint32 }

// compatCC is how a static binary of the 32-bit ABI is built on each
// architecture, and the Debian package that provides it.
var compatCC = map[string]struct {
	cmd []string
	pkg string
}{
	"amd64": {[]string{"gcc", "-m32"}, "gcc-multilib"},
	"arm64": {[]string{"arm-linux-gnueabihf-gcc"}, "gcc-arm-linux-gnueabihf"},
}

// signalsBinaries builds testdata/signals.c as a native and, where the
// kernel runs them, a static 32-bit binary ("" and the reason otherwise).
// With workload.PrebuiltEnv set they are taken from there (signals64 and
// signals32, built by test/kernels), as where no gcc runs.
func signalsBinaries(t *testing.T) (bin64, bin32, why32 string) {
	t.Helper()
	bin64 = nativeCBinary(t, "signals64", "signals.c")
	if prebuilt, err := workload.Prebuilt("signals32"); prebuilt != "" || err != nil {
		require.NoError(t, err)
		bin32 = prebuilt
	} else {
		cc := compatCC[runtime.GOARCH]
		bin32 = filepath.Join(t.TempDir(), "signals32")
		args := append(cc.cmd[1:], "-static", "-O2", "-o", bin32, "testdata/signals.c")
		out, err := exec.Command(cc.cmd[0], args...).CombinedOutput()
		require.NoError(t, err, "building a static 32-bit binary needs Debian's %s (apt-get install -y %s): %s", cc.pkg, cc.pkg, out)
	}
	if err := exec.Command(bin32, "0", "0").Run(); errors.Is(err, syscall.ENOEXEC) {
		return bin64, "", "this kernel does not run 32-bit programs (no IA-32 emulation or COMPAT, or a CPU without 32-bit mode)"
	}
	return bin64, bin32, ""
}

// runFiltered starts args (waiting on its stdin), loads the programs with
// opts for its pid alone, lets it run to its end, and returns the calls and
// the timed calls per syscall summed over its groups, and its errors.
func runFiltered(t *testing.T, opts Options, args ...string) (calls, timed map[abiNr]uint64, errs map[ErrorKey]uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	opts.Filter.PIDs = []uint32{uint32(cmd.Process.Pid)}
	c, err := Load(opts)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	skipIfKernelLacks(t, opts.Hook, err)
	require.NoError(t, err)
	defer func() { _ = c.Close() }()
	_, _ = stdin.Write([]byte{1})
	_ = stdin.Close() // what it execs reads EOF
	require.NoError(t, cmd.Wait(), "%v", args)
	counts, err := c.ReadCounts()
	require.NoError(t, err)
	calls, timed, errs = map[abiNr]uint64{}, map[abiNr]uint64{}, map[ErrorKey]uint64{}
	for k, s := range counts.Syscalls {
		calls[abiNr{k.Nr, k.ABI}] += s.Calls
	}
	for k, buckets := range counts.Durations {
		for _, n := range buckets {
			timed[abiNr{k.Nr, k.ABI}] += n
		}
	}
	for k, n := range counts.Errors {
		errs[k] += n
	}
	return calls, timed, errs
}

// TestSigreturnsAndPersonalityChanges holds the two syscalls whose number
// or ABI the kernel changes while they run: sigreturn and rt_sigreturn
// (the number is -1 at sys_exit) and an execve between 64 and 32 bits (it
// returns as the new personality's execve). Each is counted once, under
// the number and ABI it was made with, as strace counts it: on every
// hook, with and without durations, and for every grouping.
func TestSigreturnsAndPersonalityChanges(t *testing.T) {
	kerneltest.Require(t)
	bin64, bin32, why32 := signalsBinaries(t)
	const withInfo, plain = 5, 7
	type scenario struct {
		name   string
		args   []string
		want   map[abiNr]uint64 // the calls; absent numbers must be 0
		compat bool             // needs the 32-bit ABI told apart
	}
	// The first execve, by the test's forked child, comes before the pid
	// filter knows the pid: none is counted.
	scenarios := []scenario{
		{"64-bit", []string{bin64, "5", "7"}, map[abiNr]uint64{nativeRtSigreturn: withInfo + plain}, false},
		{"64-bit execs 32-bit", []string{bin64, "5", "7", bin32}, map[abiNr]uint64{nativeRtSigreturn: withInfo + plain, nativeExecve: 1}, false},
		{"32-bit", []string{bin32, "5", "7"}, map[abiNr]uint64{compatRtSigreturn: withInfo, compatSigreturn: plain}, true},
		{"32-bit execs 64-bit", []string{bin32, "5", "7", bin64}, map[abiNr]uint64{compatRtSigreturn: withInfo, compatSigreturn: plain, compatExecve: 1}, true},
	}
	groupings := map[string]func(*Options){
		"system-wide": func(*Options) {},
		"process":     func(o *Options) { o.GroupByProcess = true },
		"thread":      func(o *Options) { o.GroupByThread = true },
		"cgroup":      func(o *Options) { o.GroupByCgroup = true },
	}
	if testing.Short() {
		// Under emulation (the arm64 guests of test/kernels) each load
		// takes seconds: one grouping, with the others' code paths
		// covered by the rest of the package.
		groupings = map[string]func(*Options){"process": groupings["process"]}
	}
	watched := []abiNr{nativeRtSigreturn, nativeExecve, compatSigreturn, compatRtSigreturn, compatExecve}
	for _, hook := range Hooks {
		for _, duration := range []bool{true, false} {
			for grouping, group := range groupings {
				name := string(hook) + "/duration=" + map[bool]string{true: "on", false: "off"}[duration] + "/" + grouping
				t.Run(name, func(t *testing.T) {
					opts := Options{CountCalls: true, CountErrors: true, MeasureDuration: duration, Hook: hook}
					group(&opts)
					for _, sc := range scenarios {
						if bin32 == "" && (sc.compat || len(sc.args) > 3) {
							t.Logf("%s: skipped: %s", sc.name, why32)
							continue
						}
						if sc.compat && hook == HookTracepoint {
							continue // classic tracepoints cannot tell 32-bit calls apart (documented)
						}
						calls, timed, errs := runFiltered(t, opts, sc.args...)
						for _, k := range watched {
							assert.Equal(t, sc.want[k], calls[k], "%s: calls of %v", sc.name, k)
							if k == nativeExecve || k == compatExecve {
								want := uint64(0)
								if duration {
									want = sc.want[k] // the execve is timed under the ABI it entered with
								}
								assert.Equal(t, want, timed[k], "%s: timed calls of %v", sc.name, k)
							} else {
								assert.Zero(t, timed[k], "%s: a sigreturn is not timed: it returns into other code than its caller", sc.name)
							}
						}
						for k := range errs {
							assert.NotContains(t, watched, abiNr{k.Nr, k.ABI}, "%s: error %v", sc.name, k)
						}
						assert.Positive(t, calls[abiNr{unixKill(sc.compat), abiOf(sc.compat)}], "%s: the kill calls were counted", sc.name)
					}
				})
			}
		}
	}
}

// unixKill is kill's number in the scenario's first ABI.
func unixKill(compat bool) uint32 {
	if compat {
		return 37 // i386 and arm
	}
	return unix.SYS_KILL
}

func abiOf(compat bool) uint32 {
	if compat {
		return ABICompat
	}
	return ABINative
}

// TestUncountedSigreturns holds what make bench compares against: without
// its sys_enter program, counting at exit loses every rt_sigreturn.
func TestUncountedSigreturns(t *testing.T) {
	kerneltest.Require(t)
	bin64, _, _ := signalsBinaries(t)
	t.Run(string(HookTPBTF), func(t *testing.T) { // the hook that counts at exit
		opts := Options{GroupByProcess: true, CountCalls: true, CountErrors: true, Hook: HookTPBTF}
		calls, _, _ := runFiltered(t, opts, bin64, "2", "3")
		assert.EqualValues(t, 5, calls[nativeRtSigreturn])
		opts.UncountedSigreturns = true
		calls, _, _ = runFiltered(t, opts, bin64, "2", "3")
		assert.Zero(t, calls[nativeRtSigreturn])
		assert.Positive(t, calls[abiNr{unixKill(false), ABINative}])
	})
}
