#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The SMMUv3 of QEMU virt,iommu=smmuv3 probed and registered with the IOMMU core.
#
# 1. dmesg has the probe line of drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c:
#      arm-smmu-v3 9050000.smmuv3: ias 44-bit, oas 44-bit (features 0x00028305)     (6.12)
#      arm-smmu-v3 9050000.smmuv3: oas 44-bit (features 0x01028305)                 (7.x: no ias; the
#    driver keeps no input address size of its own, each domain's page table derives it: VA_BITS for
#    stage 1, the oas for stage 2)
# 2. /sys/class/iommu/ has the instance, named by iommu_device_sysfs_add(..., "smmu3.%pa", &ioaddr),
#    i.e. smmu3.0x0000000009050000 on QEMU virt.
# 3. devices are linked to it (/sys/class/iommu/smmu3.*/devices/, filled by iommu_device_link()).
#
# TAP 13 on stdout; exit 0 when all passed, 1 otherwise. busybox sh only.

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

echo "TAP version 13"
echo "1..3"

# 1: the probe line
log=$(dmesg 2>&1)
probe=$(printf '%s\n' "$log" |
	grep -E 'arm-smmu-v3 [^ ]+: (ias [0-9]+-bit, )?oas [0-9]+-bit \(features 0x[0-9a-fA-F]+\)')
if [ -n "$probe" ]; then
	diag "$probe"
	ok "dmesg: arm-smmu-v3 probed (oas/features line)"
else
	diag "no 'arm-smmu-v3 ...: [ias N-bit, ]oas N-bit (features 0x...)' line; smmu lines in dmesg:"
	diag "$(printf '%s\n' "$log" | grep -i smmu | head -n 20)"
	not_ok "dmesg: arm-smmu-v3 probed (oas/features line)"
fi
# the platform device the probe line names, e.g. 9050000 for 9050000.smmuv3
probed_addrs=$(printf '%s\n' "$probe" | sed -n 's/.*arm-smmu-v3 \([0-9a-fA-F]*\)\.[^ ]*: .*oas .*/\1/p')

# 2: the sysfs instance
found=""
for d in /sys/class/iommu/smmu3.*; do
	[ -e "$d" ] || continue
	name=${d##*/}
	found="$found $name"
	# smmu3.0x0000000009050000 -> 9050000, to compare with the dmesg device name
	addr=$(echo "${name#smmu3.}" | sed 's/^0[xX]//; s/^0*//')
	match="no probe line names it"
	for a in $probed_addrs; do
		[ "$a" = "$addr" ] && match="matches the probed $a.smmuv3"
	done
	diag "$d -> $(readlink "$d") ($match)"
done
if [ -n "$found" ]; then
	ok "/sys/class/iommu has the SMMUv3 instance:$found"
else
	diag "/sys/class/iommu contains: $(ls /sys/class/iommu 2>&1 | tr '\n' ' ' | sed 's/ *$//')"
	not_ok "/sys/class/iommu has the SMMUv3 instance (smmu3.<address>)"
fi

# 3: devices behind it
linked=""
for name in $found; do
	for l in /sys/class/iommu/"$name"/devices/*; do
		[ -e "$l" ] || continue
		linked="$linked ${l##*/}"
		diag "$name/devices/${l##*/}"
	done
done
if [ -n "$linked" ]; then
	ok "devices linked to the SMMUv3:$linked"
else
	not_ok "devices linked to the SMMUv3 (none in /sys/class/iommu/smmu3.*/devices/)"
fi

[ "$fails" -eq 0 ] || exit 1
exit 0
