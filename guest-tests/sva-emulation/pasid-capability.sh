#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The user-queue virtio-crypto device has a PCIe PASID extended capability (ID 0x1b), and the kernel
# enabled it (arm-smmu-v3 does so at probe for a master with PASIDs behind an SMMU with substreams).
# The other virtio devices, on the root bus, have none.
#
# 1. exactly one virtio-crypto device (1af4:1054) has the PASID capability
# 2. its Max PASID Width (capability register bits 12:8) is not 0
# 3. its PASID Enable (control register bit 0) is set
#
# TAP 13 on stdout; exit 0 when all passed, 1 otherwise. busybox sh only.

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

# A little-endian dword of a config space file at a byte offset, as a number.
dword() { echo $((0x$(od -A n -t x4 -j "$2" -N 4 "$1" | tr -d ' '))); }

# The offset of extended capability $2 in $1's config space, or nothing.
ext_cap() {
	off=256
	size=$(wc -c < "$1")
	[ "$size" -gt 256 ] || return 0
	while [ "$off" -ne 0 ]; do
		hdr=$(dword "$1" "$off")
		[ "$hdr" -eq 0 ] && return 0
		if [ $((hdr & 0xffff)) -eq "$2" ]; then
			echo "$off"
			return 0
		fi
		off=$(( (hdr >> 20) & 0xffc ))
	done
}

echo "TAP version 13"
echo "1..3"

found=""
for dev in /sys/bus/pci/devices/*; do
	cfg="$dev/config"
	off=$(ext_cap "$cfg" $((0x1b)))
	[ -n "$off" ] || continue
	vendev="$(cat "$dev/vendor"):$(cat "$dev/device")"
	diag "${dev##*/} ($vendev): PASID capability at 0x$(printf '%x' "$off")"
	found="$found ${dev##*/}"
	if [ "$vendev" = "0x1af4:0x1054" ]; then
		crypto="$dev"
		crypto_off="$off"
	fi
done
count=$(echo $found | wc -w)
if [ -n "$crypto" ] && [ "$count" -eq 1 ]; then
	ok "one device with a PASID capability, the virtio-crypto device ${crypto##*/}"
else
	not_ok "one device with a PASID capability, a virtio-crypto device (found: ${found:-none})"
fi

if [ -n "$crypto" ]; then
	reg=$(dword "$crypto/config" $((crypto_off + 4)))
	width=$(( (reg >> 8) & 0x1f ))
	enabled=$(( (reg >> 16) & 1 ))
	diag "capability register 0x$(printf '%04x' $((reg & 0xffff))), control register 0x$(printf '%04x' $((reg >> 16)))"
	if [ "$width" -gt 0 ]; then ok "Max PASID Width = $width"; else not_ok "Max PASID Width = 0"; fi
	if [ "$enabled" -eq 1 ]; then ok "PASID Enable set by the kernel"; else not_ok "PASID Enable clear (the kernel did not enable PASID)"; fi
else
	not_ok "Max PASID Width (no device)"
	not_ok "PASID Enable (no device)"
fi

[ "$fails" -eq 0 ] || exit 1
exit 0
