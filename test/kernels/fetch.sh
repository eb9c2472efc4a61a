#!/usr/bin/env bash
# fetch.sh NAME SUITE ARCH PACKAGE... — downloads Debian packages of SUITE for
# ARCH and unpacks them into $KERNELS/NAME/root, once (cached). A package
# named linux-image-cloud-ARCH (the metapackage) stands for the kernel it
# depends on today, so the script keeps working when Debian bumps the ABI.
#
# apt runs with a private source list, list and cache directory under
# $KERNELS/apt: the machine's own sources and package lists stay as they are,
# and suites or architectures it does not use (bullseye, backports, arm64)
# need no `dpkg --add-architecture`.
set -euo pipefail

name=$1 suite=$2 arch=$3
shift 3
: "${KERNELS:?set KERNELS to the cache directory}"

dest=$KERNELS/$name
if [[ -f $dest/.done ]]; then
	exit 0
fi

priv=$KERNELS/apt/$suite-$arch
mkdir -p "$priv/lists/partial" "$priv/cache/archives/partial" "$priv/parts"
: >"$priv/status" # an empty dpkg status: what the host has installed plays no part
# Backports is an addition to its base suite: apt needs both to resolve.
base=${suite%-backports}
{
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $base main"
	if [[ $suite != "$base" ]]; then
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main"
	fi
} >"$priv/sources.list"
apt=(
	-o "Dir::Etc::sourcelist=$priv/sources.list"
	-o "Dir::Etc::sourceparts=$priv/parts"
	-o "Dir::State::Lists=$priv/lists"
	-o "Dir::Cache=$priv/cache"
	-o "Dir::State::status=$priv/status"
	-o "APT::Architectures::=$arch"
	-o "APT::Architecture=$arch"
	-o "APT::Sandbox::User=root" # it writes into our cache, which _apt may not
	-o "Acquire::Languages=none"
	-o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
	-o "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false"
	-o "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false"
)
apt-get "${apt[@]}" -qq update

pkgs=()
for p in "$@"; do
	if [[ $p == linux-image-cloud-* ]]; then
		# The newest version in the list wins (backports over its base).
		ver=$(apt-cache "${apt[@]}" madison "$p" | awk -v s="$suite" '$0 ~ s"/main" {print $3; exit}')
		dep=$(apt-cache "${apt[@]}" show "$p=$ver" | sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -1)
		[[ -n $dep ]] || { echo "fetch.sh: no kernel behind $p in $suite/$arch" >&2; exit 1; }
		p=$dep
	fi
	pkgs+=("$p")
done

rm -rf "$dest" && mkdir -p "$dest/debs" "$dest/root"
(cd "$dest/debs" && apt-get "${apt[@]}" -qq download "${pkgs[@]}")
for deb in "$dest"/debs/*.deb; do
	dpkg-deb -x "$deb" "$dest/root"
done
# Only vmlinuz and busybox are used: drop the modules (~100 MB) and dtbs.
rm -rf "$dest"/root/lib/modules "$dest"/root/usr/lib/modules "$dest"/root/usr/lib/linux-image-* "$dest/debs"
printf '%s\n' "${pkgs[@]}" >"$dest/packages"
touch "$dest/.done"
