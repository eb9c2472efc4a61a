package bpf

// What the receiver configures and reads, kept free of build constraints so
// that the receiver's configuration compiles on every platform; the loader
// (counters.go) builds only where bpf2go objects exist. So do the constants
// shared with the kernel programs (ABINative, SyscallSlots, AblateClock, ...):
// zconstants.go, generated from the C enums of syscalls.h and maps.bpf.h.

// DefaultMaxGroups bounds the distinct groups counted when Options leaves
// MaxGroups at 0.
const DefaultMaxGroups = 10000

// Options chooses what the kernel programs count. Everything switched off is
// pruned from the programs by the verifier, so it costs nothing.
type Options struct {
	// Group counts by process, thread and/or cgroup; none of them counts
	// system-wide (every key's Group is then zero).
	GroupByProcess, GroupByThread, GroupByCgroup bool

	CountCalls      bool
	CountErrors     bool
	MeasureDuration bool

	// ExcludeTGID is a process whose syscalls are not counted (0: none),
	// normally the collector itself.
	ExcludeTGID uint32

	// MaxGroups is the hard bound on distinct groups in the maps; the
	// counts of further groups go to OverflowGroup.
	MaxGroups uint32

	// DurationScale is the scale of the duration histograms (0 to
	// MaxDurationScale): 2^scale buckets per doubling.
	DurationScale int

	// DurationSampleOneIn, above 1, times about 1 in N calls, each chosen
	// at random by the kernel as it enters; the others are counted as
	// calls only (Counts stays exact, the histograms hold the sample).
	// 0 or 1: every call is timed.
	DurationSampleOneIn uint32

	Filter Filter

	// Hook is how the programs hook the syscall path; HookAuto takes the
	// first one the kernel supports.
	Hook Hook

	// UncountedSigreturns leaves sys_enter detached where only the
	// sigreturns need it (HookTPBTF, calls without durations), losing them
	// as the programs once did: for make bench, which measures what
	// counting them costs. Never set it to count.
	UncountedSigreturns bool

	// Ablate leaves parts of the duration path out (AblateClock, ...), for
	// make bench, which measures what each costs. Never set it to count.
	Ablate uint32

	// PinPath, a directory on bpffs, keeps the programs attached and the
	// maps counting after Close: a later Load with the same options adopts
	// them, and AttachedAt stays the first Load's. Empty: nothing outlives
	// Close.
	PinPath string
}

// Hook is a way of hooking the syscall path, from the cheapest and most
// exact to the most widely available.
type Hook string

const (
	HookAuto Hook = ""
	// HookTPBTF uses BTF-enabled raw tracepoints (Linux 5.15+ with BTF):
	// one program at sys_exit counts calls and errors.
	HookTPBTF Hook = "tp_btf"
	// HookRawTracepoint uses raw tracepoints and needs no kernel BTF (Linux
	// 5.6+). Where the kernel has BTF it reads tasks' start times (a CO-RE
	// build); without, a reused pid is not told apart from its previous
	// process.
	HookRawTracepoint Hook = "raw_tracepoint"
	// HookTracepoint uses classic tracepoints (needs tracefs) and no BTF:
	// a reused pid is not told apart from its previous process, and
	// 32-bit processes' syscalls are named from the native table.
	HookTracepoint Hook = "tracepoint"
)

// Hooks lists the hooks in the order HookAuto tries them.
var Hooks = []Hook{HookTPBTF, HookRawTracepoint, HookTracepoint}

// Filter selects, in the kernel and before any counting work, which
// syscalls are counted. Non-empty fields combine with AND; each list is OR.
type Filter struct {
	PIDs  []uint32 // thread-group ids
	Comms []string // exact comm
	// CgroupDirs are cgroup v2 directories, at most MaxFilterCgroups;
	// their descendants are included.
	CgroupDirs []string
	// Syscalls, when set, lists the numbers counted per ABI.
	Syscalls *SyscallSelection
}

// SyscallSelection marks the syscall numbers to count, per ABI.
type SyscallSelection struct {
	Selected [ABICount][SyscallSlots]bool
	// AllowHighSyscalls says whether numbers beyond SyscallSlots are counted
	// (allow_high_syscalls in the programs).
	AllowHighSyscalls bool
}

func (o Options) grouped() bool { return o.GroupByProcess || o.GroupByThread || o.GroupByCgroup }

func (o Options) recordsExits() bool { return o.GroupByProcess || o.GroupByThread }

// Group says who made syscalls, as far as the options group them: unused
// fields are zero. StartNs is the boot-time start of the process (or the
// thread), so that a reused pid is a new group.
type Group struct {
	CgroupID uint64
	StartNs  uint64
	TGID     uint32
	TID      uint32
}

// OverflowGroup holds the counts of groups beyond MaxGroups, so that sums
// over all groups stay exact.
var OverflowGroup = Group{CgroupID: ^uint64(0), StartNs: ^uint64(0), TGID: ^uint32(0), TID: ^uint32(0)}

// SyscallKey identifies one counter: a syscall of a group.
type SyscallKey struct {
	Group   Group
	Nr, ABI uint32
}

// ErrorKey identifies the errors of one syscall of a group with one errno.
type ErrorKey struct {
	Group          Group
	Nr, ABI, Errno uint32
}

// SyscallTotals is one syscall's calls and time, summed over all CPUs.
type SyscallTotals struct {
	Calls      uint64
	DurationNs uint64 // sum of the measured durations
	// Shortest and longest measured duration; 0 when none was measured.
	MinNs, MaxNs uint64
}

// Buckets counts measured durations per histogram bucket index (see
// durationBounds for what an index covers).
type Buckets map[int32]uint64

// Counts is a snapshot of every counter. Counters only grow while a group
// lives, so a snapshot is a cumulative total since the programs attached.
type Counts struct {
	Syscalls map[SyscallKey]SyscallTotals
	Errors   map[ErrorKey]uint64
	// Durations are the histogram buckets of each syscall.
	Durations map[SyscallKey]Buckets
	// Groups are the groups admitted to the maps (at most MaxGroups).
	Groups []Group
	// Dropped counts counter updates lost because every map was full.
	Dropped uint64

	// callKeys are the keys the call maps hold, where timed calls are
	// counted in their buckets only (nil otherwise: then every key of
	// Syscalls is one). Forget deletes only keys that exist, so that its
	// batch delete does not stop at the first missing one.
	callKeys map[SyscallKey]struct{}
}

// inCallMaps says whether the call maps hold a counter under k.
func (c *Counts) inCallMaps(k SyscallKey) bool {
	if c.callKeys == nil {
		return true
	}
	_, ok := c.callKeys[k]
	return ok
}

// ExitedTask is a process (or thread) that exited, as the kernel saw it.
type ExitedTask struct {
	Comm    string
	StartNs uint64
}
