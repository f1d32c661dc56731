#!/bin/bash
# make run: the IWF with kamailio.cfg.sample, a demo MMS peer (test/e2e/
# mm4_peer.py) and the demo ENUM zone (ldns-testns), all on loopback.
# Sends one demo MESSAGE, prints the MM4 mail the peer got and the SIP
# answer, then keeps running until Ctrl-C.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=${CPM_MMS_DEMO_DIR:-$TOP/build/demo}
PY=/usr/bin/python3
mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT"/*.jsonl "$OUT"/*.pid

# demo endpoints; override any CPM_MMS_* from the environment
export CPM_MMS_SIP_LISTEN=${CPM_MMS_SIP_LISTEN:-udp:127.0.0.1:5060}
export CPM_MMS_MM4_LISTEN=${CPM_MMS_MM4_LISTEN:-127.0.0.1:2526}
export CPM_MMS_MM4_PORT=${CPM_MMS_MM4_PORT:-2525}
export CPM_MMS_DOMAIN=${CPM_MMS_DOMAIN:-mms.iwf.test}
export CPM_MMS_ENUM_SERVER=${CPM_MMS_ENUM_SERVER:-127.0.0.1:5353}
export CPM_MMS_CTL=${CPM_MMS_CTL:-unix:$OUT/ctl.sock}
export CPM_MMS_RES_TIMEOUT=${CPM_MMS_RES_TIMEOUT:-5}
export CPM_MMS_CPM_ROUTE=${CPM_MMS_CPM_ROUTE:-sip:127.0.0.1:5080}
export CPM_MMS_DB_URL=${CPM_MMS_DB_URL:-sqlite:///$OUT/corr.sqlite}
DNS_PORT=${CPM_MMS_ENUM_SERVER##*:}
PEER=127.0.0.2:$CPM_MMS_MM4_PORT
SIP_HOSTPORT=${CPM_MMS_SIP_LISTEN#*:}

# report correlation database (schema shipped in sql/)
if [ "${CPM_MMS_DB_URL#sqlite://}" != "$CPM_MMS_DB_URL" ]; then
	db=${CPM_MMS_DB_URL#sqlite://}
	rm -f "$db"
	sqlite3 "$db" < "$TOP/sql/cpm_mms-sqlite.sql" >/dev/null || exit 1
fi

pids=()
stop_all() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$p" 2>/dev/null
	done
	echo "demo stopped"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

ldns-testns -p "$DNS_PORT" "$TOP/test/e2e/enum.data" > "$OUT/dns.log" 2>&1 &
pids+=($!)
$PY "$TOP/test/e2e/mm4_peer.py" --listen "$PEER" --res-to "$CPM_MMS_MM4_LISTEN" \
	--domain mms.peer.test --iwf-domain "$CPM_MMS_DOMAIN" \
	--log "$OUT/peer.jsonl" > "$OUT/peer.log" 2>&1 &
pids+=($!)
(cd "$TOP" && exec /usr/sbin/kamailio -DD -E -f kamailio.cfg.sample \
	-P "$OUT/kamailio.pid" -w "$OUT" -Y "$OUT") > "$OUT/kamailio.log" 2>&1 &
kpid=$!
pids+=($kpid)

for _ in $(seq 1 50); do
	grep -q "MM4 listener on" "$OUT/kamailio.log" 2>/dev/null && break
	kill -0 $kpid 2>/dev/null || break
	sleep 0.2
done
sleep 1
if ! kill -0 $kpid 2>/dev/null; then
	echo "kamailio did not start:"; tail -20 "$OUT/kamailio.log"; exit 1
fi
echo "== IWF running: SIP $CPM_MMS_SIP_LISTEN, MM4 listener $CPM_MMS_MM4_LISTEN,"
echo "   ENUM server $CPM_MMS_ENUM_SERVER, demo MMSC $PEER (logs in $OUT)"
echo "== sending a demo MESSAGE to +4712345678"
(cd "$OUT" && timeout 30 sipp -sf "$TOP/scripts/demo_message.xml" -m 1 \
	-p 5099 -timeout 25 -nostdin -trace_msg -message_file "$OUT/sip.log" \
	"$SIP_HOSTPORT" > "$OUT/sipp.out" 2>&1)
sleep 0.5
echo "== MM4_forward.REQ received by the demo MMSC:"
$PY - "$OUT/peer.jsonl" <<'PYEOF'
import json, sys
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev.get("event") != "mail":
        continue
    print("MAIL FROM:<%s>" % ev["mail_from"])
    for r in ev["rcpt_tos"]:
        print("RCPT TO:<%s>" % r)
    for name, value in ev["headers"]:
        print("%s: %s" % (name, value))
    print()
    print(ev.get("body_text") or ev.get("body") or "")
PYEOF
echo "== SIP answer:"
grep -E "^SIP/2.0 [0-9]{3}" "$OUT/sip.log" | tail -1
echo "== IWF log:"
grep -E "cpm_mms" "$OUT/kamailio.log" | grep -v "listener_bind" | tail -4

CPM_HOSTPORT=${CPM_MMS_CPM_ROUTE#sip:}
echo "== MMS -> CPM: the demo MMSC sends an MM4_forward.REQ for +4711111111;"
echo "   a demo CPM core on $CPM_HOSTPORT answers the MESSAGE with 200"
(cd "$OUT" && timeout 30 sipp -sf "$TOP/scripts/demo_cpm_uas.xml" -m 1 \
	-i "${CPM_HOSTPORT%:*}" -p "${CPM_HOSTPORT##*:}" -timeout 25 -nostdin \
	-trace_msg -message_file "$OUT/cpm.log" > "$OUT/sipp-cpm.out" 2>&1) &
cpm_sipp=$!
sleep 1
POSIXLY_CORRECT=1 swaks --server "$CPM_MMS_MM4_LISTEN" \
	--from system-user@mms.peer.test --to '+4711111111/TYPE=PLMN@mms.iwf.test' \
	--data "$TOP/scripts/demo_mm4_req.eml" --suppress-data > "$OUT/swaks.log" 2>&1
for _ in $(seq 1 50); do
	kill -0 $cpm_sipp 2>/dev/null || break
	sleep 0.2
done
sleep 1
echo "== MESSAGE received by the demo CPM core:"
sed -n '/^MESSAGE /,/^-----/p' "$OUT/cpm.log" | grep -v '^-----'
echo "== MM4_forward.RES received by the demo MMSC:"
$PY - "$OUT/peer.jsonl" <<'PYEOF'
import json, sys
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev.get("event") == "mail" and any(
            n.lower() == "x-mms-message-type" and v == "MM4_forward.RES"
            for n, v in ev.get("headers", [])):
        for name, value in ev["headers"]:
            print("%s: %s" % (name, value))
PYEOF
echo "== still running (Ctrl-C stops it). Try: kamcmd -s $CPM_MMS_CTL core.shmmem"
wait $kpid
