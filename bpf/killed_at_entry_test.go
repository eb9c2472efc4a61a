//go:build linux && (amd64 || arm64)

package bpf

import (
	"context"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"
)

// TestTracedTaskKilledAtEntry holds what a traced thread killed as it
// enters a call leaves: nothing. The kernel skips that call and still runs
// sys_exit, on x86 with its number and -ENOSYS; under strace it happens
// to threads that another thread's exit_group kills (in about half the
// runs of a Go program). Killed at the exit stop instead, the call ran:
// one call, no error; killed while it blocks in read, one call and its
// -ERESTARTSYS.
func TestTracedTaskKilledAtEntry(t *testing.T) {
	kerneltest.Require(t)
	bin := nativeCBinary(t, "killed_at_entry", "killed_at_entry.c")
	getpriority := abiNr{unix.SYS_GETPRIORITY, ABINative}
	read := abiNr{unix.SYS_READ, ABINative}
	for _, hook := range Hooks {
		for _, duration := range []bool{false, true} {
			name := string(hook) + "/duration=" + map[bool]string{true: "on", false: "off"}[duration]
			t.Run(name, func(t *testing.T) {
				opts := Options{GroupByProcess: true, CountCalls: true, CountErrors: true, MeasureDuration: duration, Hook: hook,
					Filter: Filter{Comms: []string{"sc-victim"}}}
				c, err := Load(opts)
				skipIfKernelLacks(t, hook, err)
				require.NoError(t, err)
				defer func() { _ = c.Close() }()
				for _, at := range []string{"entry", "exit", "read"} {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					cmd := exec.CommandContext(ctx, bin, at)
					cmd.Stdin = strings.NewReader("go")
					out, err := cmd.CombinedOutput()
					cancel()
					require.NoError(t, err, "killed_at_entry %s: %s", at, out)
				}
				counts, err := c.ReadCounts()
				require.NoError(t, err)
				calls := map[abiNr]uint64{}
				for k, s := range counts.Syscalls {
					calls[abiNr{k.Nr, k.ABI}] += s.Calls
				}
				errs := map[abiNr]map[uint32]uint64{getpriority: {}, read: {}}
				for k, n := range counts.Errors {
					if e := errs[abiNr{k.Nr, k.ABI}]; e != nil {
						e[k.Errno] += n
					}
				}
				assert.EqualValues(t, 1, calls[getpriority], "the getpriority killed at its exit stop ran; the one killed at entry did not")
				// The builds that read the task's start time (tp_btf and
				// raw_tracepoint's CO-RE build) also read its ptrace
				// state. arm64 forgets the number of a call it skips
				// (syscallno is NO_SYSCALL at sys_exit): no hook counts
				// anything of it.
				readsTask, _ := c.StartTimes()
				if readsTask || runtime.GOARCH == "arm64" {
					assert.Empty(t, errs[getpriority], "no -ENOSYS of a call that never ran")
				} else {
					// The others cannot look at the task at sys_exit: the
					// skipped call's -ENOSYS is counted (documented).
					assert.Equal(t, map[uint32]uint64{uint32(unix.ENOSYS): 1}, errs[getpriority])
				}
				const erestartsys = 512
				assert.EqualValues(t, 1, calls[read], "the read killed as it blocked ran")
				assert.Equal(t, map[uint32]uint64{erestartsys: 1}, errs[read])
			})
		}
	}
}
