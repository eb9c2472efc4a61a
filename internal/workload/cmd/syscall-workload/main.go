//go:build linux

// Command syscall-workload makes an exactly known number of syscalls, so
// tests can check the receiver's counts for its pid. It imports only
// low-level packages to keep the Go runtime's own start-up syscalls small
// and fixed; the Go runtime never calls getppid, so getppid counts are
// exactly the ones asked for.
//
// Usage: syscall-workload GETPPID OPEN_MISSING WRITE_DEVNULL [options]
//
// It makes GETPPID getppid calls, OPEN_MISSING openat calls on a path that
// does not exist (each fails with ENOENT) and WRITE_DEVNULL one-byte writes
// to /dev/null, all on the main thread. Options, applied in this order:
//
//	-wait            read one byte from stdin before doing anything else, so
//	                 that a test can prepare (load filters naming this pid,
//	                 move it into a cgroup) first
//	-comm NAME       set the main thread's comm with prctl(PR_SET_NAME)
//	                 before the counted syscalls
//	-threads K1,K2   after the main thread's calls, start one thread per
//	                 count; thread i names itself thread-<i> (prctl) and makes
//	                 Ki getppid calls, then exits. Their tids are printed to
//	                 stdout as "tid <i> <tid>" lines.
//	-fork N          then start N children one after the other (vfork, no
//	                 exec): child i names itself PREFIX<i>, makes
//	                 1 + i%MOD getppid calls and exits with exit_group
//	-fork-prefix P   PREFIX above (default "w")
//	-fork-mod MOD    MOD above (default 1)
//	-unknown N       then call the syscall numbers 1024 … 1024+N-1 once each:
//	                 numbers no kernel table has (each fails with ENOSYS),
//	                 to fill the receiver's maps for numbers it has no slot for
//	-hold            when done, print "done" and wait for stdin to close
//	                 before exiting, so the process can be seen alive
package main

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

// atFDCWD is AT_FDCWD: resolve relative to the working directory. A
// variable, because a negative constant cannot be converted to uintptr.
var atFDCWD = -100

const missingPath = "/nonexistent/syscall-workload/missing"

// unknownFirst is the first number -unknown calls: past every syscall table.
const unknownFirst = 1024

const (
	prSetName = 15 // PR_SET_NAME
	commLen   = 16 // TASK_COMM_LEN, bpf.CommLen (not imported: see the package comment)
)

// The main goroutine stays on the main thread, so that the main thread's
// calls are exactly GETPPID getppid calls and its tid is the pid.
func init() { runtime.LockOSThread() }

type options struct {
	wait, hold bool
	comm       string
	threads    []int
	fork, mod  int
	prefix     string
	unknown    int
}

func fail(msg string, code int) {
	_, _ = os.Stderr.WriteString(msg + "\n")
	os.Exit(code)
}

func count(s string) int {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		fail("counts must be non-negative integers: "+s, 2)
	}
	return v
}

func parse(args []string) options {
	o := options{mod: 1, prefix: "w"}
	for i := 0; i < len(args); i++ {
		value := func() string {
			if i+1 >= len(args) {
				fail(args[i]+" needs a value", 2)
			}
			i++
			return args[i]
		}
		switch args[i] {
		case "-wait":
			o.wait = true
		case "-hold":
			o.hold = true
		case "-comm":
			o.comm = value()
		case "-threads":
			list := value()
			start := 0
			for j := 0; j <= len(list); j++ {
				if j == len(list) || list[j] == ',' {
					o.threads = append(o.threads, count(list[start:j]))
					start = j + 1
				}
			}
		case "-fork":
			o.fork = count(value())
		case "-fork-mod":
			o.mod = count(value())
		case "-fork-prefix":
			o.prefix = value()
		case "-unknown":
			o.unknown = count(value())
		default:
			fail("unknown option "+args[i], 2)
		}
	}
	if o.mod < 1 {
		fail("-fork-mod must be at least 1", 2)
	}
	return o
}

func main() {
	if len(os.Args) < 4 {
		fail("usage: syscall-workload GETPPID OPEN_MISSING WRITE_DEVNULL [-wait] [-comm NAME] [-threads K1,K2,...] [-fork N [-fork-prefix P] [-fork-mod M]] [-unknown N] [-hold]", 2)
	}
	n := make([]int, 3)
	for i := range n {
		n[i] = count(os.Args[i+1])
	}
	o := parse(os.Args[4:])

	if o.wait {
		readByte()
	}
	if o.comm != "" {
		setName(o.comm)
	}
	for range n[0] {
		_, _, _ = syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
	}
	path, _ := syscall.BytePtrFromString(missingPath)
	for range n[1] {
		_, _, errno := syscall.RawSyscall6(syscall.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(path)), syscall.O_RDONLY, 0, 0, 0)
		if errno != syscall.ENOENT {
			os.Exit(3)
		}
	}
	if n[2] > 0 {
		fd, err := syscall.Open("/dev/null", syscall.O_WRONLY, 0)
		if err != nil {
			os.Exit(4)
		}
		buf := []byte{'x'}
		for range n[2] {
			_, _, _ = syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), 1)
		}
	}
	tids := runThreads(o.threads)
	if o.fork > 0 {
		forkChildren(o.fork, o.mod, o.prefix)
	}
	for nr := range o.unknown {
		if _, _, errno := syscall.RawSyscall(uintptr(unknownFirst+nr), 0, 0, 0); errno != syscall.ENOSYS {
			os.Exit(6)
		}
	}

	var out []byte
	for i, tid := range tids {
		out = append(out, "tid "...)
		out = strconv.AppendInt(out, int64(i), 10)
		out = append(out, ' ')
		out = strconv.AppendInt(out, int64(tid), 10)
		out = append(out, '\n')
	}
	if o.hold {
		out = append(out, "done\n"...)
	}
	if len(out) > 0 {
		_, _ = os.Stdout.Write(out)
	}
	if o.hold {
		for readByte() {
		}
	}
	os.Exit(0)
}

// readByte reads one byte from stdin; false at end of file.
func readByte() bool {
	var b [1]byte
	for {
		n, err := syscall.Read(0, b[:])
		if err == syscall.EINTR {
			continue
		}
		return err == nil && n == 1
	}
}

func setName(name string) {
	var b [commLen]byte
	copy(b[:commLen-1], name)
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetName, uintptr(unsafe.Pointer(&b[0])), 0)
}

// runThreads starts one OS thread per count, each making that many getppid
// calls under its own name, and returns their tids in order. A goroutine
// that exits while locked to its thread takes the thread with it, so every
// count is made by a distinct thread that then exits.
func runThreads(counts []int) []int {
	type done struct{ i, tid int }
	ch := make(chan done)
	for i, k := range counts {
		go func() {
			runtime.LockOSThread()
			setName("thread-" + strconv.Itoa(i))
			tid, _, _ := syscall.RawSyscall(syscall.SYS_GETTID, 0, 0, 0)
			for range k {
				_, _, _ = syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
			}
			ch <- done{i, int(tid)}
		}()
	}
	tids := make([]int, len(counts))
	for range counts {
		d := <-ch
		tids[d.i] = d.tid
	}
	return tids
}

// forkChildren starts n children, one after the other, with vfork (see
// vfork_amd64.s): a child shares our memory but touches none of it, so it
// costs no page-table copy, which makes tens of thousands of processes
// cheap. Signals are blocked meanwhile so that no Go signal handler can run
// in a child.
func forkChildren(n, mod int, prefix string) {
	if !canFork {
		fail("-fork is implemented on amd64 and arm64 only", 2)
	}
	names := make([]byte, n*commLen)
	for i := range n {
		copy(names[i*commLen:i*commLen+commLen-1], prefix+strconv.Itoa(i))
	}
	all, old := ^uint64(0), uint64(0)
	_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	for i := range n {
		pid, errno := vfork(&names[i*commLen], 1+i%mod)
		if errno != 0 {
			fail("vfork: "+syscall.Errno(errno).Error(), 5)
		}
		var status syscall.WaitStatus
		for {
			_, err := syscall.Wait4(pid, &status, 0, nil)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || !status.Exited() || status.ExitStatus() != 0 {
				fail("child "+strconv.Itoa(i)+" failed", 6)
			}
			break
		}
	}
	_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
}
