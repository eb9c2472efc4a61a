//go:build linux && (amd64 || arm64)

package syscallsreceiver

import (
	"fmt"
	"os"
	"path/filepath"
)

// initialPIDNamespace is the inode of the host's PID namespace
// (PROC_PID_INIT_INO in include/linux/proc_ns.h).
const initialPIDNamespace = "pid:[4026531836]"

// checkPIDNamespace refuses to attribute syscalls to processes when the
// collector sees other pids than the kernel does: the kernel counts by host
// pid, and /proc here would resolve them to the wrong processes or none.
func checkPIDNamespace(procfs string) error {
	ns, err := os.Readlink(filepath.Join(procfs, "self/ns/pid"))
	if err != nil || ns == initialPIDNamespace {
		return nil // cannot tell (very old kernel): assume the host's
	}
	return fmt.Errorf("the collector runs in its own PID namespace (%s), where process ids differ from the kernel's: "+
		"run it in the host's (docker run --pid=host, Kubernetes hostPID: true), or set group_by: [] and exclude_self: false", ns)
}
