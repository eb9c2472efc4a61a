package kstats

import (
	"math"
	"testing"
	"time"
)

func TestPerSyscall(t *testing.T) {
	before := map[uint32]Sample{
		1: {RunCount: 100, RunTime: time.Microsecond},
		2: {RunCount: 100, RunTime: time.Microsecond},
	}
	after := map[uint32]Sample{
		1: {RunCount: 1100, RunTime: time.Microsecond + 40*time.Microsecond},  // 40 ns/run
		2: {RunCount: 1150, RunTime: time.Microsecond + 105*time.Microsecond}, // 100 ns/run
		3: {RunCount: 2, RunTime: 500 * time.Nanosecond},                      // sched_process_exit
		4: {},                                                                 // loaded, never attached
	}
	ns, ok := PerSyscall(before, after, 1000)
	if !ok || math.Abs(ns-140) > 1e-9 {
		t.Errorf("PerSyscall = %v, %v; want 140, true", ns, ok)
	}
	if _, ok := PerSyscall(before, before, 1000); ok {
		t.Error("no program ran, yet PerSyscall is ok")
	}
}

func TestPerHookRun(t *testing.T) {
	before := map[uint32]Sample{1: {RunCount: 10}, 2: {RunCount: 10}}
	after := map[uint32]Sample{
		1: {RunCount: 1010, RunTime: 30 * time.Microsecond}, // sys_enter, 30 ns/run
		2: {RunCount: 1008, RunTime: 70 * time.Microsecond}, // sys_exit (two calls still in flight), ~69 ns/run
		3: {RunCount: 40, RunTime: 400 * time.Microsecond},  // sched_process_exit
		4: {RunCount: 0, RunTime: 0},                        // loaded, never attached
	}
	ns, ok := PerHookRun(before, after)
	if want := 30 + 70000.0/998; !ok || math.Abs(ns-want) > 1e-9 {
		t.Errorf("PerHookRun = %v, %v; want %v, true", ns, ok, want)
	}
	if _, ok := PerHookRun(before, before); ok {
		t.Error("no program ran, yet PerHookRun is ok")
	}
}

func TestFdinfoField(t *testing.T) {
	info := "pos:\t0\nflags:\t02000002\nmnt_id:\t16\nino:\t1057\nprog_type:\t5\nprog_jited:\t1\nprog_tag:\tb384d88950b7bbb9\nmemlock:\t4096\nprog_id:\t441\nrun_time_ns:\t0\nrun_cnt:\t0\n"
	if id, ok := FdinfoField(info, "prog_id:"); !ok || id != 441 {
		t.Errorf("prog_id = %d, %v", id, ok)
	}
	if _, ok := FdinfoField(info, "link_id:"); ok {
		t.Error("found a field that is not there")
	}
}
