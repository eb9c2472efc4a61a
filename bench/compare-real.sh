#!/usr/bin/env bash
# compare-real.sh BASE — `make bench-compare-real BASE=rev`: the collector of
# revision BASE and of this checkout on a real server, side by side in one
# run. redis-server (pinned to CPU 0) under redis-benchmark GET+SET (CPU 1)
# on loopback, in alternating rounds: nothing attached, BASE, this checkout,
# and each extra receiver setting of COMPARE_EXTRA (";"-separated YAML lines
# under `syscalls:`, e.g. "duration: {sample_one_in: 16}"), all in the
# default mode (per process, calls, errors, durations). Prints each
# variant's median requests/s, its loss, and its programs' in-kernel ns per
# run (the kernel's bpf_stats, on for the whole run and then restored, which
# adds a clock read per program run to every variant alike; only one
# collector may run meanwhile, as programs are found by name). COMPARE_ROUNDS (7),
# COMPARE_REQUESTS (150000).
set -euo pipefail
base=${1:?usage: compare-real.sh BASE-REVISION}
rounds=${COMPARE_ROUNDS:-7}
requests=${COMPARE_REQUESTS:-150000}
GO=${GO:-go}
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null && command -v bpftool >/dev/null ||
	{ apt-get update -qq && apt-get install -y -qq redis-server redis-tools bpftool; }
out=$PWD/_build/compare-real
rm -rf "$out" && mkdir -p "$out"
git worktree prune
git worktree add --quiet --detach "$out/base-tree" "$base"
redis= pid=
stats_before=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	[ -z "$redis" ] || kill "$redis" 2>/dev/null || true
	sysctl -qw kernel.bpf_stats_enabled="$stats_before" || true
	git worktree remove --force "$out/base-tree" || true
}
trap cleanup EXIT
ocb=$("$GO" env GOPATH)/bin/builder
(cd "$out/base-tree" && "$ocb" --config builder-config.yaml >"$out/build-base.log" 2>&1) || { tail "$out/build-base.log"; exit 1; }
"$ocb" --config builder-config.yaml >"$out/build-head.log" 2>&1 || { tail "$out/build-head.log"; exit 1; }
cp "$out/base-tree/_build/otelcol-syscalls" "$out/base.bin"
cp _build/otelcol-syscalls "$out/head.bin"

variants=("nothing|" "base|$out/base.bin|" "head|$out/head.bin|")
IFS=';' read -r -a extras <<<"${COMPARE_EXTRA:-}"
for e in "${extras[@]}"; do
	[ -n "$e" ] && variants+=("head, $e|$out/head.bin|$e")
done

sysctl -qw kernel.bpf_stats_enabled=1
# TCP on loopback, as clients reach a server.
port=$((20000 + RANDOM % 20000))
taskset -c 0 redis-server --port $port --save '' --appendonly no >/dev/null 2>&1 &
redis=$!
sleep 1
load() {
	taskset -c 1 redis-benchmark -p $port -q -n "$requests" -c 20 -t get,set 2>/dev/null |
		awk '/requests per second/ { gsub(",", ""); for (i = 1; i < NF; i++) if ($(i + 1) == "requests") { s += $i; n++ } } END { if (n) printf "%.0f", s / n }'
}
config() {
	printf 'receivers:\n  syscalls:\n    collection_interval: 5s\n    group_by: [process]\n    exclude_self: true\n'
	[ -n "$1" ] && printf '    %s\n' "$1"
	printf 'exporters:\n  debug: {verbosity: basic}\nservice:\n  telemetry: {metrics: {level: none}}\n'
	printf '  pipelines:\n    metrics: {receivers: [syscalls], exporters: [debug]}\n'
}
for r in $(seq "$rounds"); do
	for i in "${!variants[@]}"; do
		IFS='|' read -r name bin extra <<<"${variants[$i]}"
		pid=
		if [ -n "$bin" ]; then
			config "$extra" >"$out/config-$i.yaml"
			"$bin" --config "$out/config-$i.yaml" >"$out/collector-$i.log" 2>&1 &
			pid=$!
			for _ in $(seq 300); do grep -q "Everything is ready" "$out/collector-$i.log" && break; sleep 0.1; done
			grep -q "Everything is ready" "$out/collector-$i.log" || { tail "$out/collector-$i.log"; exit 1; }
		fi
		rate=$(load)
		[ -n "$rate" ] || { echo "redis-benchmark gave no rate ($name, round $r)" >&2; exit 1; }
		stats=
		if [ -n "$pid" ]; then
			stats=$(bpftool prog show -j | python3 -c 'import json, sys
d = {p["name"]: p for p in json.load(sys.stdin) if p.get("name") in ("syscalls_enter", "syscalls_exit") and p.get("run_cnt")}
print(" ".join("%d" % (d[k]["run_time_ns"] / d[k]["run_cnt"]) for k in ("syscalls_enter", "syscalls_exit") if k in d))')
			kill "$pid" && wait "$pid" 2>/dev/null || true
			pid=
		fi
		echo "$r|$name|$rate|$stats" | tee -a "$out/rounds.txt" >&2
	done
done
echo "base $(git rev-parse --short "$base"), head $(git describe --always --dirty); redis GET+SET, $rounds alternating rounds, medians [min…max]"
python3 - "$out/rounds.txt" <<'PY' | tee "$out/compare.txt"
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    _, name, rate, stats = line.rstrip("\n").split("|")
    r = rows.setdefault(name, {"rate": [], "enter": [], "exit": []})
    r["rate"].append(float(rate))
    parts = stats.split()
    if len(parts) == 2:
        r["enter"].append(float(parts[0])); r["exit"].append(float(parts[1]))
none = statistics.median(rows["nothing"]["rate"])
print("%-55s %28s %7s %24s" % ("variant", "requests/s", "loss", "in-kernel enter+exit ns"))
for name, r in rows.items():
    med = statistics.median(r["rate"])
    cell = "%d [%d…%d]" % (med, min(r["rate"]), max(r["rate"]))
    k = ""
    if r["exit"]:
        e, x = statistics.median(r["enter"]), statistics.median(r["exit"])
        k = "%d + %d = %d" % (e, x, e + x)
    loss = "" if name == "nothing" else "%.1f %%" % (100 * (1 - med / none))
    print("%-55s %28s %7s %24s" % (name, cell, loss, k))
PY
