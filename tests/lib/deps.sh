#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages that the build, the tests and the demo need,
# when they are missing, and mount bpffs. Run as root (make deps, make test
# and make demo call it). Quiet when there is nothing to do.

set -euo pipefail

PACKAGES=(
	# build
	clang llvm make gcc pkg-config
	libbpf-dev libxdp-dev bpftool xdp-tools
	libelf-dev zlib1g-dev libyaml-dev libpcap-dev libssl-dev libmicrohttpd-dev libcap-ng-dev
	libfixbuf-dev
	# tests and demo
	libcmocka-dev libmodbus-dev
	netsniff-ng tcpreplay tshark tcpdump curl man-db groff-base
	iproute2 iputils-ping socat nftables ethtool
	util-linux procps xxd jq python3 gnuplot-nox
	# IPFIX collectors of the connection-record tests
	libfixbuf-tools nfdump
	# benchmarks (make bench)
	time
	# operations tests: systemd-analyze verify of the unit
	systemd
)

# One dpkg query for all of them. Ask for the installed state explicitly:
# a removed package whose configuration files remain is still "known".
installed=" $(dpkg-query -W -f='${Package}:${db:Status-Status} ' "${PACKAGES[@]}" \
	2>/dev/null || true) "
missing=()
for pkg in "${PACKAGES[@]}"; do
	case "$installed" in
	*" $pkg:installed "*) ;;
	*) missing+=("$pkg") ;;
	esac
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages: ${missing[*]}" >&2
		echo "deps: run as root (or install them with apt-get)" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	# tshark asks whether non-root users may capture; answer before it does.
	echo 'wireshark-common wireshark-common/install-setuid boolean false' |
		debconf-set-selections
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The loader pins maps and links under /sys/fs/bpf.
if ! mountpoint -q /sys/fs/bpf; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: bpffs is not mounted at /sys/fs/bpf (run as root)" >&2
		exit 1
	fi
	mkdir -p /sys/fs/bpf
	mount -t bpf bpf /sys/fs/bpf
fi
