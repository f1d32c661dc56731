#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# cpm_mms end-to-end tests: real Kamailio (repo kamailio.cfg.sample + the built
# module) + sipp (CPM side) + an independent MM4 peer MMSC (mm4_peer.py) +
# ldns-testns serving ENUM/MX/A (enum.data), all inside a private network and
# mount namespace (unshare), so ports 25/53 and /etc/resolv.conf are ours.
#
#   bash test/e2e/run.sh            (or: make e2e, from the repository root)
#
# Environment knobs:
#   E2E_MODES="ldns sysdns"   which DNS paths to run (CPM_MMS_ENUM_SERVER set /
#                             empty = Kamailio's DNS layer + system resolver)
#   E2E_FILTER=REGEX          run only the cases whose name matches (plus setup)
#   E2E_LOAD=200              number of MESSAGEs of the load case (0 = skip)
#   E2E_SHM_MARGIN=65536      allowed shm growth (bytes) over the load case
#
# Output: "ok - name" / "not ok - name (reason)" per case, then exactly one
# last line "N passed, M failed"; exit status 1 if M > 0.  Logs, filled
# scenarios and sipp traces are kept in test/e2e/out/ (gitignored).

set -u
set -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUT=$HERE/out
PY=/usr/bin/python3
HELPER=$HERE/e2e_helper.py
PEER=$HERE/mm4_peer.py
TEMPLATE=$HERE/uac_message.xml.in
KAMAILIO=${KAMAILIO:-/usr/sbin/kamailio}
CFG=$TOP/kamailio.cfg.sample
MODULE=$TOP/modules/cpm_mms/cpm_mms.so

SIP_IP=127.0.0.1
SIP_PORT=5060
MM4_LISTEN_IP=127.0.0.1
MM4_LISTEN_PORT=2526
PEER_IP=127.0.0.2
PEER_PORT=25
IWF_DOMAIN=mms.iwf.test
PEER_DOMAIN=mms.peer.test
RES_TIMEOUT=3

PASS=0
FAIL=0

ok()    { PASS=$((PASS + 1)); echo "ok - $*"; }
notok() { local n=$1; shift; FAIL=$((FAIL + 1)); echo "not ok - $n ($*)"; }
note()  { echo "# $*"; }
summary_and_exit() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit $?
}

# ---------------------------------------------------------------------------
# 1. outside the namespace: preflight, then re-exec inside unshare
# ---------------------------------------------------------------------------
if [ -z "${CPM_MMS_E2E_INNER:-}" ]; then
	missing=()
	for t in unshare ip mount ss sipp ldns-testns kamcmd "$KAMAILIO" "$PY"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	"$PY" -c 'import aiosmtpd' 2>/dev/null || missing+=("python3-aiosmtpd")
	[ -f "$MODULE" ] || missing+=("$MODULE (run make)")
	[ -f "$CFG" ] || missing+=("$CFG")
	if [ ${#missing[@]} -gt 0 ]; then
		notok "prerequisites" "missing: ${missing[*]}"
		summary_and_exit
	fi
	if ! unshare --mount --net -- true 2>/dev/null; then
		notok "namespace" "unshare --mount --net failed (run as root)"
		summary_and_exit
	fi
	rm -rf "$OUT"
	mkdir -p "$OUT"
	export CPM_MMS_E2E_INNER=1
	exec unshare --mount --net -- bash "$0" "$@"
fi

# ---------------------------------------------------------------------------
# 2. inside: process bookkeeping
# ---------------------------------------------------------------------------
mkdir -p "$OUT"
PIDS=()          # every background process we start (by PID)
KAM_PID=""

stop_pid() {     # stop_pid PID [grace-tenths]: TERM, bounded wait, then KILL
	local pid=$1 tenths=${2:-50} i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < tenths; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		sleep 0.1
	fi
	wait "$pid" 2>/dev/null
	return 0
}

kam_children() { [ -n "$KAM_PID" ] && pgrep -P "$KAM_PID" 2>/dev/null; }

stop_kamailio() {   # returns 0 if Kamailio and all its children ended on TERM
	local kids i rc=0
	[ -n "$KAM_PID" ] || return 0
	kids=$(kam_children | tr '\n' ' ')
	kill -TERM "$KAM_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$KAM_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$KAM_PID" 2>/dev/null; then
		rc=1
		kill -KILL "$KAM_PID" 2>/dev/null
	fi
	wait "$KAM_PID" 2>/dev/null
	for ((i = 0; i < 30; i++)); do
		local alive=""
		for k in $kids; do kill -0 "$k" 2>/dev/null && alive="$alive $k"; done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	for k in $kids; do
		if kill -0 "$k" 2>/dev/null; then rc=1; kill -KILL "$k" 2>/dev/null; fi
	done
	KAM_PID=""
	return $rc
}

cleanup() {
	local i
	stop_kamailio >/dev/null 2>&1
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${PIDS[$i]}" 20
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# 3. network + resolver
# ---------------------------------------------------------------------------
setup_net() {
	ip link set lo up || return 1
	# a second loopback address (the peer's), and one that is not 127.0.0.1 so
	# that getaddrinfo(AI_ADDRCONFIG) believes IPv4 is configured
	ip addr add $PEER_IP/32 dev lo 2>/dev/null
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' >"$OUT/resolv.conf"
	mount --bind "$OUT/resolv.conf" /etc/resolv.conf || return 1
	# a private /etc/hosts keeps localhost working and nothing else
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n127.0.0.1\t%s\n' \
		"$(hostname)" >"$OUT/hosts"
	mount --bind "$OUT/hosts" /etc/hosts || return 1
	return 0
}

start_dns() {
	ldns-testns -p 53 "$HERE/enum.data" >"$OUT/ldns-testns.log" 2>&1 &
	DNS_PID=$!
	PIDS+=("$DNS_PID")
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$DNS_PID" 2>/dev/null || return 1
		ss -Hlun 'sport = :53' 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------------------
# 4. the MM4 peer and its behaviour table
# ---------------------------------------------------------------------------
# NN | behaviour (JSON) | accepted SIP code(s) | case name      (number +47100000NN)
STATUS_TABLE='
01|{"status":"Ok"}|200|RES Ok -> 200
02|{"status":"Error-unspecified"}|500|RES Error-unspecified -> 500
03|{"status":"Error-service-denied","status_text":"no agreement"}|403|RES Error-service-denied -> 403
04|{"status":"Error-message-format-corrupt"}|400|500|RES Error-message-format-corrupt -> 400/500
05|{"status":"Error-sending-address-unresolved"}|404|RES Error-sending-address-unresolved -> 404
06|{"status":"Error-message-not-found"}|500|RES Error-message-not-found -> 500
07|{"status":"Error-network-problem"}|503|RES Error-network-problem -> 503
08|{"status":"Error-content-not-accepted","status_text":"content type not supported"}|415|RES Error-content-not-accepted (type) -> 415
09|{"status":"Error-content-not-accepted","status_text":"message size exceeds the maximum size"}|413|RES Error-content-not-accepted (size text) -> 413
10|{"status":"Error-unsupported-message"}|501|RES Error-unsupported-message -> 501
11|{"status":"Error-transient-failure"}|480|RES Error-transient-failure -> 480
12|{"status":"Error-transient-sending-address-unresolved"}|480|RES Error-transient-sending-address-unresolved -> 480
13|{"status":"Error-transient-network-problem"}|503|RES Error-transient-network-problem -> 503
14|{"status":"Error-transient-message-not-found"}|480|RES Error-transient-message-not-found -> 480
15|{"status":"Error-transient-partial-success"}|480|RES Error-transient-partial-success -> 480
16|{"status":"Error-permanent-failure"}|500|RES Error-permanent-failure -> 500
17|{"status":"Error-permanent-service-denied"}|403|RES Error-permanent-service-denied -> 403
18|{"status":"Error-permanent-sending-address-unresolved"}|404|RES Error-permanent-sending-address-unresolved -> 404
19|{"status":"Error-permanent-content-not-accepted"}|415|RES Error-permanent-content-not-accepted -> 415
20|{"status":"Error-permanent-message-format-corrupt"}|400|RES Error-permanent-message-format-corrupt -> 400
21|{"status":"Error-permanent-lack-of-prepaid"}|500|RES Error-permanent-lack-of-prepaid -> 500
22|{"status":"Error-permanent-message-not-found"}|500|RES Error-permanent-message-not-found -> 500
23|{"status":"Error-no-such-token"}|500|RES unknown status token -> 500
24|{"status":"ok"}|200|RES status matched case-insensitively (ok) -> 200
25|{"status":"ERROR-SERVICE-DENIED"}|403|RES status matched case-insensitively (ERROR-SERVICE-DENIED) -> 403
26|{"status":"Error-permanent-reply-charging-not-supported"}|500|606|RES Error-permanent-reply-charging-not-supported -> 500/606
27|{"status":"Ok","status_text":"Accepted for delivery"}|200|RES Ok with X-Mms-Status-Text -> 200
28|{"status":"Error-network-problem","status_text":"try again later"}|503|RES Error-network-problem with text -> 503
29|{"status":"Ok","delay":1.0}|200|RES Ok after 1 s (within res_timeout) -> 200
30|{"no_res":true}|202|no RES within res_timeout -> 202
31|{"smtp":"rcpt","code":550}|404|SMTP 550 at RCPT -> 404
32|{"smtp":"rcpt","code":551}|404|SMTP 551 at RCPT -> 404
33|{"smtp":"rcpt","code":553}|404|SMTP 553 at RCPT -> 404
34|{"smtp":"rcpt","code":552}|413|SMTP 552 at RCPT -> 413
35|{"smtp":"data","code":552}|413|SMTP 552 after DATA -> 413
36|{"smtp":"data","code":554}|403|SMTP 554 after DATA -> 403
37|{"smtp":"rcpt","code":451}|503|SMTP 451 at RCPT -> 503
38|{"status":"Ok"}|503|SMTP 421 at MAIL FROM -> 503
39|{"smtp":"data","code":451}|503|SMTP 451 after DATA -> 503
40|{"smtp":"rcpt","code":452}|503|SMTP 452 at RCPT -> 503
'
# the MAIL-stage reject is keyed by the originator (see mm4_peer.py)
MAIL_REJECT_FROM=+4719999421

write_behaviour() {
	STATUS_TABLE="$STATUS_TABLE" MAIL_REJECT_FROM=$MAIL_REJECT_FROM "$PY" - "$OUT/behaviour.json" <<'EOF'
import json, os, sys
beh = {}
for line in os.environ["STATUS_TABLE"].strip().splitlines():
    f = line.split("|")
    beh["+47100000" + f[0]] = json.loads(f[1])
beh[os.environ["MAIL_REJECT_FROM"]] = {"smtp": "mail", "code": 421}
# special cases outside the status table (numbers 41..44, see run.sh)
beh["+4710000041"] = {"smtp": "rcpt", "code": 554}
beh["+4710000042"] = {"status": "Error-service-denied", "delay": 4.5}
beh["+4710000043"] = {"status": "Ok", "repeat": 2}
beh["+4710000044"] = {"status": "Ok", "delay": 2.0}
json.dump(beh, open(sys.argv[1], "w"), indent=1, sort_keys=True)
EOF
}

start_peer() {      # start_peer LOGFILE
	PEER_LOG=$1
	: >"$PEER_LOG"
	"$PY" "$PEER" --listen $PEER_IP:$PEER_PORT --res-to $MM4_LISTEN_IP:$MM4_LISTEN_PORT \
		--domain $PEER_DOMAIN --iwf-domain $IWF_DOMAIN --log "$PEER_LOG" \
		--behaviour "$OUT/behaviour.json" --pidfile "$RUN/peer.pid" \
		>"$RUN/peer.stderr" 2>&1 &
	PEER_PID=$!
	PIDS+=("$PEER_PID")
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$PEER_PID" 2>/dev/null || return 1
		ss -Hltn "sport = :$PEER_PORT" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

peer_mark() { wc -l <"$PEER_LOG" | tr -d ' '; }

# ---------------------------------------------------------------------------
# 5. Kamailio
# ---------------------------------------------------------------------------
start_kamailio() {   # start_kamailio ENUM_SERVER
	local enum_server=$1 i
	CTL=unix:$RUN/ctl.sock
	KAM_LOG=$RUN/kamailio.log
	(
		cd "$TOP" || exit 1
		# only our settings reach the cfg (none inherited from the caller)
		for v in $(compgen -e); do
			case $v in CPM_MMS_*) unset "$v" ;; esac
		done
		exec env \
			CPM_MMS_SIP_LISTEN=udp:$SIP_IP:$SIP_PORT \
			CPM_MMS_MM4_LISTEN=$MM4_LISTEN_IP:$MM4_LISTEN_PORT \
			CPM_MMS_MM4_PORT=$PEER_PORT \
			CPM_MMS_DOMAIN=$IWF_DOMAIN \
			CPM_MMS_ENUM_SUFFIX=e164.arpa \
			CPM_MMS_ENUM_SERVER="$enum_server" \
			CPM_MMS_MM4_PEERS=127.0.0.0/8 \
			CPM_MMS_RES_TIMEOUT=$RES_TIMEOUT \
			CPM_MMS_CTL="$CTL" \
			"$KAMAILIO" -DD -E -f "$CFG" -P "$RUN/kamailio.pid" -w "$RUN" -Y "$RUN"
	) >"$KAM_LOG" 2>&1 &
	KAM_PID=$!
	for ((i = 0; i < 150; i++)); do
		if ! kill -0 "$KAM_PID" 2>/dev/null; then
			wait "$KAM_PID" 2>/dev/null
			KAM_PID=""
			return 1
		fi
		if ss -Hlun "sport = :$SIP_PORT" 2>/dev/null | grep -q . &&
			ss -Hltn "sport = :$MM4_LISTEN_PORT" 2>/dev/null | grep -q . &&
			kamcmd -s "$CTL" core.uptime >/dev/null 2>&1; then
			sleep 0.3   # let the module's own processes finish child_init
			return 0
		fi
		sleep 0.1
	done
	return 1
}

kam_alive() { [ -n "$KAM_PID" ] && kill -0 "$KAM_PID" 2>/dev/null; }

shm_used() {   # prints "used real_used"
	kamcmd -s "$CTL" core.shmmem >"$RUN/shm.txt" 2>&1 && "$PY" "$HELPER" shm "$RUN/shm.txt"
}

# ---------------------------------------------------------------------------
# 6. one MESSAGE case
# ---------------------------------------------------------------------------
CASE_N=0
want_case() { [ -z "${E2E_FILTER:-}" ] || [[ "$1" =~ $E2E_FILTER ]]; }

# sipp_run ID SCENARIO PORT CALLS [extra sipp args...]
# sets SIPP_RC, SIPP_GOT (received status lines), SIPP_CODE (last one), SIPP_ELAPSED
sipp_run() {
	local id=$1 scen=$2 port=$3 calls=$4 t0 t1 trace=()
	shift 4
	# a message trace for single calls only (it is what reports "got NNN")
	[ "$calls" -le 1 ] && trace=(-trace_msg -message_file "$RUN/sipp/$id.msg")
	t0=$(date +%s.%N)
	timeout 150 sipp -sf "$scen" -i $SIP_IP -p "$port" -recv_timeout 15000 \
		-timeout 120s -timeout_error -nostdin "${trace[@]}" \
		-trace_err -error_file "$RUN/sipp/$id.err" \
		-m "$calls" "$@" $SIP_IP:$SIP_PORT >"$RUN/sipp/$id.out" 2>&1
	SIPP_RC=$?
	t1=$(date +%s.%N)
	SIPP_ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
	SIPP_GOT=$("$PY" "$HELPER" sipp-codes "$RUN/sipp/$id.msg")
	SIPP_CODE=$(grep -oE '[0-9]{3}' <<<"$SIPP_GOT" | tail -1)
}

# msg_case NAME EXPECT [KEY=VALUE ...] [-- PYTHON-EXPR ...]
#   EXPECT: accepted final code(s), "404" or "404|604"
#   KEY=VALUE: template placeholders (RURI_USER, EXTRA_HEADERS, CPIM_EXTRA, BODY,
#     DISPO, DATETIME, ... see uac_message.xml.in), cpim=0 for a plain body, and
#     controls: rcpt=+E164 (expected recipient; default RURI_USER),
#     domain=D (recipient MMS domain, default mms.peer.test), nomail=1 (the
#     peer must get no REQ), nobase=1, mails=N, if200=1 (checks only when the
#     answer is 200)
#   PYTHON-EXPR: assertions on the REQ the peer logged (see e2e_helper.py check)
msg_case() {
	local name="[$MODE] $1" expect=$2
	shift 2
	want_case "$name" || return 0
	local fill=() exprs=() rcpt="" domain=$PEER_DOMAIN nomail=0 nobase=0 mails=1 if200=0
	local ruri_user=+4712345678
	while [ $# -gt 0 ]; do
		case $1 in
		--) shift; exprs=("$@"); break ;;
		rcpt=*) rcpt=${1#rcpt=} ;;
		domain=*) domain=${1#domain=} ;;
		nomail=1) nomail=1 ;;
		nobase=1) nobase=1 ;;
		if200=1) if200=1 ;;
		mails=*) mails=${1#mails=} ;;
		RURI_USER=*) ruri_user=${1#RURI_USER=}; fill+=("$1") ;;
		*) fill+=("$1") ;;
		esac
		shift
	done
	[ -n "$rcpt" ] || rcpt=$ruri_user
	CASE_N=$((CASE_N + 1))
	local id
	id=$(printf 'c%03d' $CASE_N)
	echo "$id $name" >>"$RUN/cases.txt"
	if ! kam_alive; then
		notok "$name" "kamailio is not running"
		return
	fi
	if ! "$PY" "$HELPER" fill "$TEMPLATE" "$RUN/scen/$id.xml" "EXPECT=$expect" "${fill[@]}" \
		>"$RUN/scen/$id.fill" 2>&1; then
		notok "$name" "cannot fill scenario: $(tail -1 "$RUN/scen/$id.fill")"
		return
	fi
	local mark started
	mark=$(peer_mark)
	started=$(date +%s.%N)
	sipp_run "$id" "$RUN/scen/$id.xml" 5070 1
	if [ "$SIPP_RC" -ne 0 ]; then
		notok "$name" "expected $expect, got: $SIPP_GOT; sipp rc=$SIPP_RC, see out/$MODE/sipp/$id.*"
		return
	fi
	local chk=(--log "$PEER_LOG" --mark "$mark" --code "${SIPP_CODE:-0}" --started "$started"
		--elapsed "$SIPP_ELAPSED" --rcpt "$rcpt" --domain "$domain" --mails "$mails")
	if [ "$if200" = 1 ] && [ "${SIPP_CODE:-0}" != 200 ]; then
		ok "$name (answered $SIPP_CODE)"
		return
	fi
	[ "$nomail" = 1 ] && chk+=(--no-mail)
	[ "$nobase" = 1 ] && chk+=(--no-base)
	local why
	if ! why=$("$PY" "$HELPER" check "${chk[@]}" -- "${exprs[@]}" 2>&1); then
		notok "$name" "answered $SIPP_CODE but: $why"
		return
	fi
	ok "$name"
}

# ---------------------------------------------------------------------------
# 7. the cases
# ---------------------------------------------------------------------------
table1_cases() {
	msg_case "T1 basic CPIM MESSAGE -> 200, well-formed MM4_forward.REQ" 200 -- \
		'addrs(H["from"]) == ["+4798765432/TYPE=PLMN@mms.iwf.test"]' \
		'H["x-mms-message-type"] == "MM4_forward.REQ"' \
		're.fullmatch(r"\d+\.\d+\.\d+", H["x-mms-3gpp-mms-version"].strip())' \
		'H["x-mms-ack-request"] == "Yes"' \
		'date(H["date"]) == 1714558500' \
		'text(m["body_text"]) == "Hello from CPM"' \
		'm["mime_type"] == "text/plain"' \
		'"charset" in H["content-type"].lower()' \
		'elapsed < 2.5'
	msg_case "T1 P-Asserted-Identity (tel) preferred over From" 200 \
		'EXTRA_HEADERS=P-Asserted-Identity: <tel:+4711111111>' -- \
		'addrs(H["from"]) == ["+4711111111/TYPE=PLMN@mms.iwf.test"]' \
		'm["mail_from"].strip("<>") == "+4711111111/TYPE=PLMN@mms.iwf.test"'
	msg_case "T1 P-Asserted-Identity (sip;user=phone) preferred over From" 200 \
		'EXTRA_HEADERS=P-Asserted-Identity: "Alice" <sip:+4711111112@ims.test;user=phone>' -- \
		'addrs(H["from"]) == ["+4711111112/TYPE=PLMN@mms.iwf.test"]'
	msg_case "T1 Date from CPIM DateTime with offset" 200 \
		'DATETIME=2024-05-01T12:15:00+02:00' -- \
		'date(H["date"]) == 1714558500'
	msg_case "T1 Date from SIP Date when CPIM has no DateTime" 200 \
		'DATETIME=' 'DISPO=' 'EXTRA_HEADERS=Date: Wed, 01 May 2024 10:15:00 GMT' -- \
		'date(H["date"]) == 1714558500'
	msg_case "T1 Date is now without DateTime and SIP Date" 200 \
		'DATETIME=' 'DISPO=' -- \
		'near(date(H["date"]), started, 120)'
	msg_case "T1 Expires 3600 -> X-Mms-Expiry = now + 3600" 200 \
		'EXTRA_HEADERS=Expires: 3600' -- \
		'"x-mms-expiry" in H' 'near(date(H["x-mms-expiry"]), started + 3600, 120)'
	msg_case "T1 Disposition positive+negative+display -> Delivery-Report Yes, Read-Reply Yes" 200 -- \
		'H.get("x-mms-delivery-report") == "Yes"' 'H.get("x-mms-read-reply") == "Yes"'
	msg_case "T1 Disposition positive-delivery -> Delivery-Report Yes, Read-Reply No" 200 \
		'DISPO=positive-delivery' -- \
		'H.get("x-mms-delivery-report") == "Yes"' 'H.get("x-mms-read-reply", "No") == "No"'
	msg_case "T1 Disposition negative-delivery -> Delivery-Report Yes" 200 \
		'DISPO=negative-delivery' -- \
		'H.get("x-mms-delivery-report") == "Yes"' 'H.get("x-mms-read-reply", "No") == "No"'
	msg_case "T1 Disposition display -> Read-Reply Yes, Delivery-Report No" 200 \
		'DISPO=display' -- \
		'H.get("x-mms-read-reply") == "Yes"' 'H.get("x-mms-delivery-report", "No") == "No"'
	msg_case "T1 no Disposition-Notification -> Delivery-Report/Read-Reply No" 200 \
		'DISPO=' -- \
		'H.get("x-mms-delivery-report", "No") == "No"' 'H.get("x-mms-read-reply", "No") == "No"'
	msg_case "T1 Priority urgent -> X-Mms-Priority High" 200 \
		'EXTRA_HEADERS=Priority: urgent' -- 'H.get("x-mms-priority") == "High"'
	msg_case "T1 Priority emergency -> X-Mms-Priority High" 200 \
		'EXTRA_HEADERS=Priority: emergency' -- 'H.get("x-mms-priority") == "High"'
	msg_case "T1 Priority non-urgent -> X-Mms-Priority Low" 200 \
		'EXTRA_HEADERS=Priority: non-urgent' -- 'H.get("x-mms-priority") == "Low"'
	msg_case "T1 Priority normal -> X-Mms-Priority Normal" 200 \
		'EXTRA_HEADERS=Priority: normal' -- 'H.get("x-mms-priority") == "Normal"'
	msg_case "T1 From Anonymous -> Sender-Visibility Hide, From = PAI" 200 \
		'FROM_HDR="Anonymous" <sip:anonymous@anonymous.invalid>' \
		'CPIM_FROM="Anonymous" <sip:anonymous@anonymous.invalid>' \
		'EXTRA_HEADERS=P-Asserted-Identity: <tel:+4711111113>' -- \
		'H.get("x-mms-sender-visibility") == "Hide"' \
		'addrs(H["from"]) == ["+4711111113/TYPE=PLMN@mms.iwf.test"]'
	msg_case "T1 Privacy: id -> Sender-Visibility Hide" 200 \
		'EXTRA_HEADERS=P-Asserted-Identity: <tel:+4711111114>\nPrivacy: id' -- \
		'H.get("x-mms-sender-visibility") == "Hide"' \
		'addrs(H["from"]) == ["+4711111114/TYPE=PLMN@mms.iwf.test"]'
	msg_case "T1 identified sender -> Sender-Visibility not Hide" 200 -- \
		'H.get("x-mms-sender-visibility", "Show") == "Show"'
	msg_case "T1 SIP Subject -> Subject" 200 \
		'EXTRA_HEADERS=Subject: Hello there' -- 'm.get("subject_decoded") == "Hello there"'
	msg_case "T1 CPIM Subject wins over SIP Subject" 200 \
		'EXTRA_HEADERS=Subject: sip subject' 'CPIM_EXTRA=Subject: cpim subject' -- \
		'm.get("subject_decoded") == "cpim subject"'
	msg_case "T1 UTF-8 Subject is RFC 2047 encoded" 200 \
		'CPIM_EXTRA=Subject: Grüße aus Tromsø ✓' -- \
		'm.get("subject_decoded") == "Grüße aus Tromsø ✓"' \
		'H["subject"].isascii() and "=?" in H["subject"]'
	msg_case "T1 Max-Forwards 65 -> X-Mms-Forward-Counter 5" 200 \
		'MAX_FORWARDS=65' -- 'H.get("x-mms-forward-counter", "").strip() in ("5", "6")'
	msg_case "T1 Max-Forwards 70 -> X-Mms-Forward-Counter clamped to 1" 200 \
		'MAX_FORWARDS=70' -- 'H.get("x-mms-forward-counter", "").strip() == "1"'
	msg_case "T1 Max-Forwards 10 -> X-Mms-Forward-Counter 60" 200 \
		'MAX_FORWARDS=10' -- 'H.get("x-mms-forward-counter", "").strip() in ("60", "61")'
	msg_case "T1 UTF-8 body preserved" 200 \
		'BODY=Hei på deg ✓ 😀 — ÆØÅ' -- \
		'text(m["body_text"]) == "Hei på deg ✓ 😀 — ÆØÅ"'
	msg_case "T1 multi-line body preserved" 200 \
		'BODY=line one\nline two\n\nline four' -- \
		'text(m["body_text"]) == "line one\nline two\n\nline four"'
	local long
	long=$(printf 'x%.0s' $(seq 1 1500))
	msg_case "T1 1500-octet body line is wrapped/encoded (no line > 998)" 200 \
		"BODY=long:$long" -- \
		"text(m[\"body_text\"]) == \"long:$long\""
	msg_case "T1 plain text/plain MESSAGE (no CPIM)" 200 \
		cpim=0 'BODY=plain body ✓' -- \
		'text(m["body_text"]) == "plain body ✓"' 'm["mime_type"] == "text/plain"' \
		'addrs(H["from"]) == ["+4798765432/TYPE=PLMN@mms.iwf.test"]'
	# multipart/* payload is kept (image part base64, bytes must survive)
	local img_b64 img_sha
	img_b64=$(head -c 300 /dev/urandom | base64 -w 76 | tr '\n' '~' | sed 's/~$//; s/~/\\n/g')
	img_sha=$(printf '%b' "${img_b64//\\n/}" | base64 -d | sha256sum | cut -d' ' -f1)
	msg_case "T1 multipart/mixed CPIM payload kept (text + base64 image)" 200 \
		'PAYLOAD_CT=multipart/mixed; boundary="e2e-b1"' \
		"BODY=--e2e-b1\nContent-Type: text/plain; charset=utf-8\n\nHi with a picture\n--e2e-b1\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\n$img_b64\n--e2e-b1--" -- \
		'm["mime_type"] == "multipart/mixed"' \
		'[p["mime_type"] for p in m["parts"]] == ["text/plain", "image/png"]' \
		'text(m["parts"][0].get("text")) == "Hi with a picture"' \
		"m[\"parts\"][1][\"sha256\"] == \"$img_sha\""
	msg_case "T1 tel: Request-URI" 200 \
		'RURI=tel:+4712345678' 'TO_URI=tel:+4712345678'
	msg_case "T1 visual separators in tel URIs are normalised" 200 \
		'RURI=tel:+47-1234-5678' 'TO_URI=tel:+47-1234-5678' 'CPIM_TO=<tel:+47-1234-5678>' \
		rcpt=+4712345678
	msg_case "T1 CPIM cc -> Cc + RCPT TO, or rejected 403/488" "200|403|488" \
		'CPIM_EXTRA=cc: <tel:+4710000001>' if200=1 nobase=1 -- \
		'sorted(num(a.strip("<>")) for a in m["rcpt_tos"]) == ["+4710000001", "+4712345678"]' \
		'[num(a) for a in addrs(H.get("cc", ""))] == ["+4710000001"]' \
		'[num(a) for a in addrs(H.get("to", ""))] == ["+4712345678"]' \
		'not m["failures"]'
	msg_case "T1 two CPIM To (group) -> one REQ with both, or rejected 403/488" "200|403|488" \
		'CPIM_EXTRA=To: <tel:+4710000001>' if200=1 nobase=1 -- \
		'sorted(num(a.strip("<>")) for a in m["rcpt_tos"]) == ["+4710000001", "+4712345678"]' \
		'sorted(num(a) for a in addrs(H.get("to", "")) + addrs(H.get("cc", ""))) == ["+4710000001", "+4712345678"]' \
		'not m["failures"]'
}

status_cases() {
	local line nn beh codes name
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		nn=${line%%|*}
		line=${line#*|}
		beh=${line%%|*}
		line=${line#*|}
		# codes: everything up to the last "|"; name after it
		name=${line##*|}
		codes=${line%|*}
		local num=+47100000$nn
		case $beh in
		*'"smtp":"rcpt"'*)
			msg_case "$name" "$codes" RURI_USER=$num nomail=1 ;;
		*'"smtp":"data"'*)
			msg_case "$name" "$codes" RURI_USER=$num -- 'm["smtp_reply"][:3] != "250"' ;;
		*'"no_res"'*)
			msg_case "$name" "$codes" RURI_USER=$num -- \
				"elapsed >= $RES_TIMEOUT - 0.5" "elapsed < $RES_TIMEOUT + 5" ;;
		*'"delay"'*)
			msg_case "$name" "$codes" RURI_USER=$num -- 'elapsed >= 0.9' ;;
		*)
			if [ "$nn" = 38 ]; then
				msg_case "$name" "$codes" RURI_USER=$num nomail=1 \
					"EXTRA_HEADERS=P-Asserted-Identity: <tel:$MAIL_REJECT_FROM>"
			else
				msg_case "$name" "$codes" RURI_USER=$num -- \
					"elapsed < $RES_TIMEOUT - 0.5"
			fi ;;
		esac
	done <<<"$STATUS_TABLE"
	msg_case "SMTP 554 at RCPT -> 403 (or 500)" "403|500" RURI_USER=+4710000041 nomail=1
	msg_case "late error RES after res_timeout -> 202, late RES ignored" 202 \
		RURI_USER=+4710000042 -- "elapsed >= $RES_TIMEOUT - 0.5"
	msg_case "duplicate RES -> 200, second RES ignored" 200 RURI_USER=+4710000043
	sleep 2   # let the late RES of +4710000042 arrive (4.5 s after its REQ)
	msg_case "IWF answers normally after a late and a duplicate RES" 200
}

dns_cases() {
	msg_case "ENUM NXDOMAIN -> 404" "404|604" RURI_USER=+4799999999 nomail=1
	msg_case "ENUM only E2U+sip NAPTR -> 404" "404|604" RURI_USER=+4790000003 nomail=1
	msg_case "ENUM SERVFAIL -> 503" 503 RURI_USER=+4790000004 nomail=1
	msg_case "MMSC refuses the connection -> 503" 503 RURI_USER=+4790000001 nomail=1
	msg_case "MMS domain without MX and A -> 503" 503 RURI_USER=+4790000008 nomail=1
	msg_case "MX failover (pref 10 dead, pref 20 alive) -> 200" 200 \
		RURI_USER=+4790000002 domain=mms.failover.test
	msg_case "A fallback when the MMS domain has no MX -> 200" 200 \
		RURI_USER=+4790000006 domain=mms.afallback.test
	msg_case "legacy NAPTR service mms+E2U -> 200" 200 RURI_USER=+4790000005
	msg_case "NAPTR order/preference picks the live 10/10 record" 200 RURI_USER=+4790000007
	msg_case "NAPTR E2U+sip first, E2U+mms:mailto second -> 200" 200 RURI_USER=+4790000009
	msg_case "NAPTR flag U (upper case) accepted" 200 RURI_USER=+4790000011
	msg_case "NAPTR static regexp (no back-reference)" 200 RURI_USER=+4790000012
	msg_case "non-E.164 recipient -> 404/484" "404|484" \
		'RURI=sip:alice@[remote_ip]:[remote_port]' 'TO_URI=sip:alice@iwf.test' \
		'CPIM_TO=<sip:alice@example.com>' nomail=1
}

forged_res_cases() {
	local name="[$MODE] forged RES"
	want_case "$name" || return 0
	kam_alive || { notok "$name" "kamailio is not running"; return; }
	CASE_N=$((CASE_N + 1))
	local id num=+4710000044 mark tid forged1 forged2 out
	id=$(printf 'c%03d' $CASE_N)
	echo "$id $name" >>"$RUN/cases.txt"
	"$PY" "$HELPER" fill "$TEMPLATE" "$RUN/scen/$id.xml" EXPECT=200 RURI_USER=$num
	mark=$(peer_mark)
	# the pending MESSAGE, in the background (expects exactly 200)
	timeout 60 sipp -sf "$RUN/scen/$id.xml" -i $SIP_IP -p 5071 -recv_timeout 15000 \
		-timeout 40s -timeout_error -nostdin -trace_msg -message_file "$RUN/sipp/$id.msg" \
		-trace_err -error_file "$RUN/sipp/$id.err" -m 1 $SIP_IP:$SIP_PORT \
		>"$RUN/sipp/$id.out" 2>&1 &
	local bg=$!
	PIDS+=("$bg")
	if ! tid=$("$PY" "$HELPER" wait-mail --log "$PEER_LOG" --mark "$mark" --number $num --timeout 5); then
		notok "$name: unknown transaction id ignored" "no REQ for $num reached the peer"
		notok "$name: wrong random part ignored" "no REQ for $num reached the peer"
	else
		forged1=$("$PY" "$HELPER" mutate-tid "$tid")
		forged2=$("$PY" "$HELPER" mutate-tid --one "$tid")
		note "real tid $tid, forged $forged1 and $forged2"
		out=$("$PY" "$PEER" send-res --to $MM4_LISTEN_IP:$MM4_LISTEN_PORT \
			--tid '"e2e-unknown-0000000000"' --status Error-service-denied 2>&1)
		note "unknown tid: $out"
		out=$("$PY" "$PEER" send-res --to $MM4_LISTEN_IP:$MM4_LISTEN_PORT \
			--tid "$forged1" --status Error-service-denied 2>&1)
		note "forged tid 1: $out"
		out=$("$PY" "$PEER" send-res --to $MM4_LISTEN_IP:$MM4_LISTEN_PORT \
			--tid "$forged2" --status Error-permanent-failure 2>&1)
		note "forged tid 2: $out"
	fi
	# the sipp in the background expects exactly 200 (the real RES, 2 s later)
	local i rc got
	for ((i = 0; i < 300; i++)); do
		kill -0 "$bg" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$bg" 2>/dev/null && kill -TERM "$bg" 2>/dev/null
	wait "$bg"
	rc=$?
	got=$("$PY" "$HELPER" sipp-codes "$RUN/sipp/$id.msg")
	if [ -n "${tid:-}" ]; then
		if [ $rc -eq 0 ]; then
			ok "$name: unknown transaction id ignored"
			ok "$name: wrong random part ignored"
		else
			notok "$name: unknown transaction id ignored" "pending MESSAGE got: $got"
			notok "$name: wrong random part ignored" "pending MESSAGE got: $got"
		fi
	fi
	if [ $rc -eq 0 ]; then
		ok "$name: pending MESSAGE still gets its real answer (200)"
	else
		notok "$name: pending MESSAGE still gets its real answer (200)" "got: $got (sipp rc=$rc)"
	fi
	local out2
	out2=$("$PY" "$HELPER" junk $MM4_LISTEN_IP:$MM4_LISTEN_PORT 2>&1 | tail -1)
	note "$out2"
	if kam_alive && kamcmd -s "$CTL" core.uptime >/dev/null 2>&1; then
		ok "$name: kamailio alive after forged RES and junk on mm4_listen"
	else
		notok "$name: kamailio alive after forged RES and junk on mm4_listen" "kamailio/ctl not answering"
	fi
	msg_case "MESSAGE after forged RES and junk -> 200" 200
}

load_case() {
	local n=${E2E_LOAD:-200} margin=${E2E_SHM_MARGIN:-65536}
	local name="[$MODE] load: $n MESSAGEs in a row, 0 failures, shm stable"
	[ "$n" -gt 0 ] || return 0
	want_case "$name" || return 0
	kam_alive || { notok "$name" "kamailio is not running"; return; }
	CASE_N=$((CASE_N + 1))
	local id
	id=$(printf 'c%03d' $CASE_N)
	echo "$id $name" >>"$RUN/cases.txt"
	"$PY" "$HELPER" fill "$TEMPLATE" "$RUN/scen/$id.xml" EXPECT=200 'BODY=load test message [call_number]'
	# warm-up (DNS cache, pools, first-time allocations)
	sipp_run "$id-warm" "$RUN/scen/$id.xml" 5072 50 -r 20 -l 50
	if [ "$SIPP_RC" -ne 0 ]; then
		notok "$name" "warm-up failed: sipp rc=$SIPP_RC; $(grep -E 'Successful call|Failed call' "$RUN/sipp/$id-warm.out" | tail -2 | tr -s ' ' | tr '\n' ';')"
		return
	fi
	sleep 6   # tm's wait timer and the module's pending entries drain
	local s1 s2 mark
	s1=$(shm_used) || { notok "$name" "kamcmd core.shmmem failed: $(head -2 "$RUN/shm.txt")"; return; }
	mark=$(peer_mark)
	sipp_run "$id" "$RUN/scen/$id.xml" 5072 "$n" -r 20 -l 50
	local rc=$SIPP_RC
	sleep 6
	s2=$(shm_used) || { notok "$name" "kamcmd core.shmmem failed after the run"; return; }
	local mails
	mails=$("$PY" - "$PEER_LOG" "$mark" <<'EOF'
import json, sys
n = 0
for i, l in enumerate(open(sys.argv[1], encoding="utf-8")):
    if i >= int(sys.argv[2]) and json.loads(l).get("event") == "mail":
        n += 1
print(n)
EOF
)
	local u1 r1 u2 r2
	read -r u1 r1 <<<"$s1"
	read -r u2 r2 <<<"$s2"
	note "shm used $u1 -> $u2 ($((u2 - u1))), real_used $r1 -> $r2 ($((r2 - r1))); REQs at the peer: $mails"
	local stats
	stats=$(grep -E 'Successful call|Failed call' "$RUN/sipp/$id.out" | tail -2 | awk -F'|' '{gsub(/ +/," "); print $1 $3}' | tr '\n' ';')
	if [ "$rc" -ne 0 ]; then
		notok "$name" "sipp rc=$rc; $stats"
	elif [ "$mails" -ne "$n" ]; then
		notok "$name" "the peer got $mails REQs for $n MESSAGEs"
	elif [ $((u2 - u1)) -gt "$margin" ] || [ $((r2 - r1)) -gt "$margin" ]; then
		notok "$name" "shm grew: used +$((u2 - u1)), real_used +$((r2 - r1)) bytes (margin $margin)"
	else
		ok "$name"
	fi
}

# ---------------------------------------------------------------------------
# 8. one run per DNS mode
# ---------------------------------------------------------------------------
run_mode() {   # run_mode NAME ENUM_SERVER
	MODE=$1
	RUN=$OUT/$MODE
	mkdir -p "$RUN/scen" "$RUN/sipp"
	: >"$RUN/cases.txt"
	if ! start_peer "$RUN/peer.jsonl"; then
		notok "[$MODE] start MM4 peer" "$(tail -3 "$RUN/peer.stderr" | tr '\n' ' ')"
		return
	fi
	if ! start_kamailio "$2"; then
		notok "[$MODE] start kamailio (CPM_MMS_ENUM_SERVER='$2')" \
			"$(grep -iE 'error|crit' "$KAM_LOG" | head -2 | tr '\n' ' ' | cut -c1-400)"
		KAM_FAILED_LOGS+=("$KAM_LOG")
		stop_kamailio
		stop_pid "$PEER_PID"
		return
	fi
	ok "[$MODE] kamailio started (CPM_MMS_ENUM_SERVER='$2')"
	local fail0=$FAIL

	table1_cases
	status_cases
	dns_cases
	forged_res_cases
	load_case

	local bad
	bad=$(grep -E 'CRITICAL|BUG|segfault|Segmentation|core dumped|shm_mem_destroy|out of memory|no more (shm|pkg)' "$KAM_LOG" | head -3)
	if [ -z "$bad" ]; then
		ok "[$MODE] kamailio log has no CRITICAL/BUG/out-of-memory lines"
	else
		notok "[$MODE] kamailio log has no CRITICAL/BUG/out-of-memory lines" "$(tr '\n' ' ' <<<"$bad" | cut -c1-300)"
	fi
	if kam_alive && stop_kamailio; then
		ok "[$MODE] kamailio stops cleanly on SIGTERM"
	else
		notok "[$MODE] kamailio stops cleanly on SIGTERM" "not running at the end, or needed SIGKILL"
	fi
	stop_pid "$PEER_PID"
	[ "$FAIL" -gt "$fail0" ] && KAM_FAILED_LOGS+=("$KAM_LOG")
}

KAM_FAILED_LOGS=()
if ! setup_net; then
	notok "namespace setup" "lo / resolv.conf bind mount failed"
	summary_and_exit
fi
ok "namespace: lo up, private resolv.conf"
write_behaviour
if ! start_dns; then
	notok "ldns-testns on 127.0.0.1:53" "$(tail -3 "$OUT/ldns-testns.log" | tr '\n' ' ')"
	summary_and_exit
fi
ok "ldns-testns on 127.0.0.1:53 with enum.data"

for mode in ${E2E_MODES:-ldns sysdns}; do
	case $mode in
	ldns) run_mode ldns 127.0.0.1:53 ;;
	sysdns) run_mode sysdns "" ;;
	*) notok "mode $mode" "unknown mode" ;;
	esac
done

if [ "$FAIL" -gt 0 ]; then
	for f in "${KAM_FAILED_LOGS[@]}"; do
		note "---- last 40 lines of ${f#$TOP/} ----"
		tail -n 40 "$f" | sed 's/^/#   /'
	done
fi
summary_and_exit
