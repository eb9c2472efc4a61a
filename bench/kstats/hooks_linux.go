//go:build linux

package kstats

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
)

// SyscallHooks describes the eBPF programs attached through bpf links to
// the syscall tracepoints (raw sys_enter/sys_exit, tp_btf on them, and the
// raw_syscalls and syscalls tracepoints), e.g. "4711 syscalls_enter".
//
// Another tool's programs there make every syscall take the kernel's slow
// path already, so what a variant adds on top of them is understated: the
// benchmark waits for them to go and flags measurements made with them.
// Tools that attach with a perf_event ioctl instead of a link (bpftrace
// 0.17) are not seen.
func SyscallHooks() ([]string, error) {
	var hooks []string
	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
		info, err := it.Link.Info()
		if err != nil || !onSyscall(info) {
			continue
		}
		name := ""
		if prog, err := ebpf.NewProgramFromID(info.Program); err == nil {
			if pi, err := prog.Info(); err == nil {
				name = pi.Name
			}
			_ = prog.Close()
		}
		hooks = append(hooks, strings.TrimSpace(fmt.Sprintf("%d %s", info.Program, name)))
	}
	return hooks, it.Err()
}

func onSyscall(info *link.Info) bool {
	if rt := info.RawTracepoint(); rt != nil {
		return rt.Name == "sys_enter" || rt.Name == "sys_exit"
	}
	if pe := info.PerfEvent(); pe != nil {
		if tp := pe.Tracepoint(); tp != nil {
			return strings.HasPrefix(tp.Tracepoint, "sys_")
		}
	}
	if tr := info.Tracing(); tr != nil && tr.TargetObjectId == 0 {
		// tp_btf: the target is the kernel's btf_trace_<tracepoint>.
		if spec, err := btf.LoadKernelSpec(); err == nil {
			if t, err := spec.TypeByID(tr.TargetBtfId); err == nil {
				name := t.TypeName()
				return name == "btf_trace_sys_enter" || name == "btf_trace_sys_exit"
			}
		}
	}
	return false
}
