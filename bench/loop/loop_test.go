//go:build linux

package loop

import (
	"os"
	"testing"
)

func TestRun(t *testing.T) {
	cpus, err := CPUs()
	if err != nil || len(cpus) == 0 {
		t.Fatalf("CPUs() = %v, %v", cpus, err)
	}
	for _, use := range [][]int{cpus[:1], cpus} {
		r, err := Run(1000, use)
		if err != nil {
			t.Fatal(err)
		}
		if r.Calls != uint64(len(use)*(1000+warmup)) || r.PID != os.Getpid() || r.NsPerCall <= 0 {
			t.Errorf("Run on %v = %+v", use, r)
		}
	}
}
