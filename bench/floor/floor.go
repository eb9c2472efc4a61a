//go:build linux

package floor

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
)

// Floor is a set of attached empty programs.
type Floor struct {
	objs  floorObjects
	links []link.Link
}

// Attach loads the empty programs and attaches one to sys_enter and, when
// exit is true, one to sys_exit: the same hooks the receiver uses in its
// calls-only mode and in its modes with errors or duration.
func Attach(exit bool) (*Floor, error) {
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, err
	}
	f := &Floor{}
	if err := loadFloorObjects(&f.objs, nil); err != nil {
		return nil, fmt.Errorf("loading the floor programs: %w", err)
	}
	attach := func(tracepoint string, prog *ebpf.Program) error {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: tracepoint, Program: prog})
		if err != nil {
			return fmt.Errorf("attaching the floor to %s: %w", tracepoint, err)
		}
		f.links = append(f.links, l)
		return nil
	}
	err := attach("sys_enter", f.objs.FloorEnter)
	if err == nil && exit {
		err = attach("sys_exit", f.objs.FloorExit)
	}
	if err != nil {
		f.Close()
		return nil, err
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

// Close detaches and unloads everything.
func (f *Floor) Close() error {
	var errs []error
	for _, l := range f.links {
		errs = append(errs, l.Close())
	}
	f.links = nil
	return errors.Join(append(errs, f.objs.Close())...)
}
