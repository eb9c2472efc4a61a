//go:build linux && (amd64 || arm64)

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seed22255693/syscallsreceiver/bpf"
	"github.com/seed22255693/syscallsreceiver/internal/cgroupv2"
	"github.com/seed22255693/syscallsreceiver/internal/sysnames"
)

// countCommand runs the command and prints its table when it exits. The
// command starts traced, so that it stops right after its execve; the
// programs are loaded for it then, and it runs untraced from there. Its
// children are followed (-f) through a cgroup made for it.
func countCommand(opts options, out, stderr io.Writer) int {
	path, err := exec.LookPath(opts.command[0])
	if err != nil {
		fmt.Fprintf(stderr, "syscalls: Can't stat '%s': No such file or directory\n", opts.command[0])
		return 127
	}
	if err := checkPrivileges(); err != nil {
		fmt.Fprintf(stderr, "syscalls: %v\n", err)
		return 1
	}
	cmd := exec.Command(path, opts.command[1:]...)
	cmd.Args[0] = opts.command[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	var filter bpf.Filter
	if opts.follow {
		dir, err := newCgroup()
		if err != nil {
			fmt.Fprintf(stderr, "syscalls: -f: %v\n", err)
			return 1
		}
		defer removeCgroup(dir)
		f, err := os.Open(dir)
		if err != nil {
			fmt.Fprintf(stderr, "syscalls: -f: %v\n", err)
			return 1
		}
		defer func() { _ = f.Close() }()
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(f.Fd())
		filter.CgroupDirs = []string{dir}
	}
	// A tracee is detached by the thread that traces it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, os.Interrupt, syscall.SIGQUIT) // the command gets them; we print
	defer signal.Stop(interrupts)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "syscalls: %v\n", err)
		return 127
	}
	pid := cmd.Process.Pid
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || !ws.Stopped() {
		fmt.Fprintf(stderr, "syscalls: %s did not stop after its execve (status %v, %v)\n", path, ws, err)
		return 1
	}
	if !opts.follow {
		filter.PIDs = []uint32{uint32(pid)}
	}
	c, err := load(opts, filter)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = syscall.PtraceDetach(pid)
		_ = cmd.Wait()
		fmt.Fprintf(stderr, "syscalls: %v\n", err)
		return 1
	}
	defer func() { _ = c.Close() }()
	if err := syscall.PtraceDetach(pid); err != nil {
		fmt.Fprintf(stderr, "syscalls: letting %s run: %v\n", path, err)
		return 1
	}
	stopTicks := printEvery(opts, c, out, stderr)
	err = cmd.Wait()
	if opts.follow {
		waitEmpty(filter.CgroupDirs[0])
	}
	stopTicks()
	if code := printTables(opts, c, out, stderr, true); code != 0 {
		return code
	}
	return exitCode(err, cmd.ProcessState)
}

// countRunning counts what is already running until Ctrl-C or -d.
func countRunning(opts options, out, stderr io.Writer) int {
	filter := bpf.Filter{PIDs: opts.pids}
	if opts.comm != "" {
		filter.Comms = []string{opts.comm}
	}
	if opts.cgroup != "" {
		root, err := cgroupv2.Root()
		if err != nil {
			fmt.Fprintf(stderr, "syscalls: --cgroup: %v\n", err)
			return 1
		}
		dir := filepath.Join(root, filepath.Clean("/"+opts.cgroup))
		if _, err := os.Stat(dir); err != nil {
			fmt.Fprintf(stderr, "syscalls: --cgroup: %q does not exist in the cgroup v2 hierarchy mounted at %s\n", opts.cgroup, root)
			return 1
		}
		filter.CgroupDirs = []string{dir}
	}
	if err := checkPrivileges(); err != nil {
		fmt.Fprintf(stderr, "syscalls: %v\n", err)
		return 1
	}
	exited, err := allExited(opts.pids)
	if err != nil {
		fmt.Fprintf(stderr, "syscalls: %v\n", err)
		return 1
	}
	c, err := load(opts, filter)
	if err != nil {
		fmt.Fprintf(stderr, "syscalls: %v\n", err)
		return 1
	}
	defer func() { _ = c.Close() }()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)
	var until <-chan time.Time
	if opts.duration > 0 {
		until = time.After(seconds(opts.duration))
	}
	fmt.Fprintf(stderr, "syscalls: counting %s; Ctrl-C to stop\n", describe(opts))
	stopTicks := printEvery(opts, c, out, stderr)
	select {
	case <-stop:
	case <-until:
	case <-exited:
	}
	stopTicks()
	return printTables(opts, c, out, stderr, false)
}

// checkPrivileges is the engine's check, with advice for this tool rather
// than for the collector.
func checkPrivileges() error {
	var perr *bpf.PrivilegeError
	if err := bpf.CheckPrivileges(); errors.As(err, &perr) {
		return fmt.Errorf("counting syscalls in the kernel needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), and this process lacks %s: run it as root (sudo)",
			strings.Join(perr.Missing, " and "))
	}
	return nil
}

// allExited is closed once every pid has exited (never without pids), as
// strace -p ends when its tracees do. A pidfd says so even of a zombie.
func allExited(pids []uint32) (<-chan struct{}, error) {
	done := make(chan struct{})
	if len(pids) == 0 {
		return done, nil
	}
	var fds []unix.PollFd
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(int(pid), 0)
		if err != nil {
			for _, p := range fds {
				_ = unix.Close(int(p.Fd))
			}
			return nil, fmt.Errorf("-p %d: %w", pid, err)
		}
		fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	go func() {
		defer close(done)
		for len(fds) > 0 {
			if _, err := unix.Poll(fds, -1); err != nil && !errors.Is(err, unix.EINTR) {
				return
			}
			live := fds[:0]
			for _, p := range fds {
				if p.Revents != 0 {
					_ = unix.Close(int(p.Fd))
					continue
				}
				live = append(live, p)
			}
			fds = live
		}
	}()
	return done, nil
}

func describe(opts options) string {
	switch {
	case opts.cgroup != "":
		return "cgroup " + opts.cgroup
	case opts.comm != "":
		return fmt.Sprintf("comm %q", opts.comm)
	}
	var ps []string
	for _, pid := range opts.pids {
		ps = append(ps, fmt.Sprint(pid))
	}
	return "process " + strings.Join(ps, ",")
}

func load(opts options, filter bpf.Filter) (*bpf.Counters, error) {
	hook := bpf.Hook(opts.hook)
	if opts.hook == "auto" {
		hook = bpf.HookAuto
	}
	return bpf.Load(bpf.Options{
		CountCalls: true, CountErrors: true, MeasureDuration: true, DurationScale: bpf.MaxDurationScale,
		ExcludeTGID: uint32(os.Getpid()), Filter: filter, Hook: hook,
	})
}

// printEvery prints the table every -i seconds until the returned func is
// called.
func printEvery(opts options, c *bpf.Counters, out, stderr io.Writer) (stop func()) {
	if opts.interval <= 0 {
		return func() {}
	}
	ticker := time.NewTicker(seconds(opts.interval))
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-ticker.C:
				printTables(opts, c, out, stderr, false)
				fmt.Fprintln(out)
			case <-done:
				return
			}
		}
	}()
	return func() { ticker.Stop(); close(done); <-finished }
}

// printTables writes the table (or JSON) of the totals so far. withExecve adds
// the command's own execve, which returned before counting could start.
func printTables(opts options, c *bpf.Counters, out, stderr io.Writer, withExecve bool) int {
	counts, err := c.ReadCounts()
	if err != nil {
		fmt.Fprintf(stderr, "syscalls: %v\n", err)
		return 1
	}
	names := sysnames.Native()
	if withExecve {
		nr, _ := names.Number("execve")
		key := bpf.SyscallKey{Nr: nr, ABI: bpf.ABINative}
		s := counts.Syscalls[key]
		s.Calls++
		counts.Syscalls[key] = s
	}
	ts := tables(counts, names, bpf.MaxDurationScale)
	if opts.json {
		if err := writeJSON(out, ts); err != nil {
			fmt.Fprintf(stderr, "syscalls: %v\n", err)
			return 1
		}
		return 0
	}
	writeTables(out, ts, opts.columns, opts.sortBy, opts.errnos)
	return 0
}

// exitCode is the command's exit status, or 128+signal as a shell reports.
func exitCode(err error, state *os.ProcessState) int {
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return 1
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}

// newCgroup makes a cgroup v2 directory for the command and its children.
func newCgroup() (string, error) {
	root, err := cgroupv2.Root()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, fmt.Sprintf("syscalls-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("making a cgroup for the command: %w", err)
	}
	return dir, nil
}

// waitEmpty waits until the last process in the cgroup has exited, as
// strace -f waits for every traced process.
func waitEmpty(dir string) {
	for {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
		if err != nil || strings.Contains(string(b), "populated 0") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func removeCgroup(dir string) {
	for range 500 { // a just-reaped process may keep it busy briefly
		if err := os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
