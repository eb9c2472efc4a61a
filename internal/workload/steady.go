package workload

import (
	"os/exec"
	"strconv"
	"time"
)

// SteadyComm is the kernel's name for steady-workload (exactly 15 bytes).
const SteadyComm = "steady-workload"

// BuildSteady compiles the steady-workload command into dir.
func BuildSteady(dir string) (string, error) { return goBuild(dir, "steady-workload") }

// SteadyCommand returns the command that runs steady-workload: rounds
// repetitions of s with pause between them (the caller starts it, and may
// set SysProcAttr first, for example to start it in a cgroup). Its exact
// totals are rounds × s; it lives about (rounds-1) × pause.
func SteadyCommand(bin string, rounds int, pause time.Duration, s Spec) *exec.Cmd {
	return exec.Command(bin, strconv.Itoa(rounds), strconv.Itoa(int(pause/time.Millisecond)),
		strconv.Itoa(s.Getppid), strconv.Itoa(s.OpenMissing), strconv.Itoa(s.WriteDevNull))
}
