package workload

import (
	"fmt"
	"os/exec"
	"strconv"
	"time"
)

// BuildNanosleeper compiles the nanosleeper command into dir.
func BuildNanosleeper(dir string) (string, error) { return goBuild(dir, "nanosleeper") }

// Sleeps is what nanosleeper measured of its own sleeps from user space.
type Sleeps struct {
	Total, Longest time.Duration
	// Calls is the number of clock_nanosleep calls: more than the sleeps
	// asked for when a signal cut one short.
	Calls int
	// GetppidLoop is how long the getppid calls took, loop and all.
	GetppidLoop time.Duration
}

// RunNanosleeper runs nanosleeper to completion: n sleeps of us
// microseconds, then getppid calls; it returns the pid and the sleeps as
// timed from user space (the kernel's measurement lies within them).
func RunNanosleeper(bin string, n, us, getppid int) (int, Sleeps, error) {
	cmd := exec.Command(bin, strconv.Itoa(n), strconv.Itoa(us), strconv.Itoa(getppid))
	out, err := cmd.Output()
	if err != nil {
		return 0, Sleeps{}, fmt.Errorf("nanosleeper: %v\n%s", err, out)
	}
	var total, longest, loop int64
	var calls int
	if _, err := fmt.Sscan(string(out), &total, &longest, &calls, &loop); err != nil {
		return 0, Sleeps{}, fmt.Errorf("nanosleeper printed %q: %v", out, err)
	}
	return cmd.ProcessState.Pid(), Sleeps{time.Duration(total), time.Duration(longest), calls, time.Duration(loop)}, nil
}
