#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The kernel log has no sign of a crash, warning or lockup. One TAP point per pattern family,
# offending lines printed as diagnostics (at most 20 per family). The first point checks dmesg
# was readable at all, so an empty log cannot pass.
#
# The RCU stall pattern is narrower than "rcu.*stall": the boot notes
# "rcu: \tRCU CPU stall warnings timeout set to ..." would match that; the reports are
# "INFO: rcu_preempt detected stalls ...", "INFO: rcu_sched self-detected stall on CPU",
# "INFO: rcu_tasks detected stalls ...", "... detected expedited stalls ..." (kernel/rcu/*.h).
#
# TAP 13 on stdout; exit 0 when all passed, 1 otherwise. busybox sh only.

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

MAX=20

# family description | extended regular expression (case-sensitive)
families='Oops|Oops
BUG:|BUG:
WARNING:|WARNING:
Kernel panic|Kernel panic
Call trace:|Call [Tt]race:
KASAN|KASAN
UBSAN|UBSAN
soft lockup|soft lockup|hard LOCKUP
RCU stall|rcu[_a-z]* (self-)?detected( expedited)? stall
hung task (blocked for more than)|blocked for more than'

nfam=$(printf '%s\n' "$families" | grep -c .)

echo "TAP version 13"
echo "1..$((nfam + 1))"

log=$(dmesg 2>&1)
rc=$?
lines=$(printf '%s\n' "$log" | grep -c .)
if [ "$rc" -eq 0 ] && [ "$lines" -gt 0 ]; then
	ok "dmesg readable ($lines lines)"
else
	diag "dmesg exit status $rc: $(printf '%s\n' "$log" | head -n 3)"
	not_ok "dmesg readable"
fi

# read the families from a here-document, not a pipe, so ok/not_ok run in this shell
while IFS='|' read -r desc re; do
	[ -n "$desc" ] || continue
	hits=$(printf '%s\n' "$log" | grep -E -e "$re")
	if [ -z "$hits" ]; then
		ok "no $desc in dmesg"
		continue
	fi
	nhits=$(printf '%s\n' "$hits" | grep -c .)
	diag "$(printf '%s\n' "$hits" | head -n "$MAX")"
	[ "$nhits" -gt "$MAX" ] && diag "... $((nhits - MAX)) more"
	not_ok "no $desc in dmesg ($nhits lines)"
done <<FAMILIES
$families
FAMILIES

[ "$fails" -eq 0 ] || exit 1
exit 0
