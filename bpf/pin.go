//go:build linux && (amd64 || arm64)

package bpf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Pinning keeps the programs attached and the maps counting in bpffs when
// the process that loaded them exits, so that a restarted collector adopts
// them and no syscall goes uncounted. The pin directory holds maps/, progs/,
// links/ and state, pinned last: without it the pins are incomplete. bpffs
// holds no plain files, so the state is the value of a one-entry map.

const (
	pinStateName = "state"
	pinStateSize = 1024 // bytes of JSON, zero-padded
)

// pinState says what the pins were made of; they are adopted only by a
// Load with the same options of the same objects.
type pinState struct {
	Hook        Hook      `json:"hook"`
	Objects     string    `json:"objects"` // sha256 of the hook's BPF object
	Options     string    `json:"options"` // sha256 of the options that shape the programs and maps
	AttachedAt  time.Time `json:"attached_at"`
	Description string    `json:"description"`
}

// optionsDigest hashes the options that shape the programs and maps. The
// excluded process is left out: it is a map value, renewed on adoption.
func optionsDigest(opts Options) string {
	opts.PinPath, opts.ExcludeTGID, opts.Hook = "", 0, HookAuto
	if opts.DurationSampleOneIn == 0 {
		opts.DurationSampleOneIn = 1 // both time every call
	}
	b, _ := json.Marshal(opts)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func objectsDigest(build hookBuild) string {
	sum := sha256.Sum256(build.object())
	return hex.EncodeToString(sum[:])
}

// checkPinPath says why dir cannot hold pins, in words an operator can act
// on.
func checkPinPath(dir string) error {
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("pin_path %q: must be an absolute path on a bpffs, such as /sys/fs/bpf/otelcol-syscalls/syscalls", dir)
	}
	// The nearest existing parent tells which file system dir is on.
	existing := dir
	for {
		if _, err := os.Stat(existing); err == nil {
			break
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		existing = parent
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(existing, &fs); err != nil {
		return fmt.Errorf("pin_path %q: %w", dir, err)
	}
	if fs.Type != unix.BPF_FS_MAGIC {
		return fmt.Errorf("pin_path %q is not on a bpffs (%s is not one): mount it with `mount -t bpf bpf /sys/fs/bpf` "+
			"(in a container, mount the host's /sys/fs/bpf), or choose a path under it", dir, existing)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pin_path %q: cannot create it: %w", dir, err)
	}
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return fmt.Errorf("pin_path %q: not writable: %w", dir, err)
	}
	return nil
}

// readPinState returns the state of the pins in dir, nil if there are
// none (or they were never completed).
func readPinState(dir string) (*pinState, error) {
	m, err := ebpf.LoadPinnedMap(filepath.Join(dir, pinStateName), nil)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the pins' state: %w", err)
	}
	defer func() { _ = m.Close() }()
	var value [pinStateSize]byte
	if err := m.Lookup(uint32(0), &value); err != nil {
		return nil, fmt.Errorf("reading the pins' state: %w", err)
	}
	var st pinState
	if err := json.Unmarshal(bytes.TrimRight(value[:], "\x00"), &st); err != nil {
		return nil, fmt.Errorf("reading the pins' state: %w", err)
	}
	return &st, nil
}

// writePinState pins the state that completes the pins in dir.
func writePinState(dir string, st pinState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if len(b) > pinStateSize {
		return fmt.Errorf("the pins' state is %d bytes, more than %d", len(b), pinStateSize)
	}
	var value [pinStateSize]byte
	copy(value[:], b)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "syscalls_pins", Type: ebpf.Array, KeySize: 4, ValueSize: pinStateSize, MaxEntries: 1})
	if err != nil {
		return fmt.Errorf("writing the pins' state: %w", err)
	}
	defer func() { _ = m.Close() }()
	if err := m.Put(uint32(0), value); err != nil {
		return fmt.Errorf("writing the pins' state: %w", err)
	}
	return m.Pin(filepath.Join(dir, pinStateName))
}

// whyNotAdopt says why pins of state st cannot serve opts on hook ("" if
// they can).
func whyNotAdopt(st *pinState, opts Options, hook hookSpec, build hookBuild) string {
	switch {
	case st.Hook != hook.hook:
		return fmt.Sprintf("they count with the %s hook, not %s", st.Hook, hook.hook)
	case st.Objects != objectsDigest(build):
		return "they were made by another version of the programs"
	case st.Options != optionsDigest(opts):
		return "they were made for another configuration (" + st.Description + ")"
	}
	return ""
}

// RemovePins unpins everything under dir: the programs detach once no
// process holds them, and their counts are gone.
func RemovePins(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing the pins in %s: %w", dir, err)
	}
	return nil
}

// adopt takes over the pinned maps, programs and links in dir.
func adopt(opts Options, hook hookSpec, build hookBuild, spec *ebpf.CollectionSpec, st *pinState, cpus int) (*Counters, error) {
	c := &Counters{opts: opts, hook: hook, build: build, cpus: cpus, attachedAt: st.AttachedAt, pinned: true, adopted: true}
	pinMaps(spec)
	if err := spec.LoadAndAssign(&c.objs.syscallsMaps, &ebpf.CollectionOptions{
		Maps: ebpf.MapOptions{PinPath: dir(opts, "maps")},
	}); err != nil {
		return nil, fmt.Errorf("adopting the pinned maps: %w", err)
	}
	progs := map[string]**ebpf.Program{
		"syscalls_enter": &c.objs.SyscallsEnter, "syscalls_exit": &c.objs.SyscallsExit,
		"syscalls_task_exit": &c.objs.SyscallsTaskExit,
	}
	for name, p := range progs {
		prog, err := ebpf.LoadPinnedProgram(filepath.Join(dir(opts, "progs"), name), nil)
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("adopting the pinned program %s: %w", name, err)
		}
		*p = prog
	}
	entries, err := os.ReadDir(dir(opts, "links"))
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("adopting the pinned links: %w", err)
	}
	for _, e := range entries {
		l, err := link.LoadPinnedLink(filepath.Join(dir(opts, "links"), e.Name()), nil)
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("adopting the pinned link %s: %w", e.Name(), err)
		}
		c.links = append(c.links, l)
		c.linkNames = append(c.linkNames, e.Name())
	}
	if err := c.setExcluded(opts.ExcludeTGID); err != nil {
		_ = c.Close()
		return nil, err
	}
	// Pinned links the kernel does not run count nothing: replace them
	// (on proof only, so that counting is not restarted on a doubt).
	if silent, conclusive := c.silentHooks(); conclusive && len(silent) > 0 {
		_ = c.Close()
		return nil, fmt.Errorf("the kernel does not run the pinned %s", joinHooks(silent))
	}
	return c, nil
}

// pinMaps makes the loader take the maps from the pin directory where they
// are pinned, and pin them there where they are not. The .rodata of each
// load stays its own.
func pinMaps(spec *ebpf.CollectionSpec) {
	for name, m := range spec.Maps {
		if name[0] != '.' {
			m.Pinning = ebpf.PinByName
		}
	}
}

// pinProgramsAndLinks pins what a fresh load attached, then writes the
// state that completes the pins.
func (c *Counters) pinProgramsAndLinks() error {
	for _, d := range []string{"progs", "links"} {
		if err := os.MkdirAll(dir(c.opts, d), 0o700); err != nil {
			return err
		}
	}
	for name, p := range map[string]*ebpf.Program{
		"syscalls_enter": c.objs.SyscallsEnter, "syscalls_exit": c.objs.SyscallsExit,
		"syscalls_task_exit": c.objs.SyscallsTaskExit,
	} {
		if err := p.Pin(filepath.Join(dir(c.opts, "progs"), name)); err != nil {
			return fmt.Errorf("pinning program %s: %w", name, err)
		}
	}
	for i, l := range c.links {
		if err := l.Pin(filepath.Join(dir(c.opts, "links"), c.linkNames[i])); err != nil {
			return fmt.Errorf("pinning link %s: %w", c.linkNames[i], err)
		}
	}
	return writePinState(c.opts.PinPath, pinState{Hook: c.hook.hook, Objects: objectsDigest(c.build),
		Options: optionsDigest(c.opts), AttachedAt: c.attachedAt, Description: describeOptions(c.opts)})
}

// describeOptions is a short summary of a configuration, for the log line
// that says why pins were replaced.
func describeOptions(o Options) string {
	return fmt.Sprintf("process %v, thread %v, cgroup %v; calls %v, errors %v, duration %v (scale %d); max_groups %d; %d pids, %d comms, %d cgroups",
		o.GroupByProcess, o.GroupByThread, o.GroupByCgroup, o.CountCalls, o.CountErrors, o.MeasureDuration,
		o.DurationScale, o.MaxGroups, len(o.Filter.PIDs), len(o.Filter.Comms), len(o.Filter.CgroupDirs))
}

func dir(opts Options, sub string) string { return filepath.Join(opts.PinPath, sub) }
