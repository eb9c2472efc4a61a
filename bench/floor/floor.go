//go:build linux && (amd64 || arm64)

package floor

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
)

// Kind says which floor programs to attach.
type Kind int

const (
	// Exit is an empty sys_exit program: the hook the receiver's modes
	// without sys_enter use.
	Exit Kind = iota
	// EnterExit is empty sys_enter and sys_exit programs.
	EnterExit
	// Timed reads the clock at sys_enter and sys_exit, keeping the entry
	// time with the task: the least that timing a syscall takes.
	Timed
	// EnterExitCounted is an empty sys_enter and a sys_exit that adds one
	// to a per-CPU hash under (process, syscall): the least that counting
	// per process takes, on the hooks of exact sigreturn counts.
	EnterExitCounted
	// TimedCounted is Timed and EnterExitCounted's hash add in one exit
	// program (the duration summed under process and syscall): the least
	// that a per-process histogram takes.
	TimedCounted
)

// Floor is a set of attached floor programs.
type Floor struct {
	objs  floorObjects
	links []link.Link
}

// Attach loads the floor programs and attaches those of kind.
func Attach(kind Kind) (*Floor, error) {
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, err
	}
	f := &Floor{}
	if err := loadFloorObjects(&f.objs, nil); err != nil {
		return nil, fmt.Errorf("loading the floor programs: %w", err)
	}
	progs := map[Kind][]*ebpf.Program{
		Exit:             {f.objs.FloorExit},
		EnterExit:        {f.objs.FloorEnter, f.objs.FloorExit},
		Timed:            {f.objs.FloorTimedEnter, f.objs.FloorTimedExit},
		EnterExitCounted: {f.objs.FloorEnter, f.objs.FloorCountExit},
		TimedCounted:     {f.objs.FloorTimedEnter, f.objs.FloorTimedCountExit},
	}[kind]
	if progs == nil {
		_ = f.Close()
		return nil, fmt.Errorf("no floor of kind %d", kind)
	}
	for _, prog := range progs {
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("attaching the floor program %s: %w", prog, err)
		}
		f.links = append(f.links, l)
	}
	return f, nil
}

// ProgramIDs returns the kernel ids of the attached programs.
func (f *Floor) ProgramIDs() []ebpf.ProgramID {
	var ids []ebpf.ProgramID
	for _, l := range f.links {
		if info, err := l.Info(); err == nil {
			ids = append(ids, info.Program)
		}
	}
	return ids
}

// TimedNs returns the durations the Timed floor summed, over all CPUs.
func (f *Floor) TimedNs() (uint64, error) {
	var perCPU []uint64
	if err := f.objs.TotalNs.Lookup(uint32(0), &perCPU); err != nil {
		return 0, err
	}
	var sum uint64
	for _, v := range perCPU {
		sum += v
	}
	return sum, nil
}

// ProcessCalls returns the calls the EnterExitCounted floor counted for
// one process and syscall number, over all CPUs.
func (f *Floor) ProcessCalls(tgid, nr uint32) (uint64, error) {
	return sumOf(f.objs.ProcessCalls, tgid, nr)
}

// ProcessNs returns the ns the TimedCounted floor summed for one process
// and syscall number, over all CPUs.
func (f *Floor) ProcessNs(tgid, nr uint32) (uint64, error) {
	return sumOf(f.objs.ProcessNs, tgid, nr)
}

func sumOf(m *ebpf.Map, tgid, nr uint32) (uint64, error) {
	var perCPU []uint64
	key := floorProcessSyscall{Tgid: tgid, Nr: nr}
	if err := m.Lookup(&key, &perCPU); err != nil {
		return 0, err
	}
	var sum uint64
	for _, v := range perCPU {
		sum += v
	}
	return sum, nil
}

// Close detaches and unloads everything.
func (f *Floor) Close() error {
	var errs []error
	for _, l := range f.links {
		errs = append(errs, l.Close())
	}
	f.links = nil
	return errors.Join(append(errs, f.objs.Close())...)
}
