// Package workload builds and runs syscall-workload, a child process whose
// syscalls the tests know exactly.
package workload

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
)

// Spec is how many of each syscall the workload makes.
type Spec struct {
	Getppid      int // getppid calls, none failing
	OpenMissing  int // openat calls that fail with ENOENT
	WriteDevNull int // one-byte writes to /dev/null
}

// Build compiles the workload into dir and returns the binary's path.
func Build(dir string) (string, error) {
	_, self, _, _ := runtime.Caller(0)
	bin := filepath.Join(dir, "syscall-workload")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/syscall-workload")
	cmd.Dir = filepath.Dir(self)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building syscall-workload: %v\n%s", err, out)
	}
	return bin, nil
}

// Run runs the workload to completion and returns its pid.
func Run(bin string, s Spec) (int, error) {
	cmd := exec.Command(bin, strconv.Itoa(s.Getppid), strconv.Itoa(s.OpenMissing), strconv.Itoa(s.WriteDevNull))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("syscall-workload: %v\n%s", err, out)
	}
	return cmd.ProcessState.Pid(), nil
}

// Comm is the kernel's name for the workload: the binary's name cut to the
// 15 bytes that fit in a task's comm.
const Comm = "syscall-workloa"
