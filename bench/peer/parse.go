package peer

import (
	"regexp"
	"strconv"
	"strings"
)

var bpftraceEntry = regexp.MustCompile(`^@\[(.*)\]: (\d+)$`)

// ParseBpftraceMap reads the "@[key]: count" lines bpftrace prints for a
// map of counts on exit.
func ParseBpftraceMap(output string) map[string]uint64 {
	counts := map[string]uint64{}
	for line := range strings.Lines(output) {
		m := bpftraceEntry.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		if n, err := strconv.ParseUint(m[2], 10, 64); err == nil {
			counts[m[1]] += n
		}
	}
	return counts
}

// ParseColumns reads a whitespace-separated table: the key is field key
// and the count field count of each row, negative indexes counting from
// the end. Rows whose count is not a number (headers, rulers, timestamps)
// are skipped. It reads syscount ("getppid 1000", "PID COMM COUNT") and
// strace -c ("% time seconds usecs/call calls [errors] syscall").
func ParseColumns(output string, key, count int) map[string]uint64 {
	counts := map[string]uint64{}
	for line := range strings.Lines(output) {
		fields := strings.Fields(line)
		k, c := index(key, len(fields)), index(count, len(fields))
		if k < 0 || c < 0 || k == c {
			continue
		}
		if n, err := strconv.ParseUint(fields[c], 10, 64); err == nil {
			counts[fields[k]] += n
		}
	}
	return counts
}

func index(i, n int) int {
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		return -1
	}
	return i
}
