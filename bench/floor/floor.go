//go:build linux && (amd64 || arm64)

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

// Attach loads the empty programs and attaches them to sys_enter and/or
// sys_exit: the hooks the receiver uses in its modes without and with
// syscall.duration.
func Attach(enter, exit bool) (*Floor, error) {
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, err
	}
	f := &Floor{}
	if err := loadFloorObjects(&f.objs, nil); err != nil {
		return nil, fmt.Errorf("loading the floor programs: %w", err)
	}
	for _, h := range []struct {
		on   bool
		prog *ebpf.Program
	}{{enter, f.objs.FloorEnter}, {exit, f.objs.FloorExit}} {
		if !h.on {
			continue
		}
		l, err := link.AttachTracing(link.TracingOptions{Program: h.prog})
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("attaching the floor program %s: %w", h.prog, err)
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

// Close detaches and unloads everything.
func (f *Floor) Close() error {
	var errs []error
	for _, l := range f.links {
		errs = append(errs, l.Close())
	}
	f.links = nil
	return errors.Join(append(errs, f.objs.Close())...)
}
