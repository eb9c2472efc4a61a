package peer

import (
	"errors"
	"maps"
	"testing"
)

func TestParseBpftraceMap(t *testing.T) {
	out := `Attaching 1 probe...
^C

@[0]: 12
@[110]: 1250000
@[my (odd) comm]: 7
@[110]: 5
@[4242, 110]: 500000
`
	want := map[string]uint64{"0": 12, "110": 1250005, "my (odd) comm": 7, "4242, 110": 500000}
	if got := ParseBpftraceMap(out); !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// Outputs as printed by libbpf-tools syscount 0.26 and strace 6.1.
func TestParseColumns(t *testing.T) {
	syscount := `Tracing syscalls, printing top 10... Ctrl+C to quit.
^C[08:10:11]
SYSCALL                   COUNT
getppid                 1260000
futex                        87
`
	syscountL := `[08:10:11]
SYSCALL                   COUNT        TIME (us)
getppid                 1260000         3691.287
`
	syscountP := `[08:10:11]
PID    COMM               COUNT
31788  syscallbench     1260000
4242   tmux: server          12
`
	strace := `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 99.71    0.465766          23     30000           getppid
  0.29    0.001349          13       100        12 openat
------ ----------- ----------- --------- --------- ----------------
100.00    0.467115          15     30100        12 total
`
	for _, tt := range []struct {
		name       string
		out        string
		key, count int
		want       map[string]uint64
	}{
		{"syscount", syscount, 0, 1, map[string]uint64{"getppid": 1260000, "futex": 87}},
		{"syscount -L", syscountL, 0, 1, map[string]uint64{"getppid": 1260000}},
		{"syscount -P", syscountP, 0, -1, map[string]uint64{"31788": 1260000, "4242": 12}},
		{"strace -c", strace, -1, 3, map[string]uint64{"getppid": 30000, "openat": 100, "total": 30100}},
	} {
		if got := ParseColumns(tt.out, tt.key, tt.count); !maps.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCounted(t *testing.T) {
	got := map[string]uint64{"getppid": 1000, "42": 10}
	if err := Counted("tool", got, map[string]uint64{"getppid": 1000}); err != nil {
		t.Error(err)
	}
	err := Counted("tool", got, map[string]uint64{"getppid": 1001, "43": 1})
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Errorf("want two errors, got %v", err)
	}
}
