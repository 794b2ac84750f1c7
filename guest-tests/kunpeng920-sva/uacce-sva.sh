#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Kunpeng 920 (UNTESTED HERE: no board in this environment). uacce devices of the upstream HiSilicon
# drivers, as drivers/misc/uacce/uacce.c exposes them in /sys/class/uacce/<name>-<n>/:
#   api                 "hisi_qm_v2" (Kunpeng 920) or "hisi_qm_v3"
#   flags               UACCE_DEV_SVA = 0x1 set when the device was bound with SVA
#   available_instances queues a process can still open
# 1. an arm-smmu-v3 probed; 2. a hisi_zip uacce device with SVA; 3. a hisi_sec2 one; 4. queues free.
#
# TAP 13 on stdout; exit 0 when all passed, 1 otherwise. busybox sh only.

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }

echo "TAP version 13"
echo "1..4"

if dmesg 2>&1 | grep -qE 'arm-smmu-v3 [^ ]+: (ias [0-9]+-bit, )?oas [0-9]+-bit'; then ok "arm-smmu-v3 probed"; else not_ok "arm-smmu-v3 probed"; fi

sva_dev() {
	for d in /sys/class/uacce/"$1"-*; do
		[ -e "$d/flags" ] || continue
		flags=$(cat "$d/flags")
		echo "# $d: api $(cat "$d/api" 2>/dev/null) flags $flags available_instances $(cat "$d/available_instances" 2>/dev/null)"
		[ $((flags & 1)) -eq 1 ] && { echo "$d"; return 0; }
	done
	return 1
}

zip=$(sva_dev hisi_zip | tail -n 1)
case "$zip" in /sys/*) ok "hisi_zip on uacce with SVA: $zip" ;; *) not_ok "hisi_zip on uacce with SVA (flags & UACCE_DEV_SVA)" ;; esac
sec=$(sva_dev hisi_sec2 | tail -n 1)
case "$sec" in /sys/*) ok "hisi_sec2 on uacce with SVA: $sec" ;; *) not_ok "hisi_sec2 on uacce with SVA (flags & UACCE_DEV_SVA)" ;; esac

free=0
for d in $zip $sec; do
	[ -e "$d/available_instances" ] && free=$((free + $(cat "$d/available_instances")))
done
if [ "$free" -gt 0 ]; then ok "queues available to processes: $free"; else not_ok "queues available to processes: $free"; fi

[ "$fails" -eq 0 ]
