#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Every virtio PCI device (vendor 0x1af4) sits behind the SMMUv3 in an IOMMU group whose default
# domain translates DMA (type DMA, or DMA-FQ with a flush queue), and the machine has the devices the
# harness gives it: one virtio-net (0x1041) and at least two virtio-crypto (0x1054: the kernel-side one
# and the user-queue one; the SVA machine adds a third), each in its own group.
#
# TAP points: one per virtio device, then: one virtio-net; two or more virtio-crypto; distinct groups.
# TAP 13 on stdout; exit 0 when all passed, 1 otherwise. busybox sh only.

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

devs=""
for d in /sys/bus/pci/devices/*; do
	[ -r "$d/vendor" ] || continue
	[ "$(cat "$d/vendor")" = "0x1af4" ] || continue
	devs="$devs ${d##*/}"
done
count=0
for bdf in $devs; do count=$((count + 1)); done

echo "TAP version 13"
echo "1..$((count + 3))"
dom=$(dmesg | grep 'iommu: Default domain type')
[ -n "$dom" ] && diag "$dom"

nnet=0
ncrypto=0
groups=""
for bdf in $devs; do
	d=/sys/bus/pci/devices/$bdf
	id=$(cat "$d/device")
	case $id in
	0x1041) kind=virtio-net; nnet=$((nnet + 1)) ;;
	0x1054) kind=virtio-crypto; ncrypto=$((ncrypto + 1)) ;;
	*) kind=virtio ;;
	esac
	what="$bdf $kind (1af4:${id#0x})"
	if [ -L "$d/driver" ]; then
		diag "$bdf: driver $(basename "$(readlink "$d/driver")")"
	else
		diag "$bdf: no driver bound (6.12 assigns the group when a driver binds)"
	fi
	if [ ! -L "$d/iommu_group" ]; then
		not_ok "$what: no iommu_group"
		continue
	fi
	g=$(basename "$(readlink "$d/iommu_group")")
	groups="$groups $g"
	type=$(cat "/sys/kernel/iommu_groups/$g/type" 2>/dev/null)
	diag "group $g devices: $(ls "/sys/kernel/iommu_groups/$g/devices" 2>&1 | tr '\n' ' ' | sed 's/ *$//')"
	case $type in
	DMA | DMA-FQ) ok "$what: iommu group $g, type $type" ;;
	*) not_ok "$what: iommu group $g, type ${type:-unreadable} (want DMA or DMA-FQ)" ;;
	esac
done

if [ "$nnet" -eq 1 ]; then
	ok "one virtio-net device (1af4:1041)"
else
	not_ok "one virtio-net device (1af4:1041), found $nnet"
fi
if [ "$ncrypto" -ge 2 ]; then
	ok "$ncrypto virtio-crypto devices (1af4:1054), at least the kernel-side and the user-queue one"
else
	not_ok "at least two virtio-crypto devices (1af4:1054), found $ncrypto"
fi

dups=$(for g in $groups; do echo "$g"; done | awk 'seen[$0]++ == 1 { printf " %s", $0 }')
if [ -n "$groups" ] && [ -z "$dups" ]; then
	ok "each virtio device in its own IOMMU group:$groups"
elif [ -z "$groups" ]; then
	not_ok "each virtio device in its own IOMMU group (no groups)"
else
	not_ok "each virtio device in its own IOMMU group (shared:$dups; all:$groups)"
fi

[ "$fails" -eq 0 ] || exit 1
exit 0
