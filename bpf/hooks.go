//go:build linux && (amd64 || arm64)

package bpf

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
)

// hookSpec is everything that differs between the ways of hooking the
// syscall path. Every place that depends on the hook reads it from here.
type hookSpec struct {
	hook Hook
	// builds are the programs built for the hook, tried in turn until one
	// loads. All builds define the same maps and programs, so each loads
	// into syscallsObjects.
	builds []hookBuild
	// check says what the kernel lacks for the hook, in words an operator
	// can act on, before loading anything.
	check func(Options) error
	// attach links a program to the tracepoint group/name.
	attach func(group, name string, prog *ebpf.Program) (link.Link, error)
	// countsAtExit: one program at sys_exit counts calls and errors, and a
	// timed call is counted only in its duration bucket. Otherwise calls
	// are counted at sys_enter.
	countsAtExit bool
}

// hookBuild is one compiled build of a hook's programs.
type hookBuild struct {
	load func() (*ebpf.CollectionSpec, error)
	// object is the compiled program, whose digest tells pinned programs
	// of another version apart.
	object func() []byte
	// startTimes: the programs read tasks' start times, so a reused pid
	// makes a new group. The same builds read a task's ptrace state, so
	// that a call skipped as its traced task was killed is no error.
	startTimes bool
}

// hookSpecs are the hooks in the order HookAuto tries them: the cheapest
// and most exact first.
var hookSpecs = []hookSpec{
	{
		hook: HookTPBTF, check: checkTPBTF,
		builds: []hookBuild{{load: loadSyscalls, object: func() []byte { return _SyscallsBytes }, startTimes: true}},
		attach: func(_, _ string, prog *ebpf.Program) (link.Link, error) {
			return link.AttachTracing(link.TracingOptions{Program: prog})
		},
		countsAtExit: true,
	},
	{
		hook: HookRawTracepoint,
		builds: []hookBuild{
			{load: loadSyscallsRawTPCORE, object: func() []byte { return _SyscallsRawTPCOREBytes }, startTimes: true},
			{load: loadSyscallsRawTP, object: func() []byte { return _SyscallsRawTPBytes }},
		},
		check: func(Options) error {
			if err := features.HaveProgramHelper(ebpf.RawTracepoint, asm.FnProbeReadKernel); err != nil {
				return kernelError("raw tracepoint programs with bpf_probe_read_kernel and global functions (Linux 5.6+)", err)
			}
			return nil
		},
		attach: func(_, name string, prog *ebpf.Program) (link.Link, error) {
			return link.AttachRawTracepoint(link.RawTracepointOptions{Name: name, Program: prog})
		},
	},
	{
		hook:   HookTracepoint,
		builds: []hookBuild{{load: loadSyscallsTracepoint, object: func() []byte { return _SyscallsTracepointBytes }}},
		check: func(Options) error {
			if err := features.HaveProgramType(ebpf.TracePoint); err != nil {
				return kernelError("tracepoint programs", err)
			}
			return tracefsMounted()
		},
		attach: func(group, name string, prog *ebpf.Program) (link.Link, error) {
			return link.Tracepoint(group, name, prog, nil)
		},
	},
}

func specOf(hook Hook) (*hookSpec, error) {
	for i := range hookSpecs {
		if hookSpecs[i].hook == hook {
			return &hookSpecs[i], nil
		}
	}
	return nil, fmt.Errorf("unknown hook %q (want one of %v)", hook, Hooks)
}

func checkTPBTF(opts Options) error {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); errors.Is(err, os.ErrNotExist) {
		return &LacksError{Feature: "kernel BTF at /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF=y)"}
	} else if err != nil {
		return kernelError("kernel BTF at /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF=y)", err)
	}
	probes := []probe{
		{"bpf_get_current_task_btf (Linux 5.11+)", func() error {
			return features.HaveProgramHelper(ebpf.RawTracepoint, asm.FnGetCurrentTaskBtf)
		}},
		{"bpf_task_pt_regs (Linux 5.15+)", func() error { return features.HaveProgramHelper(ebpf.RawTracepoint, asm.FnTaskPtRegs) }},
	}
	if opts.MeasureDuration {
		probes = append(probes, probe{"BPF task storage (Linux 5.11+)", func() error { return features.HaveMapType(ebpf.TaskStorage) }})
	}
	return allOf(probes)
}

// errNoTracefs advises how to make classic tracepoints attachable.
var errNoTracefs = errors.New("tracefs is not mounted: classic tracepoints need it " +
	"(mount it with `mount -t tracefs tracefs /sys/kernel/tracing`, or in a container mount the host's /sys/kernel/tracing)")
