#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Kamailio with cpm_mms under valgrind memcheck, driven through both
# directions (CPM -> MMS, MMS -> CPM, a delivery report), in a private
# network namespace. Fails on any invalid access or definite leak whose
# stack goes through cpm_mms.so (Kamailio's own pkg/shm pools are invisible
# to valgrind; libc, libesmtp and ldns allocations are not).
#
#   bash test/valgrind/run.sh       (as root, after make; or make valgrind)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUT=$TOP/build/valgrind
PY=/usr/bin/python3
E2E=$TOP/test/e2e
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
notok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; exit $?; }

if [ -z "${CPM_MMS_VG_INNER:-}" ]; then
	command -v valgrind >/dev/null || { notok "valgrind installed"; finish; }
	rm -rf "$OUT"
	mkdir -p "$OUT"
	export CPM_MMS_VG_INNER=1
	exec unshare --mount --net -- bash "$0" "$@"
fi

ip link set lo up
ip addr add 127.0.0.2/32 dev lo 2>/dev/null
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
}
trap cleanup EXIT

ldns-testns -p 53 "$E2E/enum.data" > "$OUT/dns.log" 2>&1 &
pids+=($!)
echo '{}' > "$OUT/behaviour.json"
$PY "$E2E/mm4_peer.py" --listen 127.0.0.2:25 --res-to 127.0.0.1:2526 \
	--domain mms.peer.test --iwf-domain mms.iwf.test --log "$OUT/peer.jsonl" \
	--behaviour "$OUT/behaviour.json" > "$OUT/peer.log" 2>&1 &
pids+=($!)
sqlite3 "$OUT/corr.sqlite" < "$TOP/sql/cpm_mms-sqlite.sql" >/dev/null

export CPM_MMS_SIP_LISTEN=udp:127.0.0.1:5060 CPM_MMS_MM4_LISTEN=127.0.0.1:2526
export CPM_MMS_MM4_PORT=25 CPM_MMS_DOMAIN=mms.iwf.test
export CPM_MMS_ENUM_SERVER=127.0.0.1:53 CPM_MMS_RES_TIMEOUT=10
export CPM_MMS_CPM_ROUTE=sip:127.0.0.1:5080 CPM_MMS_CTL=unix:$OUT/ctl.sock
export CPM_MMS_DB_URL=sqlite:///$OUT/corr.sqlite
(cd "$TOP" && exec valgrind --tool=memcheck --leak-check=full \
	--show-leak-kinds=definite --trace-children=yes --num-callers=30 \
	--log-file="$OUT/vg.%p.log" /usr/sbin/kamailio -DD -E -n 1 \
	-f kamailio.cfg.sample -P "$OUT/kamailio.pid" -w "$OUT" -Y "$OUT") \
	> "$OUT/kamailio.log" 2>&1 &
kpid=$!
pids+=($kpid)
for _ in $(seq 1 120); do
	kamcmd -s "unix:$OUT/ctl.sock" core.version >/dev/null 2>&1 && break
	sleep 0.5
done
if ! kamcmd -s "unix:$OUT/ctl.sock" core.version >/dev/null 2>&1; then
	notok "kamailio under valgrind started"
	tail -20 "$OUT/kamailio.log"
	finish
fi
ok "kamailio under valgrind started"

sed -e 's/@RURI@/sip:+4712345678@[remote_ip]:[remote_port];user=phone/' \
	"$HERE/message.xml.in" > "$OUT/message.xml"
(cd "$OUT" && timeout 120 sipp -sf message.xml -m 20 -r 5 -timeout 100 \
	-nostdin 127.0.0.1:5060 > sipp.out 2>&1)
grep -q "Successful call.*| *20 *$" "$OUT/sipp.out" \
	&& ok "20 CPM -> MMS MESSAGEs answered 200" \
	|| notok "20 CPM -> MMS MESSAGEs answered 200 ($(grep 'Successful call\|Failed call' "$OUT/sipp.out" | tr -s ' '))"

(cd "$OUT" && timeout 60 sipp -sf "$TOP/scripts/demo_cpm_uas.xml" -m 3 \
	-i 127.0.0.1 -p 5080 -timeout 50 -nostdin > sipp-uas.out 2>&1) &
uas=$!
sleep 1
for i in 1 2 3; do
	sed "s/demo-tx-0001/vg-tx-$i/" "$TOP/scripts/demo_mm4_req.eml" > "$OUT/req$i.eml"
	POSIXLY_CORRECT=1 timeout 30 swaks --server 127.0.0.1:2526 \
		--from system-user@mms.peer.test --to '+4711111111/TYPE=PLMN@mms.iwf.test' \
		--data "$OUT/req$i.eml" --suppress-data > "$OUT/swaks$i.log" 2>&1
done
wait $uas
grep -q "Successful call.*| *3 *$" "$OUT/sipp-uas.out" \
	&& ok "3 MMS -> CPM MESSAGEs delivered" || notok "3 MMS -> CPM MESSAGEs delivered"
sleep 3
n=$(grep -c '"MM4_forward.RES"' "$OUT/peer.jsonl")
[ "$n" -ge 3 ] && ok "3 MM4_forward.RES at the peer" || notok "3 MM4_forward.RES at the peer ($n)"

kill "$(cat "$OUT/kamailio.pid")"
for _ in $(seq 1 120); do
	kill -0 $kpid 2>/dev/null || break
	sleep 0.5
done
kill -0 $kpid 2>/dev/null && { notok "kamailio stopped in 60 s"; kill -9 $kpid; }

# errors and definite leaks whose stack passes through the module
bad=0
for f in "$OUT"/vg.*.log; do
	$PY - "$f" <<'PYEOF' || bad=$((bad + 1))
import re, sys
text = open(sys.argv[1], errors="replace").read()
blocks = re.split(r"\n==\d+== \n", text)
hits = [b for b in blocks if "cpm_mms.so" in b and (
    "Invalid" in b or "uninitialised" in b or "definitely lost" in b
    or "Mismatched" in b or "overlap" in b)]
for b in hits:
    print(sys.argv[1] + ":\n" + b[:3000])
sys.exit(1 if hits else 0)
PYEOF
done
nlogs=$(ls "$OUT"/vg.*.log 2>/dev/null | wc -l)
[ "$bad" -eq 0 ] && ok "no invalid access or definite leak in cpm_mms ($nlogs process logs)" \
	|| notok "valgrind findings in cpm_mms in $bad of $nlogs process logs"
finish
