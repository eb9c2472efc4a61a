//go:build linux && (amd64 || arm64)

package engine

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// processInfo is what the resource of a process carries. Exe and PPID are
// known only while the process is alive.
type processInfo struct {
	Comm       string
	Exe        string
	PPID       int64  // 0 when unknown
	StartTicks uint64 // start time in clock ticks since boot (/proc/PID/stat field 22)
}

// readProcess reads a live process's metadata from procfs; ok is false when
// the process no longer exists. Nothing read here is trusted: a comm can
// hold any bytes, including spaces, parentheses and invalid UTF-8.
func readProcess(procfs string, tgid uint32) (info processInfo, ok bool) {
	dir := filepath.Join(procfs, strconv.FormatUint(uint64(tgid), 10))
	info.Comm, info.PPID, info.StartTicks, ok = readStat(dir)
	if !ok {
		return processInfo{}, false
	}
	// Fails for zombies and, without CAP_SYS_PTRACE, for other users'
	// processes: the attribute is then left out.
	if exe, err := os.Readlink(filepath.Join(dir, "exe")); err == nil {
		info.Exe = sanitize(exe)
	}
	return info, true
}

// readStat reads DIR/stat (DIR is /proc/ID) with plain syscalls into a
// stack buffer: os.ReadFile adds an fstat, an fcntl and a second read, and
// with a thousand processes a scrape spends most of its time here.
func readStat(dir string) (comm string, ppid int64, startTicks uint64, ok bool) {
	fd, err := unix.Open(dir+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", 0, 0, false
	}
	var buf [4096]byte // a stat line is well under 1 KiB
	n, err := unix.Read(fd, buf[:])
	_ = unix.Close(fd)
	if err != nil || n <= 0 {
		return "", 0, 0, false
	}
	comm, ppid, startTicks = parseStat(buf[:n])
	return comm, ppid, startTicks, true
}

// parseStat extracts comm, ppid and start time from /proc/PID/stat: "pid
// (comm) state ppid ... starttime ...". The comm may itself contain ") ",
// so it ends at the last ')'.
func parseStat(stat []byte) (comm string, ppid int64, startTicks uint64) {
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return "", 0, 0
	}
	comm = sanitize(string(stat[open+1 : end]))
	// Fields after the comm, from 0: state, ppid (1), …, starttime (19).
	field, rest := 0, stat[end+1:]
	for len(rest) > 0 && field <= 19 {
		rest = bytes.TrimLeft(rest, " ")
		value := rest
		if i := bytes.IndexByte(rest, ' '); i >= 0 {
			value, rest = rest[:i], rest[i:]
		} else {
			rest = nil
		}
		switch field {
		case 1:
			ppid = parseInt(value)
		case 19:
			startTicks = uint64(max(parseInt(value), 0))
		}
		field++
	}
	return comm, ppid, startTicks
}

// parseInt parses a decimal integer without allocating; 0 if it is not one.
func parseInt(b []byte) int64 {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var v int64
	for _, c := range bytes.TrimSpace(b) {
		if c < '0' || c > '9' {
			return 0
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		return -v
	}
	return v
}

// ticksPerSecond is USER_HZ, the unit of /proc start times: 100 on every
// Linux architecture.
const ticksPerSecond = 100

// startTicks converts the kernel's boot-time start in ns, as the programs
// record it, to /proc's clock ticks, exactly as the kernel does.
func startTicks(startNs uint64) uint64 { return startNs / (1e9 / ticksPerSecond) }

// sameStart says whether a task that started at ticks is the one the
// programs recorded as starting at startNs. Programs hooked without BTF
// cannot read start times (0): any task with the id is taken for it.
func sameStart(startNs, ticks uint64) bool { return startNs == 0 || startTicks(startNs) == ticks }

// procCgroup reads a process's cgroup path from /proc/PID/cgroup: the
// cgroup v2 entry, else the v1 name=systemd one (hosts without v2).
func procCgroup(procfs string, tgid uint32) string {
	data, err := os.ReadFile(filepath.Join(procfs, strconv.FormatUint(uint64(tgid), 10), "cgroup"))
	if err != nil {
		return ""
	}
	var v1 string
	for line := range strings.SplitSeq(string(data), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			return sanitize(path)
		}
		if _, path, ok := strings.Cut(line, ":name=systemd:"); ok {
			v1 = sanitize(path)
		}
	}
	return v1
}

// sanitize makes a kernel string safe to export: valid UTF-8, no NULs.
func sanitize(s string) string {
	s, _, _ = strings.Cut(s, "\x00")
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	// Control characters are valid UTF-8 but let a process forge log lines
	// or terminal escapes wherever its name is printed: show them as \xNN.
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isControl matches the C0 controls and DEL (C1 controls are not valid
// single bytes in UTF-8 and were replaced above).
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
