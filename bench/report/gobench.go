package report

import (
	"strconv"
	"strings"
)

// ParseGoBench reads `go test -bench` output into values by benchmark (name
// without the -GOMAXPROCS suffix) and unit, one value per -count run.
func ParseGoBench(output string) map[string]map[string][]float64 {
	out := map[string]map[string][]float64{}
	for line := range strings.Lines(output) {
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue // not a result line
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		if out[name] == nil {
			out[name] = map[string][]float64{}
		}
		// After the iteration count come value-unit pairs.
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				break
			}
			out[name][fields[i+1]] = append(out[name][fields[i+1]], v)
		}
	}
	return out
}
