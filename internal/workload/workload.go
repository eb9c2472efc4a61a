// Package workload builds and runs syscall-workload, a child process whose
// syscalls the tests know exactly.
package workload

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// Spec is how many of each syscall the workload makes, and how.
type Spec struct {
	Getppid      int // getppid calls on the main thread, none failing
	OpenMissing  int // openat calls that fail with ENOENT
	WriteDevNull int // one-byte writes to /dev/null

	// Comm, when set, is the main thread's comm (prctl PR_SET_NAME) for
	// the counted syscalls; the Go runtime's start-up runs under Comm.
	Comm string
	// Threads starts one extra thread per entry, after the main thread's
	// calls: thread i is named ThreadName(i) and makes Threads[i] getppid
	// calls, then exits.
	Threads []int
	// Fork forks that many children one after the other (no exec): child
	// i is named ForkPrefix+i, makes ForkGetppid(i) getppid calls and exits.
	Fork       int
	ForkPrefix string // default "w"
	ForkMod    int    // child i makes 1 + i%ForkMod getppid calls; default 1

	// Unknown makes the workload call the syscall numbers 1024 …
	// 1024+Unknown-1 once each, after everything else: numbers no table
	// has, each failing with ENOSYS.
	Unknown int

	// Wait makes the workload read one byte from stdin (Process.Release)
	// before it does anything; Hold makes it wait for stdin to close
	// (Process.Finish) once done. Both need Start.
	Wait, Hold bool
}

// ThreadName is the name extra thread i gives itself.
func ThreadName(i int) string { return "thread-" + strconv.Itoa(i) }

// ForkGetppid is how many getppid calls forked child i makes.
func (s Spec) ForkGetppid(i int) int { return 1 + i%max(s.ForkMod, 1) }

// ForkComm is forked child i's comm.
func (s Spec) ForkComm(i int) string { return cmp(s.ForkPrefix, "w") + strconv.Itoa(i) }

// TotalGetppid is every getppid call of the workload: the main thread's,
// the extra threads' and the forked children's.
func (s Spec) TotalGetppid() int {
	total := s.Getppid
	for _, k := range s.Threads {
		total += k
	}
	for i := range s.Fork {
		total += s.ForkGetppid(i)
	}
	return total
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Args is the workload's command line after the binary.
func (s Spec) Args() []string {
	args := []string{strconv.Itoa(s.Getppid), strconv.Itoa(s.OpenMissing), strconv.Itoa(s.WriteDevNull)}
	if s.Wait {
		args = append(args, "-wait")
	}
	if s.Comm != "" {
		args = append(args, "-comm", s.Comm)
	}
	if len(s.Threads) > 0 {
		list := make([]string, len(s.Threads))
		for i, k := range s.Threads {
			list[i] = strconv.Itoa(k)
		}
		args = append(args, "-threads", strings.Join(list, ","))
	}
	if s.Fork > 0 {
		args = append(args, "-fork", strconv.Itoa(s.Fork), "-fork-prefix", cmp(s.ForkPrefix, "w"), "-fork-mod", strconv.Itoa(max(s.ForkMod, 1)))
	}
	if s.Unknown > 0 {
		args = append(args, "-unknown", strconv.Itoa(s.Unknown))
	}
	if s.Hold {
		args = append(args, "-hold")
	}
	return args
}

// Build compiles the workload into dir and returns the binary's path.
func Build(dir string) (string, error) { return goBuild(dir, "syscall-workload") }

// Command is the command that runs the workload; callers may adjust it
// (SysProcAttr, for instance, to start it in a cgroup) before running it
// with RunCommand or Start.
func Command(bin string, s Spec) *exec.Cmd { return exec.Command(bin, s.Args()...) }

// Run runs the workload to completion and returns its pid.
func Run(bin string, s Spec) (int, error) {
	r, err := RunCommand(Command(bin, s))
	return r.Pid, err
}

// Result is what a finished workload reports.
type Result struct {
	Pid  int
	TIDs []int // of the extra threads, in Spec.Threads order
}

// RunCommand runs a workload command (without Wait or Hold) to completion.
func RunCommand(cmd *exec.Cmd) (Result, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return Result{}, fmt.Errorf("syscall-workload: %v\n%s", err, stderr.Bytes())
	}
	r := Result{Pid: cmd.ProcessState.Pid()}
	var err error
	r.TIDs, _, err = parseOutput(bufio.NewReader(&stdout))
	return r, err
}

// parseOutput reads "tid I TID" lines up to "done" or the end.
func parseOutput(r *bufio.Reader) (tids []int, done bool, err error) {
	for {
		line, rerr := r.ReadString('\n')
		line = strings.TrimSpace(line)
		if line == "done" {
			return tids, true, nil
		}
		if f := strings.Fields(line); len(f) == 3 && f[0] == "tid" {
			i, err1 := strconv.Atoi(f[1])
			tid, err2 := strconv.Atoi(f[2])
			if err1 != nil || err2 != nil || i != len(tids) {
				return tids, false, fmt.Errorf("syscall-workload: bad line %q", line)
			}
			tids = append(tids, tid)
		} else if line != "" {
			return tids, false, fmt.Errorf("syscall-workload: unexpected output %q", line)
		}
		if rerr == io.EOF {
			return tids, false, nil
		}
		if rerr != nil {
			return tids, false, rerr
		}
	}
}

// Process is a started workload that waits for the test (Spec.Wait,
// Spec.Hold).
type Process struct {
	Cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr bytes.Buffer
	waited bool
}

// Start starts a workload command; the caller must Finish it.
func Start(cmd *exec.Cmd) (*Process, error) {
	p := &Process{Cmd: cmd}
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.stdout = bufio.NewReader(out)
	cmd.Stderr = &p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("syscall-workload: %w", err)
	}
	return p, nil
}

// Pid is the workload's pid.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Release lets a Spec.Wait workload start its syscalls.
func (p *Process) Release() error {
	_, err := p.stdin.Write([]byte{'x'})
	return err
}

// Done waits until a Spec.Hold workload has made all its syscalls, and
// returns the tids of its extra threads; the process is then alive and
// idle (blocked reading stdin) until Finish.
func (p *Process) Done() ([]int, error) {
	tids, done, err := parseOutput(p.stdout)
	if err == nil && !done {
		err = errors.New("syscall-workload ended before it was done")
	}
	return tids, err
}

// Finish closes the workload's stdin and waits for it to exit. It is safe
// to call more than once (as a test cleanup too).
func (p *Process) Finish() error {
	if p.waited {
		return nil
	}
	p.waited = true
	_ = p.stdin.Close()
	_, _ = io.Copy(io.Discard, p.stdout)
	if err := p.Cmd.Wait(); err != nil {
		return fmt.Errorf("syscall-workload: %v\n%s", err, p.stderr.Bytes())
	}
	return nil
}

// Comm is the kernel's name for the workload: the binary's name cut to the
// 15 bytes that fit in a task's comm.
const Comm = "syscall-workloa"
