//go:build linux && (amd64 || arm64)

package bpf

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"
)

// Capability numbers from linux/capability.h.
const (
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

const grantAdvice = "run the collector as root, or grant the capabilities with " +
	"`sudo setcap cap_bpf,cap_perfmon+ep <collector binary>`"

// PrivilegeError says which capabilities this process lacks to load the
// programs.
type PrivilegeError struct{ Missing []string }

func (e *PrivilegeError) Error() string {
	return fmt.Sprintf("loading the syscall-counting eBPF programs needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), and this process lacks %s: %s",
		strings.Join(e.Missing, " and "), grantAdvice)
}

// CheckPrivileges returns an error naming the missing capabilities when this
// process cannot load and attach tracing programs. Loading needs CAP_BPF and
// CAP_PERFMON (Linux 5.8+) or CAP_SYS_ADMIN.
func CheckPrivileges() error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil // cannot tell: let the kernel decide and report
	}
	capEff, ok := effectiveCaps(string(status))
	if !ok {
		return nil
	}
	return missingCaps(capEff)
}

func effectiveCaps(status string) (uint64, bool) {
	for line := range strings.SplitSeq(status, "\n") {
		if v, found := strings.CutPrefix(line, "CapEff:"); found {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return caps, err == nil
		}
	}
	return 0, false
}

// missingCaps explains which capabilities the effective set lacks.
func missingCaps(capEff uint64) error {
	has := func(c uint) bool { return capEff&(1<<c) != 0 }
	if has(capSysAdmin) || (has(capBPF) && has(capPerfmon)) {
		return nil
	}
	var missing []string
	if !has(capBPF) {
		missing = append(missing, "CAP_BPF")
	}
	if !has(capPerfmon) {
		missing = append(missing, "CAP_PERFMON")
	}
	return &PrivilegeError{Missing: missing}
}

// checkKernel probes the kernel features every hook needs for the options,
// so that an old kernel gets an error that says what to switch off instead
// of a verifier log.
func checkKernel(opts Options) error {
	if len(opts.Filter.CgroupDirs) > 0 {
		if err := features.HaveMapType(ebpf.CGroupArray); err != nil {
			return kernelError("cgroup array maps, needed by filter.cgroups", err)
		}
	}
	return nil
}

// probe is one kernel feature and how to find out whether it is there.
type probe struct {
	feature string
	have    func() error
}

// allOf runs every probe and names every feature the kernel lacks in one
// error (5.10 lacks two of tp_btf's, and naming only the first would
// suggest that 5.11 is enough); any other probe error is returned at once.
func allOf(probes []probe) error {
	var lacking []string
	for _, p := range probes {
		err := kernelError(p.feature, p.have())
		var lacks *LacksError
		if errors.As(err, &lacks) {
			lacking = append(lacking, lacks.Feature)
		} else if err != nil {
			return err
		}
	}
	if len(lacking) > 0 {
		return &LacksError{Feature: strings.Join(lacking, ", ")}
	}
	return nil
}

// tracefsMounted looks where the tracepoint attach does for the syscall
// tracepoints' ids.
func tracefsMounted() error {
	for _, dir := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(dir + "/events/raw_syscalls/sys_enter/id"); err == nil {
			return nil
		}
	}
	return errNoTracefs
}

// tracefsHint explains a tracepoint that cannot be found for lack of tracefs.
func tracefsHint(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		if terr := tracefsMounted(); terr != nil {
			return fmt.Errorf("%w (%w)", err, terr)
		}
	}
	return err
}

// LacksError is a feature the running kernel does not have, as its probe
// found: the kernel's reason why a hook (or an option) cannot work here,
// not a failure of ours.
type LacksError struct{ Feature string }

func (e *LacksError) Error() string { return "this kernel lacks " + e.Feature }

// kernelError explains a failed probe of feature; nil stays nil.
func kernelError(feature string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("probing kernel support for %s: %w (%s)", feature, err, grantAdvice)
	}
	if errors.Is(err, ebpf.ErrNotSupported) {
		return &LacksError{Feature: feature}
	}
	return fmt.Errorf("probing kernel support for %s: %w", feature, err)
}

// loadError keeps a verifier rejection readable: its last lines say why.
func loadError(err error) error {
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return fmt.Errorf("the kernel rejected the syscall-counting programs: %v (full verifier log: %+v)", err, ve)
	}
	return fmt.Errorf("loading the syscall-counting programs: %w", privilegeHint(err))
}
