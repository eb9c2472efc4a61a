package workload

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
)

// BuildNanosleeper compiles the nanosleeper command into dir.
func BuildNanosleeper(dir string) (string, error) { return goBuild(dir, "nanosleeper") }

// RunNanosleeper runs nanosleeper to completion: n sleeps of us
// microseconds, then getppid calls; it returns the pid.
func RunNanosleeper(bin string, n, us, getppid int) (int, error) {
	cmd := exec.Command(bin, strconv.Itoa(n), strconv.Itoa(us), strconv.Itoa(getppid))
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("nanosleeper: %v\n%s", err, out)
	}
	return cmd.ProcessState.Pid(), nil
}

// goBuild compiles ./cmd/NAME of this package into dir.
func goBuild(dir, name string) (string, error) {
	_, self, _, _ := runtime.Caller(0)
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/"+name)
	cmd.Dir = filepath.Dir(self)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", name, err, out)
	}
	return bin, nil
}
