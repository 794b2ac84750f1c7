#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The SMMUv3 has substreams, and the kernel saw them.
#
# 1. IDR1.SSIDSIZE (bits 10:6) is not 0: the SMMU takes SubstreamIDs (read from the SMMU's registers
#    through /dev/mem, at the address its sysfs name gives: smmu3.0x0000000009050000).
# 2. IDR0.CD2L (bit 19) is set: two-level context-descriptor tables, which Linux needs for more than
#    10 SSID bits.
# 3. The kernel's probe line reports ARM_SMMU_FEAT_2_LVL_CDTAB (features bit 1), i.e. it read both.
#
# TAP 13 on stdout; exit 0 when all passed, 1 otherwise. busybox sh only.

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

echo "TAP version 13"
echo "1..3"

base=""
for d in /sys/class/iommu/smmu3.*; do
	[ -e "$d" ] && base=${d##*/smmu3.}
done
if [ -z "$base" ]; then
	diag "no /sys/class/iommu/smmu3.* instance"
	idr0=""
	idr1=""
else
	# devmem prints 0x%08X
	idr0=$(devmem $((base + 0x0)) 32 2>&1)
	idr1=$(devmem $((base + 0x4)) 32 2>&1)
	diag "SMMU at $base: IDR0=$idr0 IDR1=$idr1"
fi

case "$idr1" in
0x*)
	ssidsize=$(( (idr1 >> 6) & 0x1f ))
	if [ "$ssidsize" -gt 0 ]; then
		ok "IDR1.SSIDSIZE = $ssidsize (substreams)"
	else
		not_ok "IDR1.SSIDSIZE = 0: this SMMU has no substreams (stock QEMU?)"
	fi
	;;
*)
	not_ok "IDR1 not readable through /dev/mem (CONFIG_DEVMEM?): $idr1"
	;;
esac

case "$idr0" in
0x*)
	if [ $(( (idr0 >> 19) & 1 )) -eq 1 ]; then
		ok "IDR0.CD2L = 1 (two-level CD tables)"
	else
		not_ok "IDR0.CD2L = 0 (no two-level CD tables)"
	fi
	;;
*)
	not_ok "IDR0 not readable through /dev/mem: $idr0"
	;;
esac

features=$(dmesg | sed -n 's/.*arm-smmu-v3 [^ ]*: .*(features \(0x[0-9a-fA-F]*\)).*/\1/p' | head -n 1)
if [ -n "$features" ] && [ $(( (features >> 1) & 1 )) -eq 1 ]; then
	ok "the kernel reports two-level CD tables (features $features)"
else
	diag "$(dmesg | grep arm-smmu-v3 | head -n 5)"
	not_ok "the kernel reports two-level CD tables (features ${features:-not found}, bit 1 clear)"
fi

[ "$fails" -eq 0 ] || exit 1
exit 0
