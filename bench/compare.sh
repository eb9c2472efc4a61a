#!/usr/bin/env bash
# compare.sh BASE — `make bench-compare BASE=rev`: the getppid benchmark of
# revision BASE and of this checkout side by side in one run. The two
# syscallbench binaries (each with its own BPF programs) alternate round by
# round, so that the machine's noise falls on both alike; then
# bench/compare prints each variant's medians and head ÷ base.
# COMPARE_ROUNDS (5) rounds; BENCH_ONLY picks the variants (default: the
# system-wide, per-process and default modes); BENCH_N as for make bench.
set -euo pipefail
base=${1:?usage: compare.sh BASE-REVISION}
rounds=${COMPARE_ROUNDS:-5}
export BENCH_ONLY=${BENCH_ONLY:-"system-wide, calls|per process, calls+errors|duration histogram"}
export BENCH_ROUNDS=1
GO=${GO:-go}
cd "$(dirname "$0")/.."
out=$PWD/_build/compare
rm -rf "$out" && mkdir -p "$out"
git worktree add --quiet --detach "$out/base-tree" "$base"
trap 'git worktree remove --force "$out/base-tree"' EXIT
(cd "$out/base-tree" && "$GO" build -o "$out/base.bin" ./bench/cmd/syscallbench)
"$GO" build -o "$out/head.bin" ./bench/cmd/syscallbench
for r in $(seq "$rounds"); do
	for rev in base head; do
		echo "=== round $r of $rounds: $rev" >&2
		BENCH_REVISION=$rev "$out/$rev.bin" -o "$out/$rev-$r.txt" >/dev/null 2>"$out/$rev-$r.log" ||
			{ tail -n 20 "$out/$rev-$r.log" >&2; exit 1; }
	done
done
echo "base $(git rev-parse --short "$base"), head $(git describe --always --dirty); $rounds alternating rounds; medians, ns per syscall"
"$GO" run ./bench/compare "$out" | tee "$out/compare.txt"
