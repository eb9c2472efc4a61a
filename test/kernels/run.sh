#!/usr/bin/env bash
# run.sh — `make test-kernels`: boots each kernel of test/kernels/matrix under
# qemu (TCG: KVM does not work inside our CI VM), runs the kernel tests of
# bpf and receiver inside, then on this host's own kernel, and prints a report
# (test/kernels/report) of kernel × arch × hook × test. Root needed (the host
# run loads eBPF programs); exits non-zero if any test fails or any guest
# does not finish.
#
# Environment: KERNELS_ONLY="5.10-amd64 6.1-arm64" boots only those,
# KERNELS_ALL=1 the extra rows of the matrix too;
# TESTARGS="-test.run=TestX" is passed to every test binary; GUEST_TIMEOUT
# (seconds, default 900) bounds each guest; HOST=0 skips the host's kernel;
# KERNEL_LOGLEVEL=7 shows the guest kernel's messages (default 1: emergencies);
# KERNEL_ARGS adds to the guests' command line, X86_CPU sets qemu's -cpu.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
export KERNELS=$repo/_build/tools/kernels # downloads, kept across runs
out=$repo/_build/kernels                  # this run's binaries, logs, report
GUEST_TIMEOUT=${GUEST_TIMEOUT:-900}
TESTARGS=${TESTARGS:-}
GO=${GO:-go}
here=$repo/test/kernels

# The packages whose kernel tests run, and which of their tests (a -test.run
# pattern; empty: all): every test of bpf; of receiver, those that need
# nothing a guest lacks (those that use bpftool, strace, bpftrace or
# gcc-built referees, and the 20,000-process ones, stay with make test).
declare -A arch_packages=([amd64]="bpf receiver" [arm64]="bpf receiver")
declare -A package_dirs=([bpf]=bpf [receiver]=receiver/syscallsreceiver)
declare -A tests=(
	[bpf]=""
	[receiver]="^(TestExactCountsOfAShortLivedProcess|TestExcludeSelf|TestSystemWide|TestNamesMatchTheKernel|TestGroupByThread|TestGroupByContainer|TestFilterCgroups|TestFilterCommsAndCgroups|TestFilterSyscallNames|TestMaxGroupsOverflow|TestI386SyscallNames|TestReusedPidIsANewProcess|TestHostileComm)\$"
)

# The compilers for testdata/signals.c: native and the 32-bit compat ABI.
declare -A cc64=([amd64]="gcc" [arm64]="aarch64-linux-gnu-gcc")
declare -A cc32=([amd64]="gcc -m32" [arm64]="arm-linux-gnueabihf-gcc")

log() { echo "=== $*" >&2; }

# build ARCH: the test binary and its helpers for ARCH, all static (the
# guest has no libc, Go toolchain or gcc), in an initramfs with busybox.
build() {
	local arch=$1 dir=$out/$arch root
	root=$dir/root
	rm -rf "$dir" && mkdir -p "$root"/{bin,dev,proc,sys,tmp,root,tests/bin}
	log "building the kernel tests and their helpers for $arch"
	for pkg in ${arch_packages[$arch]}; do
		CGO_ENABLED=0 GOOS=linux GOARCH=$arch "$GO" test -c -o "$root/tests/$pkg.test" "./${package_dirs[$pkg]}"
		mkdir -p "$root/tests/$pkg" && cp -r "${package_dirs[$pkg]}/testdata" "$root/tests/$pkg/"
		echo "${tests[$pkg]}" >"$root/tests/$pkg.run"
	done
	for cmd in syscall-workload nanosleeper; do
		CGO_ENABLED=0 GOOS=linux GOARCH=$arch "$GO" build -o "$root/tests/bin/$cmd" ./internal/workload/cmd/$cmd
	done
	# shellcheck disable=SC2086 # the compilers carry their flags
	${cc64[$arch]} -static -O2 -o "$root/tests/bin/signals64" bpf/testdata/signals.c
	# shellcheck disable=SC2086
	${cc32[$arch]} -static -O2 -o "$root/tests/bin/signals32" bpf/testdata/signals.c
	# shellcheck disable=SC2086
	${cc64[$arch]} -static -O2 -o "$root/tests/bin/killed_at_entry" bpf/testdata/killed_at_entry.c
	if [[ $arch == amd64 ]]; then # TestI386SyscallNames
		gcc -m32 -static -O2 -o "$root/tests/bin/getppid32" receiver/syscallsreceiver/testdata/i386/getppid32.c
	fi

	"$here/fetch.sh" "busybox-$arch" bookworm "$arch" busybox-static
	cp "$KERNELS/busybox-$arch/root/bin/busybox" "$root/bin/"
	cp "$here/init" "$root/init"
	chmod +x "$root/init"
	mknod "$root/dev/console" c 5 1 # where the kernel sends init's output
	# Uncompressed: under TCG, gunzip in the guest costs seconds.
	(cd "$root" && find . | cpio -o -H newc --quiet) >"$dir/initrd.cpio"
}

# boot NAME ARCH SUITE: one guest; its console, test events and a summary
# line (meta) go to $out/NAME-ARCH.
boot() {
	local name=$1 arch=$2 suite=$3 dir=$out/$1-$2 vmlinuz qemu console append
	rm -rf "$dir" && mkdir -p "$dir"
	"$here/fetch.sh" "$name-$arch" "$suite" "$arch" "linux-image-cloud-$arch"
	vmlinuz=$(ls "$KERNELS/$name-$arch"/root/boot/vmlinuz-*)
	local timeout=$GUEST_TIMEOUT args=$TESTARGS
	case $arch in
	amd64)
		# One host thread for both vCPUs: with multi-threaded TCG, 5.10
		# guests hung in syscall_trace_enter after a few dozen attaches
		# (soft lockups on both vCPUs), never with a single thread.
		qemu=(qemu-system-x86_64 -accel tcg,thread=single -cpu "${X86_CPU:-max}")
		console=ttyS0 ;;
	arm64)
		qemu=(qemu-system-aarch64 -M virt -accel tcg,thread=multi -cpu max)
		console=ttyAMA0
		# Emulating another architecture is ~10 times slower: each program
		# load takes seconds, so the sigreturn test's -test.short variant.
		timeout=$((GUEST_TIMEOUT * 2))
		args="-test.short $args" ;;
	esac
	# panic=-1 with -no-reboot: if init dies, qemu exits at once.
	append="console=$console panic=-1 loglevel=${KERNEL_LOGLEVEL:-1} random.trust_cpu=on ${KERNEL_ARGS:-} TESTTIMEOUT=$((timeout - 60))s"
	[[ -z $args ]] || append+=" TESTARGS=\"$args\""
	log "booting $name $arch ($(basename "$vmlinuz"), timeout ${timeout}s)"
	local start=$SECONDS rc=0
	timeout -k 10 "$timeout" "${qemu[@]}" -m 1024 -smp 2 -nographic -no-reboot \
		-kernel "$vmlinuz" -initrd "$out/$arch/initrd.cpio" -append "$append" \
		</dev/null >"$dir/console.log" 2>&1 || rc=$?
	local secs=$((SECONDS - start)) status release
	tr -d '\r' <"$dir/console.log" >"$dir/console.txt"
	status=$(sed -n 's/^SYSCALLS-GUEST-END status=\([0-9]*\).*/\1/p' "$dir/console.txt")
	# (The BIOS's escape codes may precede the marker on its line.)
	release=$(sed -n 's/.*SYSCALLS-GUEST-START \([^ ]*\).*/\1/p' "$dir/console.txt")
	sed -n 's/^SYSCALLS-GUEST-KERNEL-WARNING //p' "$dir/console.txt" >"$dir/warnings"
	if [[ -z $status ]]; then
		status=$([[ $rc == 124 ]] && echo "timeout after ${timeout}s" || echo "no end marker (qemu exit $rc)")
		tail -n 30 "$dir/console.txt" >&2
	fi
	# Each package's output, between its marker and the next, as test2json
	# events (events-PACKAGE.json).
	awk -v dir="$dir" '/^SYSCALLS-GUEST-PACKAGE /{f = dir "/out-" $2 ".txt"; next}
		/^SYSCALLS-GUEST-(END|KERNEL)/{f = ""} f {print > f}' "$dir/console.txt"
	local pkg
	for pkg in ${arch_packages[$arch]}; do
		touch "$dir/out-$pkg.txt"
		"$GO" tool test2json -p "$pkg" <"$dir/out-$pkg.txt" >"$dir/events-$pkg.json"
	done
	printf 'kernel=%s\narch=%s\nsource=Debian %s %s\nstatus=%s\nseconds=%s\n' \
		"$name" "$arch" "$suite" "${release:-?}" "$status" "$secs" >"$dir/meta"
	log "$name $arch: status $status in ${secs}s"
}

# host ARCH: the same test binary on the kernel this machine runs.
host() {
	local dir=$out/host-$1 start=$SECONDS rc=0
	rm -rf "$dir" && mkdir -p "$dir"
	log "running the kernel tests on this host's kernel ($(uname -r))"
	local pkg bins=$out/$1/root/tests
	for pkg in ${arch_packages[$1]}; do
		# shellcheck disable=SC2086
		(cd "${package_dirs[$pkg]}" && SYSCALLS_TEST_BIN_DIR=$bins/bin "$bins/$pkg.test" -test.v=test2json -test.count=1 \
			-test.timeout=20m ${tests[$pkg]:+"-test.run=${tests[$pkg]}"} $TESTARGS 2>&1) |
			"$GO" tool test2json -p "$pkg" >"$dir/events-$pkg.json" || rc=$?
	done
	printf 'kernel=host\narch=%s\nsource=this machine %s\nstatus=%s\nseconds=%s\n' \
		"$1" "$(uname -r)" "$rc" "$((SECONDS - start))" >"$dir/meta"
}

mkdir -p "$out"
rm -rf "$out"/*-amd64 "$out"/*-arm64
mapfile -t rows < <(grep -v '^#' "$here/matrix" | awk 'NF >= 3')
built=""
for row in "${rows[@]}"; do
	read -r name arch suite when <<<"$row"
	if [[ -n ${KERNELS_ONLY:-} ]]; then
		[[ " $KERNELS_ONLY " == *" $name-$arch "* ]] || continue
	elif [[ $when == extra && ${KERNELS_ALL:-0} != 1 ]]; then
		continue
	fi
	[[ $built == *"$arch"* ]] || { build "$arch"; built+=" $arch"; }
	boot "$name" "$arch" "$suite"
done
hostarch=$("$GO" env GOARCH)
if [[ ${HOST:-1} == 1 ]]; then
	[[ $built == *"$hostarch"* ]] || build "$hostarch"
	host "$hostarch"
fi
shopt -s nullglob
"$GO" build -o "$out/report" ./test/kernels/report
"$out/report" "$out"/*-amd64 "$out"/*-arm64 | tee "$out/report.md"
