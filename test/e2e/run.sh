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
#   E2E_MODES="ldns sysdns kemi"  ldns / sysdns: which DNS path (CPM_MMS_ENUM_SERVER set /
#                             empty = Kamailio's DNS layer + system resolver;
#                             sysdns also sends every mail in BDAT chunks);
#                             kemi: the ldns cases through examples/kemi (Lua)
#   E2E_FILTER=REGEX          run only the cases whose name matches (plus setup)
#   E2E_LOAD=200              number of MESSAGEs of the load case (0 = skip)
#   E2E_SHM_MARGIN=65536      allowed shm growth (bytes) over the load case
#   E2E_MM4_MODES="ldns sysdns"  modes that also run the MMS -> CPM / reports
#                             section (empty = none)
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
UAS_PORT=5080                      # the CPM side of MMS -> CPM (cpm_route)
CPM_ROUTE=sip:$SIP_IP:$UAS_PORT
KAM_PEERS=127.0.0.0/8              # CPM_MMS_MM4_PEERS of the next start
SCHEMA=$TOP/sql/cpm_mms-sqlite.sql
UAS_SCEN=$HERE/cpm_uas.xml
IMDN_TEMPLATE=$HERE/uac_imdn.xml.in
VECTORS=$HERE/mm4_vectors

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
	for t in unshare ip mount ss sipp ldns-testns kamcmd sqlite3 "$KAMAILIO" "$PY"; do
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
15|{"status":"Error-transient-partial-success"}|202|RES Error-transient-partial-success -> 202
16|{"status":"Error-permanent-failure"}|500|RES Error-permanent-failure -> 500
17|{"status":"Error-permanent-service-denied"}|403|RES Error-permanent-service-denied -> 403
18|{"status":"Error-permanent-sending-address-unresolved"}|404|RES Error-permanent-sending-address-unresolved -> 404
19|{"status":"Error-permanent-content-not-accepted"}|415|RES Error-permanent-content-not-accepted -> 415
20|{"status":"Error-permanent-message-format-corrupt"}|400|RES Error-permanent-message-format-corrupt -> 400
21|{"status":"Error-permanent-lack-of-prepaid"}|402|RES Error-permanent-lack-of-prepaid -> 402
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
51|{"status":"Error-permanent-address-hiding-not-supported"}|403|RES Error-permanent-address-hiding-not-supported -> 403
52|{"smtp":"rcpt","code":550,"text":"5.1.1 No such user"}|404|SMTP 550 5.1.1 at RCPT -> 404
53|{"smtp":"rcpt","code":550,"text":"5.7.1 Relaying denied"}|403|SMTP 550 5.7.1 at RCPT -> 403
54|{"smtp":"data","code":550,"text":"5.1.1 No such user"}|404|SMTP 550 5.1.1 after DATA -> 404
55|{"smtp":"data","code":550,"text":"5.7.1 Message refused by policy"}|403|SMTP 550 5.7.1 after DATA -> 403
56|{"smtp":"rcpt","code":554,"text":"5.1.1 Unknown recipient"}|404|SMTP 554 5.1.1 at RCPT -> 404 (enhanced code decides)
57|{"smtp":"rcpt","code":550,"text":"5.2.2 Mailbox full"}|404|SMTP 550 5.2.2 at RCPT -> 404 (other enhanced codes: reply code decides)
'
# the MAIL-stage reject is keyed by the originator (see mm4_peer.py)
MAIL_REJECT_FROM=+4719999421
# the X-Mms-Message-ID the peer's RES gives messages to +47883000201
PEER_OWN_MID='"peer-own-201@mms.peer.test"'

write_behaviour() {
	STATUS_TABLE="$STATUS_TABLE" MAIL_REJECT_FROM=$MAIL_REJECT_FROM PEER_OWN_MID=$PEER_OWN_MID \
		"$PY" - "$OUT/behaviour.json" <<'EOF'
import json, os, sys
beh = {}
for line in os.environ["STATUS_TABLE"].strip().splitlines():
    f = line.split("|")
    beh["+47100000" + f[0]] = json.loads(f[1])
beh[os.environ["MAIL_REJECT_FROM"]] = {"smtp": "mail", "code": 421}
# special cases outside the status table (numbers 41..47, see run.sh)
beh["+4710000041"] = {"smtp": "rcpt", "code": 554}
beh["+4710000042"] = {"status": "Error-service-denied", "delay": 4.5}
beh["+4710000043"] = {"status": "Ok", "repeat": 2}
beh["+4710000044"] = {"status": "Ok", "delay": 2.0}
# restart with a MESSAGE pending: the harness sends the RESs itself
beh["+4710000045"] = {"no_res": True}
# the SIP client gives up: its RES comes after it left / never
beh["+4710000046"] = {"status": "Ok", "delay": 1.5}
beh["+4710000047"] = {"no_res": True}
# batching: a slow MMSC holds the workers (end of DATA answered after 1.5 s)
beh["+4710000048"] = {"status": "Ok", "data_delay": 1.5}
# sessions that go on: an MMSC that closes every connection after a mail
beh["+4710000049"] = {"status": "Ok", "close_after": True}
# an MMSC that gives the MM its own X-Mms-Message-ID in the RES (Mbuni);
# +47883... reaches the peer by a static route
beh["+47883000201"] = {"status": "Ok", "res_message_id": os.environ["PEER_OWN_MID"]}
json.dump(beh, open(sys.argv[1], "w"), indent=1, sort_keys=True)
EOF
}

start_peer() {      # start_peer LOGFILE
	PEER_LOG=$1
	: >"$PEER_LOG"
	"$PY" "$PEER" --listen $PEER_IP:$PEER_PORT --res-to $MM4_LISTEN_IP:$MM4_LISTEN_PORT \
		--domain $PEER_DOMAIN --iwf-domain $IWF_DOMAIN --log "$PEER_LOG" \
		--behaviour "$OUT/behaviour.json" --pidfile "$RUN/peer.pid" \
		${PEER_CHUNKING:+--chunking} >"$RUN/peer.stderr" 2>&1 &
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
# start_kamailio ENUM_SERVER [LOG-NAME]: with the report correlation DB
# $RUN/corr.sqlite (schema applied first: creates the file, keeps the rows of
# an earlier start) and CPM_MMS_MM4_PEERS=$KAM_PEERS; KAM_* variables
# override single settings of one start (KAM_SIP_LISTEN: the SIP sockets,
# KAM_CPM_ROUTE: cpm_route, KAM_RES_TIMEOUT, ...)
start_kamailio() {
	local enum_server=$1 i
	CTL=unix:$RUN/ctl.sock
	KAM_LOG=$RUN/${2:-kamailio}.log
	DB=$RUN/corr.sqlite
	if ! sqlite3 "$DB" <"$SCHEMA" >"$RUN/sqlite3.out" 2>&1; then
		echo "sqlite3 $DB < $SCHEMA failed: $(head -2 "$RUN/sqlite3.out")" >"$KAM_LOG"
		return 1
	fi
	(
		cd "$TOP" || exit 1
		# only our settings reach the cfg (none inherited from the caller)
		for v in $(compgen -e); do
			case $v in CPM_MMS_*) unset "$v" ;; esac
		done
		exec env \
			CPM_MMS_SIP_LISTEN="${KAM_SIP_LISTEN:-udp:$SIP_IP:$SIP_PORT}" \
			CPM_MMS_MM4_LISTEN=$MM4_LISTEN_IP:$MM4_LISTEN_PORT \
			CPM_MMS_MM4_PORT=$PEER_PORT \
			CPM_MMS_DOMAIN=$IWF_DOMAIN \
			CPM_MMS_ENUM_SUFFIX=e164.arpa \
			CPM_MMS_ENUM_SERVER="$enum_server" \
			CPM_MMS_MM4_PEERS="$KAM_PEERS" \
			CPM_MMS_RES_TIMEOUT=${KAM_RES_TIMEOUT:-$RES_TIMEOUT} \
			CPM_MMS_MAX_PENDING=${KAM_MAX_PENDING:-20000} \
			CPM_MMS_MM4_IDLE_TIMEOUT=${KAM_IDLE:-60} \
			CPM_MMS_MM4_SESSION_TIMEOUT=${KAM_SESSION:-600} \
			CPM_MMS_MM4_PEER_CONNECTIONS=${KAM_PEER_CONNS:-32} \
			CPM_MMS_SMTP_SESSION_IDLE=${KAM_SMTP_SESSION_IDLE:-100} \
			CPM_MMS_STATIC_ROUTE="${KAM_STATIC_ROUTE-$STATIC_ROUTES}" \
			CPM_MMS_INTL_PREFIX="${KAM_INTL_PREFIX-00}" \
			CPM_MMS_NATIONAL_PREFIX="${KAM_NATIONAL_PREFIX-0}" \
			CPM_MMS_COUNTRY_CODE="${KAM_COUNTRY_CODE-47}" \
			CPM_MMS_CPM_ROUTE="${KAM_CPM_ROUTE:-$CPM_ROUTE}" \
			CPM_MMS_URI_FORM="${KAM_URI_FORM:-tel}" \
			CPM_MMS_DB_URL="${KAM_DB_URL:-sqlite:///$DB}" \
			CPM_MMS_CTL="$CTL" \
			CPM_MMS_LUA="${E2E_KEMI_LUA:-}" \
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

# wait_sipp PID TENTHS MSGFILE: wait (at most TENTHS x 0.1 s) for a sipp
# started in the background, stop it if it still runs; sets BG_RC and BG_GOT
# (the status lines it received, from its -message_file)
wait_sipp() {
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && kill -TERM "$1" 2>/dev/null
	wait "$1"
	BG_RC=$?
	BG_GOT=$("$PY" "$HELPER" sipp-codes "$3")
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
	# SIP hops are not MMS forwardings: never an X-Mms-Forward-Counter
	msg_case "T1 Max-Forwards 65 -> no X-Mms-Forward-Counter" 200 \
		'MAX_FORWARDS=65' -- '"x-mms-forward-counter" not in H'
	msg_case "T1 Max-Forwards 10 -> no X-Mms-Forward-Counter" 200 \
		'MAX_FORWARDS=10' -- '"x-mms-forward-counter" not in H'
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
	# 8-bit parts made 7-bit (quoted-printable / base64), no BODY=8BITMIME;
	# the peer's own check flags 8-bit data without it
	msg_case "T1 multipart with 8-bit parts -> 7-bit mail (QP text, base64 binary), no BODY=8BITMIME" 200 \
		'PAYLOAD_CT=multipart/mixed; boundary="e2e-b8"' \
		"BODY=--e2e-b8\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße ✓ æøå\n--e2e-b8\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: 8bit\n\nbin é\n--e2e-b8--" -- \
		'm["mime_type"] == "multipart/mixed"' \
		'[p["mime_type"] for p in m["parts"]] == ["text/plain", "application/octet-stream"]' \
		'text(m["parts"][0].get("text")) == "Grüße ✓ æøå"' \
		'm["parts"][0]["cte"].lower() == "quoted-printable"' \
		'm["parts"][1]["cte"].lower() == "base64"' \
		'not any("BODY=" in o.upper() for o in m["mail_options"])' \
		'not m["failures"]'
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

# -- issue 14: recipients (RFC 5364 copyControl, group MMS) --------------------
# A URI-list MESSAGE (RFC 5365) with to/cc/bcc entries: one REQ per MMSE, the
# To/Cc of both name only the to/cc numbers, each bcc is only in its MMSE's
# RCPT TO. The bcc numbers are also in the CPIM To (a careless client): they
# must still show up in no header and not in the body. Numbers +47883...
# and +47881... reach the peer by the static routes (see STATIC_ROUTES).
recipients_cases() {
	local rl
	rl='--rl1\nContent-Type: message/cpim\n\n'
	rl+='From: <sip:+4798765432@ims.test>\nTo: <tel:+4712345678>\nTo: <tel:+47883000103>\n'
	rl+='cc: <tel:+47883000102>\nNS: imdn <urn:ietf:params:imdn>\n'
	rl+='imdn.Message-ID: e2e-rl-[pid]-[call_number]\nDateTime: 2024-05-01T10:15:00.000Z\n'
	rl+='imdn.Disposition-Notification: positive-delivery\n\n'
	rl+='Content-Type: text/plain; charset=utf-8\n\nHello group\n'
	rl+='--rl1\nContent-Type: application/resource-lists+xml\nContent-Disposition: recipient-list\n\n'
	rl+='<?xml version="1.0" encoding="UTF-8"?>\n'
	rl+='<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists" xmlns:cp="urn:ietf:params:xml:ns:copycontrol">\n'
	rl+='<list>\n<entry uri="tel:+4712345678" cp:copyControl="to"/>\n'
	rl+='<entry uri="sip:+47883000101@ims.test;user=phone"/>\n'
	rl+='<entry uri="tel:+47883000102" cp:copyControl="cc"/>\n'
	rl+='<entry uri="tel:+47883000103" cp:copyControl="bcc"/>\n'
	rl+='<entry uri="tel:+47881000104" cp:copyControl="bcc"/>\n'
	rl+='</list>\n</resource-lists>\n--rl1--'
	msg_case "recipients: URI list to+cc+bcc -> To/Cc/RCPT TO, bcc in no header" 200 \
		cpim=0 'SIP_CT=multipart/mixed; boundary=rl1' "BODY=$rl" nobase=1 mails=2 -- \
		'not any(x["failures"] for x in mails)' \
		'sorted(sorted(num(a.strip("<>")) for a in x["rcpt_tos"]) for x in mails) == [["+4712345678", "+47883000101", "+47883000102", "+47883000103"], ["+47881000104"]]' \
		'sorted(num(a) for x in mails for a in x["bcc"]) == ["+47881000104", "+47883000103"]' \
		'all([num(a) for a in addrs(x["hdr"].get("to", ""))] == ["+4712345678", "+47883000101"] for x in mails)' \
		'all([num(a) for a in addrs(x["hdr"].get("cc", ""))] == ["+47883000102"] for x in mails)' \
		'all(dom(a.strip("<>")) == ("mms.static.test" if "881000104" in a else "mms.peer.test") for x in mails for a in x["rcpt_tos"])' \
		'not any(n in json.dumps(x["headers"]) + (x.get("body_text") or "") for x in mails for n in ("883000103", "881000104"))' \
		'all(text(x["body_text"]) == "Hello group" for x in mails)'
	msg_case "recipients: URI list bcc only -> To undisclosed-recipients:;, RCPT TO" 200 \
		cpim=0 'SIP_CT=multipart/mixed; boundary=rl2' \
		"BODY=--rl2\nContent-Type: text/plain\n\nhidden\n--rl2\nContent-Type: application/resource-lists+xml\n\n<resource-lists xmlns:cp=\"urn:ietf:params:xml:ns:copycontrol\"><list><entry uri=\"tel:+47883000105\" cp:copyControl=\"bcc\"/></list></resource-lists>\n--rl2--" \
		'RURI=sip:list@[remote_ip]:[remote_port]' nobase=1 -- \
		'not m["failures"]' '[num(a) for a in m["bcc"]] == ["+47883000105"]' \
		'[num(a.strip("<>")) for a in m["rcpt_tos"]] == ["+47883000105"]' \
		'H.get("to", "").strip() == "undisclosed-recipients:;"' \
		'"883000105" not in json.dumps(m["headers"])'
	msg_case "recipients: URI list copyControl outside to/cc/bcc -> 400" 400 \
		cpim=0 'SIP_CT=multipart/mixed; boundary=rl3' nomail=1 \
		"BODY=--rl3\nContent-Type: text/plain\n\nx\n--rl3\nContent-Type: application/resource-lists+xml\n\n<resource-lists><list><entry uri=\"tel:+47883000106\" cp:copyControl=\"secret\"/></list></resource-lists>\n--rl3--"
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

# -- issue 14: NAPTR order, E2U+mms:tel, numbering plan, static routes -------
# Every instance runs with intl_prefix 00, national_prefix 0, country_code
# 47 and these routes (ENUM has nothing for +4788...: NXDOMAIN): the new
# form with a via to the peer for a domain that has no DNS at all, the old
# ip:port form (domain [127.0.0.2]), and a domain without via (its MX).
STATIC_ROUTES="+4788100=>mms.static.test;via=$PEER_IP,+4788200=>$PEER_IP:$PEER_PORT,+4788300=>$PEER_DOMAIN"

# static_case NAME NUMBER DOMAIN VIA: the mail reached the peer for
# NUMBER/TYPE=PLMN@DOMAIN (RCPT TO and To) and the IWF logged it went to VIA
# peer_out ADDR: mails the IWF sent to ADDR (ip:port), from cpm_mms.peers
peer_out() {
	kamcmd -s "$CTL" cpm_mms.peers 2>/dev/null | awk -v a="$1" '
		$1 == "address:" { on = ($2 == a) }
		on && $1 == "messages_out:" { print $2; found = 1; exit }
		END { if (!found) print 0 }'
}
static_case() {
	local name="[$MODE] $1" num=$2 dom=$3 via=$4 lm before after
	want_case "$name" || return 0
	lm=$(kam_log_mark)
	before=$(peer_out "$via")
	msg_case "$1" 200 RURI_USER="$num" domain="$dom"
	# (msg_case counted the case; these checks only turn it into a
	# failure, so they are second, dependent assertions)
	sleep 0.3
	after=$(peer_out "$via")
	if [ "$after" -ne $((before + 1)) ]; then
		notok "$name: next hop" "cpm_mms.peers: $via messages_out $before -> $after, want +1"
	else
		ok "$name: next hop $via"
	fi
	# the one INFO line of the MESSAGE names its ids and the MMSC domain
	if ! kam_log_since "$lm" | grep -E "MESSAGE answered 200 OK: Call-ID [^ ]+, imdn.Message-ID [^ ]+, X-Mms-Transaction-ID [^ ]+, X-Mms-Message-ID [^ ]+, recipient ${num//+/\\+}, MMSC ${dom//[/\\[}," >/dev/null; then
		notok "$name: log line" "no 'MESSAGE answered 200 OK: Call-ID ..., recipient $num, MMSC $dom,' in the log"
	else
		ok "$name: log line"
	fi
}

numbering_cases() {
	msg_case "NAPTR order 10 whose regexp does not match does not block order 20 -> 200" 200 \
		RURI_USER=+4790000030
	msg_case "NAPTR order 10 that matches settles the order (its domain has no host, order 20 unused) -> 503" \
		503 RURI_USER=+4790000031 nomail=1
	msg_case "NAPTR E2U+mms:tel -> ENUM of the tel: number -> its mailto: address, 200" 200 \
		RURI_USER=+4790000032 rcpt=+4712345678
	msg_case "NAPTR E2U+mms:tel loop (33 -> 34 -> 33) -> 404" "404|604" \
		RURI_USER=+4790000033 nomail=1
	msg_case "NAPTR E2U+mms:tel chain of three hops (two followed) -> 404" "404|604" \
		RURI_USER=+4790000035 nomail=1
	msg_case "NAPTR service E2U+email:mailto+mms:mailto -> 200" 200 RURI_USER=+4790000038
	msg_case "NAPTR service e2u+MMS:MAILTO (any case) -> 200" 200 RURI_USER=+4790000039

	msg_case "plan: national recipient 012345678 -> +4712345678, 200" 200 \
		RURI_USER=012345678 rcpt=+4712345678
	msg_case "plan: recipient with international prefix 004712345678 -> +4712345678, 200" 200 \
		RURI_USER=004712345678 rcpt=+4712345678
	msg_case "plan: recipient +0412345678 is not E.164 -> 404" "404|484" \
		RURI_USER=+0412345678 nomail=1
	msg_case "plan: national recipient 0012 (00 + 12: no E.164 after the prefix) -> 404/484" \
		"404|484" RURI_USER=00012345 nomail=1
	msg_case "plan: national sender tel:098765432 in P-Asserted-Identity -> +4798765432" 200 \
		'EXTRA_HEADERS=P-Asserted-Identity: <tel:098765432>' -- \
		'addrs(H["from"]) == ["+4798765432/TYPE=PLMN@mms.iwf.test"]' \
		'm["mail_from"].strip("<>") == "+4798765432/TYPE=PLMN@mms.iwf.test"'
	local name out
	name="[$MODE] plan: cpm_mms.enum tel:012345678 resolves +4712345678"
	if want_case "$name"; then
		out=$(kamcmd -s "$CTL" cpm_mms.enum s:tel:012345678 2>&1)
		if grep -q "number: +4712345678" <<<"$out" && grep -q "result: ok" <<<"$out"; then
			ok "$name"
		else
			notok "$name" "$(tr '\n' ' ' <<<"$out" | head -c 400)"
		fi
	fi
	name="[$MODE] plan: cpm_mms.enum +0412345678 -> not E.164 (no DNS query)"
	if want_case "$name"; then
		out=$(kamcmd -s "$CTL" cpm_mms.enum s:+0412345678 2>&1)
		grep -q "not an E.164" <<<"$out" && ok "$name" ||
			notok "$name" "$(tr '\n' ' ' <<<"$out" | head -c 400)"
	fi
	name="[$MODE] cpm_mms.config shows the plan and the static routes in the new form"
	if want_case "$name"; then
		out=$(kamcmd -s "$CTL" cpm_mms.config 2>&1)
		if grep -q "intl_prefix: 00" <<<"$out" && grep -q "national_prefix: 0" <<<"$out" &&
			grep -q "country_code: 47" <<<"$out" &&
			grep -qF "+4788100=>mms.static.test;via=$PEER_IP" <<<"$out" &&
			grep -qF "+4788200=>[$PEER_IP];via=$PEER_IP:$PEER_PORT" <<<"$out"; then
			ok "$name"
		else
			notok "$name" "$(tr '\n' ' ' <<<"$out" | head -c 600)"
		fi
	fi
	name="[$MODE] static_route old form ip:port -> deprecation NOTICE at start-up"
	if want_case "$name"; then
		grep -q "static_route '+4788200=>$PEER_IP:$PEER_PORT': the form prefix=>host:port is deprecated" \
			"$KAM_LOG" && ok "$name" || notok "$name" "no NOTICE in $KAM_LOG"
	fi

	static_case "static route prefix=>mms.static.test;via=$PEER_IP: domain in RCPT TO/To, mail to via" \
		+47881000001 mms.static.test "$PEER_IP:$PEER_PORT"
	static_case "static route old form prefix=>ip:port: address @[ip], mail to ip:port" \
		+47882000001 "[$PEER_IP]" "$PEER_IP:$PEER_PORT"
	static_case "static route prefix=>$PEER_DOMAIN without via: the domain's MX" \
		+47883000001 "$PEER_DOMAIN" "$PEER_IP:$PEER_PORT"
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
	local rc got
	wait_sipp "$bg" 300 "$RUN/sipp/$id.msg"
	rc=$BG_RC
	got=$BG_GOT
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
# 7b. MMS -> CPM (Tables 4/5), reports <-> IMDN (Tables 6-9), correlation DB
# ---------------------------------------------------------------------------
# The peer plays the originating MMSC (mm4_peer.py send-req / send-report),
# one long-running sipp UAS (cpm_uas.xml) plays the CPM side on cpm_route and
# answers by Request-URI number (+4720000CCC -> CCC, +4720000000 -> nothing);
# its message trace is what the MESSAGE checks read.  Numbers +47300000NN are
# the CPM recipients of one case each, +4730000100 is the MMS originator.
MM4=$MM4_LISTEN_IP:$MM4_LISTEN_PORT
ORIG=+4730000100/TYPE=PLMN@$PEER_DOMAIN
ORIG_SYS=system-user@$PEER_DOMAIN
IWF_SYS=system-user@$IWF_DOMAIN
REQ_DATE="Wed, 01 May 2024 10:15:00 +0000"
ICSI='urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg'

rcpt_of() { echo "$1/TYPE=PLMN@$IWF_DOMAIN"; }

# dep_fail NAME WHY: a case that cannot run because what it builds on failed
dep_fail() {
	want_case "[$MODE] $1" && notok "[$MODE] $1" "prerequisite failed: $2"
	return 0
}

new_case_id() {
	CASE_N=$((CASE_N + 1))
	CASE_ID=$(printf 'c%03d' $CASE_N)
	echo "$CASE_ID $1" >>"$RUN/cases.txt"
}

start_uas() {
	UAS_TRACE=$RUN/uas.msg
	: >"$UAS_TRACE"
	sipp -sf "$UAS_SCEN" -i $SIP_IP -p $UAS_PORT -nostdin -trace_msg \
		-message_file "$UAS_TRACE" -trace_err -error_file "$RUN/uas.err" \
		>/dev/null 2>"$RUN/uas.stderr" &
	UAS_PID=$!
	PIDS+=("$UAS_PID")
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$UAS_PID" 2>/dev/null || return 1
		ss -Hlun "sport = :$UAS_PORT" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# mm4_case NAME [e2e_helper.py mm4-case options] -- send-req|send-report ARGS
# returns 0 ok (CASE_OUT = what --print printed), 1 not ok, 2 filtered out
mm4_case() {
	local name="[$MODE] $1" out
	shift
	CASE_OUT=""
	want_case "$name" || return 2
	if ! kam_alive; then
		notok "$name" "kamailio is not running"
		return 1
	fi
	new_case_id "$name"
	if out=$("$PY" "$HELPER" mm4-case --peer-log "$PEER_LOG" --uas-trace "$UAS_TRACE" \
		--sends-log "$RUN/sends.jsonl" "$@" 2>&1); then
		CASE_OUT=$out
		ok "$name"
		return 0
	fi
	notok "$name" "$(tail -c 1600 <<<"$out" | tr '\n' ' ')"
	return 1
}

# cpm_msg NUMBER IMDN_ID DISPO [CPIM_EXTRA [FROM_USER]]: a CPM MESSAGE (sipp
# UAC) to the MMS user NUMBER, 200 expected; sets MMS_MID (the
# X-Mms-Message-ID the peer got) or WHY (return 1)
cpm_msg() {
	local num=$1 iid=$2 dispo=$3 extra=${4:-} from=${5:-} mark id
	MMS_MID=""
	new_case_id "(CPM MESSAGE $iid for a report case)"
	id=$CASE_ID
	if ! "$PY" "$HELPER" fill "$TEMPLATE" "$RUN/scen/$id.xml" EXPECT=200 RURI_USER="$num" \
		"IMDN_ID=$iid" "DISPO=$dispo" "CPIM_EXTRA=$extra" ${from:+"FROM_USER=$from"} \
		>"$RUN/scen/$id.fill" 2>&1; then
		WHY="cannot fill the MESSAGE: $(tail -1 "$RUN/scen/$id.fill")"
		return 1
	fi
	mark=$(peer_mark)
	sipp_run "$id" "$RUN/scen/$id.xml" 5070 1
	if [ "$SIPP_RC" -ne 0 ]; then
		WHY="the CPM MESSAGE to $num got $SIPP_GOT, expected 200"
		return 1
	fi
	if ! MMS_MID=$("$PY" "$HELPER" wait-mail --log "$PEER_LOG" --mark "$mark" --number "$num" \
		--field x-mms-message-id --timeout 5) || [ -z "$MMS_MID" ]; then
		WHY="no MM4_forward.REQ (with X-Mms-Message-ID) for $num at the peer"
		return 1
	fi
	return 0
}

# imdn_send ID EXPECT [KEY=VALUE ...]: one IMDN to the IWF (uac_imdn.xml.in)
IMDN_SENT=0
imdn_send() {
	local id=$1 expect=$2
	shift 2
	if ! "$PY" "$HELPER" fill "$IMDN_TEMPLATE" "$RUN/scen/$id.xml" defaults=imdn \
		"EXPECT=$expect" "$@" >"$RUN/scen/$id.fill" 2>&1; then
		SIPP_RC=99
		SIPP_GOT="cannot fill the IMDN: $(tail -1 "$RUN/scen/$id.fill")"
		return
	fi
	IMDN_SENT=$((IMDN_SENT + 1))
	sipp_run "$id" "$RUN/scen/$id.xml" 5073 1
}

# imdn_case NAME EXPECT REPORT-TYPE|none MID [KEY=VALUE ...] [-- EXPR ...]
#   the CPM side sends an IMDN (KEY=VALUE: uac_imdn.xml.in placeholders) and
#   expects EXPECT; then the peer must receive exactly one REPORT-TYPE
#   (MM4_delivery_report.REQ / MM4_read_reply_report.REQ) for X-Mms-Message-ID
#   MID, checked with EXPRs (peer-wait: e, H, ALL; MID), or none at all
imdn_case() {
	local name="[$MODE] $1" expect=$2 rtype=$3 mid=$4 mark why
	shift 4
	want_case "$name" || return 0
	if ! kam_alive; then
		notok "$name" "kamailio is not running"
		return 1
	fi
	local fill=() exprs=()
	while [ $# -gt 0 ]; do
		case $1 in
		--) shift; exprs=("$@"); break ;;
		*) fill+=("$1") ;;
		esac
		shift
	done
	new_case_id "$name"
	mark=$(peer_mark)
	imdn_send "$CASE_ID" "$expect" "${fill[@]}"
	if [ "$SIPP_RC" -ne 0 ]; then
		notok "$name" "IMDN answered $SIPP_GOT, expected $expect (sipp rc=$SIPP_RC, out/$MODE/sipp/$CASE_ID.*)"
		return 1
	fi
	if [ "$rtype" = none ]; then
		why=$("$PY" "$HELPER" peer-wait --log "$PEER_LOG" --mark "$mark" --event rx_report \
			--var "MID=$mid" --where 'unq(H.get("x-mms-message-id")) == unq(MID)' \
			--count 0 --exact --timeout 1.5 2>&1)
	else
		why=$("$PY" "$HELPER" peer-wait --log "$PEER_LOG" --mark "$mark" --event rx_report \
			--var "MID=$mid" --var "RTYPE=$rtype" \
			--where 'e["message_type"] == RTYPE and unq(H.get("x-mms-message-id")) == unq(MID)' \
			--count 1 --exact --settle 0.6 -- 'not e["failures"]' \
			'any(x.get("event") == "res" and x.get("seq") == e["seq"] and x.get("sent") for x in ALL)' \
			"${exprs[@]}" 2>&1)
	fi
	if [ $? -eq 0 ]; then
		ok "$name"
	else
		notok "$name" "$(tail -c 1500 <<<"$why" | tr '\n' ' ')"
	fi
}

stats_snapshot() {   # stats_snapshot NAME -> $RUN/NAME.json
	kamcmd -s "$CTL" cpm_mms.stats >"$RUN/$1.stats" 2>&1 &&
		"$PY" "$HELPER" stats "$RUN/$1.stats" >"$RUN/$1.json"
}

sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$@"; }
unq_sh() { local v=${1#\"}; echo "${v%\"}"; }   # an X-Mms id without its quotes

# -- issue 14: group MMS -> CPM: every local recipient's MESSAGE carries the
# other To/Cc recipients as CPIM cc; +4730000303 is in the envelope only
# (Bcc): it gets the group as cc, and nobody else sees it
recipients_mm4_cases() {
	local g="+4730000301 +4730000302 +4790000999"
	mm4_case "recipients: MMS->CPM To 301+302, Cc 999, Bcc 303 -> three MESSAGEs, the others as CPIM cc" \
		--ruri-re '^tel:\+473000030[123]$' --messages 3 --var "G=$g" \
		--expr 'sorted(uri_num(x["ruri"]) for x in reqs) == ["+4730000301", "+4730000302", "+4730000303"]' \
		--expr 'all(sorted(uri_num(v) for n, v in x["cpim_order"] if n == "cc") == sorted(n for n in G.split() if n != uri_num(x["ruri"])) for x in reqs)' \
		--expr 'all([v for n, v in x["cpim_order"] if n == "To"] == ["<%s>" % x["ruri"]] for x in reqs)' \
		--expr 'not any("4730000303" in json.dumps(x["cpim_order"]) + json.dumps(x["headers"]) for x in reqs if uri_num(x["ruri"]) != "+4730000303")' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000301)" --rcpt "$(rcpt_of +4730000302)" \
		--rcpt "$(rcpt_of +4730000303)" \
		--to-hdr "$(rcpt_of +4730000301), \"B\" <$(rcpt_of +4730000302)>" \
		--cc "+4790000999/TYPE=PLMN@$PEER_DOMAIN"
}

# -- MMS -> CPM: numbers through the numbering plan (00 / 0 / 47) -----------
plan_mm4_cases() {
	mm4_case "MMS->CPM plan: national RCPT TO 030000050/TYPE=PLMN -> MESSAGE to tel:+4730000050" \
		--ruri-re '^tel:\+4730000050$' \
		--expr 'r["ruri"] == "tel:+4730000050"' \
		--expr 'C["to"] == "<tel:+4730000050>"' \
		-- send-req --to $MM4 --rcpt "030000050/TYPE=PLMN@$IWF_DOMAIN" --text "national recipient"
	mm4_case "MMS->CPM plan: national From 0412345678/TYPE=PLMN -> P-Asserted-Identity tel:+47412345678" \
		--ruri-re '^tel:\+4730000051$' \
		--expr 'H["p-asserted-identity"].strip("<>") == "tel:+47412345678"' \
		--expr 'C["from"] == "<tel:+47412345678>"' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000051)" \
		--from "0412345678/TYPE=PLMN@$PEER_DOMAIN" --text "national sender"
	mm4_case "MMS->CPM plan: From 004712345678/TYPE=PLMN (international prefix) -> tel:+4712345678" \
		--ruri-re '^tel:\+4730000052$' \
		--expr 'H["p-asserted-identity"].strip("<>") == "tel:+4712345678"' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000052)" \
		--from "004712345678/TYPE=PLMN@$PEER_DOMAIN" --text "intl prefix sender"
	mm4_case "MMS->CPM plan: RCPT TO +0412345678/TYPE=PLMN (not E.164) -> RES Error-sending-address-unresolved" \
		--ruri-re '^tel:\+0412345678$' --messages 0 --res Error-sending-address-unresolved \
		-- send-req --to $MM4 --rcpt "+0412345678/TYPE=PLMN@$IWF_DOMAIN" --text "plus zero"
}

# -- MMS -> CPM, Table 4 and Table 5 ----------------------------------------
t4_cases() {
	local text=$'Hei fra MMS ✓\nlinje 2'
	mm4_case "MMS->CPM basic text REQ -> MESSAGE (Table 4, header by header), RES Ok" \
		--ruri-re '^tel:\+4730000001$' \
		--expr 'r["ruri"] == "tel:+4730000001"' \
		--expr 'H["to"] == "<tel:+4730000001>"' \
		--expr 're.fullmatch(r"<tel:\+4730000100>;tag=\S+", H["from"])' \
		--expr 'H["p-asserted-identity"].strip("<>") == "tel:+4730000100"' \
		--expr '"privacy" not in H' \
		--expr 'H["subject"] == "Hello MMS"' \
		--expr 'H["priority"] == "urgent"' \
		--expr 'abs(int(H["expires"]) - 3600) <= 60' \
		--expr 'H["max-forwards"] == "67"' \
		--expr 'date(H["date"]) == 1714558500 and H["date"].endswith("GMT")' \
		--expr "H[\"accept-contact\"] == '*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg\"'" \
		--expr "H[\"p-asserted-service\"] == '$ICSI'" \
		--expr 'UUID_RE.match(H["conversation-id"]) and UUID_RE.match(H["contribution-id"])' \
		--expr 'H["conversation-id"] != H["contribution-id"]' \
		--expr 'H["content-type"] == "message/cpim"' \
		--expr 'r["clen_ok"] and r["copies"] == 1' \
		--expr 'C["from"] == "<tel:+4730000100>" and C["to"] == "<tel:+4730000001>"' \
		--expr 'C["ns"] == "imdn <urn:ietf:params:imdn>"' \
		--expr 're.fullmatch(r"[A-Za-z0-9._~+-]{8,}", C["imdn.message-id"])' \
		--expr 'iso(C["datetime"]) == 1714558500' \
		--expr 'C["imdn.disposition-notification"] == "positive-delivery, negative-delivery, display"' \
		--expr "C[\"imdn.imdn-record-route\"] == '<sip:iwf@$IWF_DOMAIN>'" \
		--expr 'C["subject"] == "Hello MMS"' \
		--expr 'P["content_type"].replace(" ", "").lower() == "text/plain;charset=utf-8"' \
		--expr 'P["text"] == "Hei fra MMS ✓\r\nlinje 2"' \
		--expr 'RH["x-mms-message-id"] == S["message_id"]' \
		--expr "RH[\"sender\"] == '$IWF_SYS' and addrs(RH[\"to\"]) == ['$ORIG_SYS']" \
		--expr "[x.strip('<>') for x in e['rcpt_tos']] == ['$ORIG_SYS']" \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000001)" --from "$ORIG" --date "$REQ_DATE" \
		--subject "Hello MMS" --priority High --expiry-in 3600 --forward-counter 3 \
		--dr Yes --rr Yes --visibility Show --text "$text"

	# Table 5: the CPM side's final answer -> X-Mms-Request-Status-Code
	local spec code status
	for spec in 404:Error-sending-address-unresolved 480:Error-network-problem \
		500:Error-network-problem 603:Error-service-denied 403:Error-service-denied \
		400:Error-message-format-corrupt 410:Error-sending-address-unresolved \
		484:Error-sending-address-unresolved 604:Error-sending-address-unresolved \
		413:Error-content-not-accepted 415:Error-content-not-accepted \
		488:Error-content-not-accepted 606:Error-content-not-accepted \
		408:Error-network-problem 486:Error-network-problem 503:Error-network-problem \
		501:Error-unsupported-message; do
		code=${spec%%:*}
		status=${spec#*:}
		mm4_case "MMS->CPM CPM answers $code -> RES $status" \
			--ruri-re "^tel:\\+4720000$code\$" --res "$status" \
			-- send-req --to $MM4 --rcpt "$(rcpt_of +4720000$code)" --text "answer $code please"
	done

	mm4_case "MMS->CPM duplicate REQ (after its RES) -> one MESSAGE, the same RES twice" \
		--ruri-re '^tel:\+4730000002$' --res-count 2 --settle 1.0 \
		--expr 'res[0]["hdr"]["x-mms-message-id"] == res[1]["hdr"]["x-mms-message-id"]' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000002)" --count 2 --gap 1.0
	DUPS=$((DUPS + 1))
	mm4_case "MMS->CPM duplicate REQ while the MESSAGE is pending -> one MESSAGE, two RES" \
		--ruri-re '^tel:\+4720000201$' --res-count 2 --settle 1.0 --timeout 8 \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4720000201)" --count 2 --gap 0.3
	DUPS=$((DUPS + 1))

	mm4_case "MMS->CPM two recipients (200 + 404) -> two MESSAGEs, one RES (worst wins)" \
		--ruri-re '^tel:\+47(30000003|20000404)$' --messages 2 \
		--res Error-sending-address-unresolved \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000003)" --rcpt "$(rcpt_of +4720000404)"
	mm4_case "MMS->CPM relay attempt (recipient @other.domain) -> 550 at RCPT" \
		--smtp 550 --stage rcpt --ruri-re '^tel:\+4730000004$' --messages 0 --res none \
		--expr 'S["reply"].startswith("5.7.1")' \
		-- send-req --to $MM4 --rcpt "+4730000004/TYPE=PLMN@other.domain"
	mm4_case "MMS->CPM local + foreign recipient -> 550 for the foreign one, MESSAGE for ours" \
		--ruri-re '^tel:\+4730000005$' \
		--expr 'S["rcpt_replies"]["+4730000006/TYPE=PLMN@other.domain"][0] == 550' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000005)" \
		--rcpt "+4730000006/TYPE=PLMN@other.domain"
	mm4_case "MMS->CPM oversize (80 KB JPEG > max_cpm_size) -> Error-content-not-accepted" \
		--ruri-re '^tel:\+4730000007$' --messages 0 --res Error-content-not-accepted \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000007)" --body oversize --oversize 80000
	local subj='Grüße aus Tromsø — ein ziemlich langer Betreff, der gefaltet werden muss ✓ 😀'
	mm4_case "MMS->CPM folded RFC 2047 Subject (email package) -> SIP and CPIM Subject decoded" \
		--ruri-re '^tel:\+4730000008$' --var "SUBJ=$subj" \
		--expr 'H["subject"] == SUBJ and C["subject"] == SUBJ' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000008)" --subject "$subj"
	mm4_case "MMS->CPM multipart/mixed text + JPEG -> multipart payload, bytes intact" \
		--ruri-re '^tel:\+4730000009$' \
		--expr 'P["mime_type"] == "multipart/mixed" and "boundary=" in P["content_type"]' \
		--expr '[p["mime_type"] for p in P["parts"]] == ["text/plain", "image/jpeg"]' \
		--expr '[p["sha256"] for p in P["parts"]] == [x[1] for x in S["parts"]]' \
		--expr 'not P["defects"]' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000009)" --body mixed --image-size 3000 \
		--text "Look at this"
	mm4_case "MMS->CPM multipart/related SMIL + text + JPEG -> multipart/related as received" \
		--ruri-re '^tel:\+4730000010$' \
		--expr 'P["mime_type"] == "multipart/related"' \
		--expr '"application/smil" in P["content_type"] and "<smil1>" in P["content_type"]' \
		--expr '[p["mime_type"] for p in P["parts"]] == ["application/smil", "text/plain", "image/jpeg"]' \
		--expr '[p["sha256"] for p in P["parts"]] == [x[1] for x in S["parts"]]' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000010)" --body related-image
	mm4_case "MMS->CPM multipart/related SMIL + one text -> text/plain payload" \
		--ruri-re '^tel:\+4730000011$' \
		--expr 'P["mime_type"] == "text/plain" and text(P["text"]) == "SMIL and text only"' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000011)" --body related \
		--text "SMIL and text only"
	mm4_case "MMS->CPM quoted-printable text -> decoded UTF-8 text/plain" \
		--ruri-re '^tel:\+4730000012$' \
		--expr 'P["text"] == "Grüße ✓ " * 12' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000012)" --body qp \
		--text "$(printf 'Grüße ✓ %.0s' $(seq 1 12))"
	mm4_case "MMS->CPM Sender-Visibility Hide -> anonymous From, Privacy: id, PAI kept" \
		--ruri-re '^tel:\+4730000013$' \
		--expr 're.fullmatch(r"\"Anonymous\" <sip:anonymous@anonymous\.invalid>;tag=\S+", H["from"])' \
		--expr 'H["privacy"] == "id" and H["p-asserted-identity"].strip("<>") == "tel:+4730000100"' \
		--expr 'C["from"] == "\"Anonymous\" <sip:anonymous@anonymous.invalid>"' \
		--expr '"+4730000100" not in r["body_raw"]' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000013)" --visibility Hide
	mm4_case "MMS->CPM no report asked -> no imdn.Disposition-Notification, Priority Low" \
		--ruri-re '^tel:\+4730000014$' \
		--expr '"imdn.disposition-notification" not in C and H["priority"] == "non-urgent"' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000014)" --dr No --rr No --priority Low
	mm4_case "MMS->CPM X-Mms-Message-Class Auto -> no IMDN request" \
		--ruri-re '^tel:\+4730000015$' \
		--expr '"imdn.disposition-notification" not in C' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000015)" --dr Yes --rr Yes --message-class Auto
	mm4_case "MMS->CPM X-Mms-Ack-Request: No -> MESSAGE, no RES" \
		--ruri-re '^tel:\+4730000016$' --res none --settle 1.0 \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000016)" --ack No
	# TS 23.140: the header is optional, absent = no RES (mm4_ack_default 0)
	mm4_case "MMS->CPM no X-Mms-Ack-Request -> MESSAGE, no RES" \
		--ruri-re '^tel:\+4730000061$' --res none --settle 1.0 \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000061)" --ack none
	mm4_case "MMS->CPM forward counter above the limit (loop) -> Error-service-denied" \
		--ruri-re '^tel:\+4730000017$' --messages 0 --res Error-service-denied \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000017)" --forward-counter 25
	mm4_case "MMS->CPM already expired (X-Mms-Expiry in the past) -> no MESSAGE, Error-unspecified" \
		--ruri-re '^tel:\+4730000018$' --messages 0 --res Error-unspecified \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000018)" --expiry "$REQ_DATE"
	mm4_case "MMS->CPM missing From -> Error-message-format-corrupt" \
		--ruri-re '^tel:\+4730000019$' --messages 0 --res Error-message-format-corrupt \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000019)" --no-from
	mm4_case "MMS->CPM missing X-Mms-Transaction-ID -> Error-message-format-corrupt" \
		--ruri-re '^tel:\+4730000020$' --messages 0 --res Error-message-format-corrupt --res-by-mid --res-dirty \
		--expr 'e["tid_raw"] in (None, "", "\"\"")' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000020)" --no-tid
	mm4_case "MMS->CPM missing X-Mms-Message-ID -> Error-message-format-corrupt" \
		--ruri-re '^tel:\+4730000021$' --messages 0 --res Error-message-format-corrupt --res-dirty \
		--expr 'all("x-mms-message-id" in f for f in e["failures"])' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000021)" --no-message-id
	local bad
	for bad in bad-noclose bad-noboundary bad-base64; do
		mm4_case "MMS->CPM bad MIME ($bad) -> Error-message-format-corrupt" \
			--ruri-re '^tel:\+4730000022$' --messages 0 --res Error-message-format-corrupt \
			-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000022)" --body $bad
	done
}

# -- quirk vectors: raw .eml files sent byte for byte ------------------------
vector_cases() {
	local v=$VECTORS
	mm4_case "vector mms55_quoted_ids.eml: 5.5.0 peer, quoted ids echoed byte for byte" \
		--ruri-re '^tel:\+4730000041$' \
		--expr 'e["tid_raw"] == "\"vec-5.5.0-0001\""' \
		--expr 'RH["x-mms-message-id"] == "\"vec0001.20240501@mms.peer.test\""' \
		--expr 'P["text"] == "Hello from an MMS 5.5.0 relay" and C["subject"] == "MMS 5.5.0 vector"' \
		-- send-req --to $MM4 --raw "$v/mms55_quoted_ids.eml"
	mm4_case "vector from_without_domain.eml: From +15550001/TYPE=PLMN -> tel:+15550001" \
		--ruri-re '^tel:\+4730000042$' \
		--expr 'H["p-asserted-identity"].strip("<>") == "tel:+15550001"' \
		--expr 'H["from"].startswith("<tel:+15550001>")' \
		--expr 'C["from"] == "<tel:+15550001>"' \
		-- send-req --to $MM4 --raw "$v/from_without_domain.eml" --mail-from "$ORIG_SYS"
	mm4_case "vector read_report_spelling.eml: X-Mms-Read-Report -> display requested" \
		--ruri-re '^tel:\+4730000043$' \
		--expr 'C["imdn.disposition-notification"] == "display"' \
		-- send-req --to $MM4 --raw "$v/read_report_spelling.eml"
	mm4_case "vector tid_recipient_prefix.eml: tid +4711111111-tx42 echoed byte for byte" \
		--ruri-re '^tel:\+4730000044$' \
		--expr 'e["tid_raw"] == "+4711111111-tx42"' \
		--expr 'RH["x-mms-message-id"] == "vec0004.20240501@mms.peer.test"' \
		-- send-req --to $MM4 --raw "$v/tid_recipient_prefix.eml"
	mm4_case "vector wsp_related_lowercase.eml: WSP multipart, lower-case names, relative expiry" \
		--ruri-re '^tel:\+4730000045$' \
		--expr 'P["mime_type"] == "text/plain"' \
		--expr 'P["text"] == "WSP multipart type, lower-case header names, relative expiry ✓"' \
		--expr 'H["expires"] == "604800"' \
		--expr 'C["imdn.disposition-notification"] == "positive-delivery, negative-delivery"' \
		-- send-req --to $MM4 --raw "$v/wsp_related_lowercase.eml"
	mm4_case "vector folded_2047_subject.eml: folded ISO-8859-1 + UTF-8 encoded words" \
		--ruri-re '^tel:\+4730000046$' \
		--expr 'H["subject"] == "Grüße aus Tromsø und mehr" and C["subject"] == H["subject"]' \
		-- send-req --to $MM4 --raw "$v/folded_2047_subject.eml"
	# charsets (charset.c): the CPM side gets UTF-8 text labelled utf-8
	mm4_case "vector charset_utf16_koi8.eml: UTF-16 (BOM) base64 text, KOI8-R + Shift_JIS subject -> UTF-8" \
		--ruri-re '^tel:\+4730000047$' \
		--expr 'P["mime_type"] == "text/plain" and P["charset"] == "utf-8"' \
		--expr 'P["text"] == "Привет из MMS ✓" and chr(0) not in r["body_raw"]' \
		--expr 'H["subject"] == "Привет日本語" and C["subject"] == H["subject"]' \
		-- send-req --to $MM4 --raw "$v/charset_utf16_koi8.eml"
	mm4_case "vector charset_gb2312_wsp.eml: SMIL + GB2312 text, raw 8-bit windows-1252 subject -> UTF-8" \
		--ruri-re '^tel:\+4730000048$' \
		--expr 'P["mime_type"] == "text/plain" and P["charset"] == "utf-8"' \
		--expr 'P["text"] == "中文短信：你好"' \
		--expr 'H["subject"] == "Grüße aus Köln €" and C["subject"] == H["subject"]' \
		-- send-req --to $MM4 --raw "$v/charset_gb2312_wsp.eml"
	mm4_case "vector charset_latin1_mixed.eml: multipart passed on, its ISO-8859-1 text part in UTF-8" \
		--ruri-re '^tel:\+4730000049$' \
		--expr 'P["mime_type"] == "multipart/mixed" and not P["defects"]' \
		--expr 'P["parts"][0]["mime_type"] == "text/plain" and P["parts"][0]["text"] == "Hei på deg, € 5"' \
		--expr 'P["parts"][1]["mime_type"] == "image/gif" and P["parts"][1]["len"] == 42' \
		--expr '"charset=utf-8" in r["body_raw"] and "ISO-8859-1" not in r["body_raw"]' \
		--expr 'H["subject"] == "Grüße"' \
		-- send-req --to $MM4 --raw "$v/charset_latin1_mixed.eml"
}

# -- CPM -> MMS reports: MM4 report REQ from the peer -> IMDN to CPM ----------
report_in_cases() {
	local iid mid now_rnd=$RANDOM
	local rr='^sip:\+4798765432@ims\.test$'
	local dr_date="Wed, 01 May 2024 10:16:40 +0000" rr_date="Wed, 01 May 2024 10:20:05 +0000"
	iid=rep1-$MODE-$now_rnd
	if ! cpm_msg +4712345678 "$iid" "positive-delivery, display"; then
		dep_fail "report MM4_delivery_report.REQ Retrieved -> IMDN delivered to the CPM sender, RES Ok" "$WHY"
		dep_fail "report MM4_read_reply_report.REQ Read -> IMDN displayed, RES Ok" "$WHY"
		dep_fail "report second Retrieved for the same message -> no second IMDN, RES Ok" "$WHY"
	else
		mid=$MMS_MID
		mm4_case "report MM4_delivery_report.REQ Retrieved -> IMDN delivered to the CPM sender, RES Ok" \
			--imdn --ruri-re "$rr" --var "IID=$iid" \
			--expr 'r["ruri"] == "sip:+4798765432@ims.test"' \
			--expr 'H["content-type"] == "message/cpim" and re.match(r"<sip:\+4712345678@iwf\.test;user=phone>", H["from"])' \
			--expr 'H["to"].startswith("<sip:+4798765432@ims.test>")' \
			--expr 'H["p-asserted-identity"] == "<sip:+4712345678@iwf.test;user=phone>"' \
			--expr 'C["from"] == "<sip:+4712345678@iwf.test;user=phone>" and C["to"] == "<sip:+4798765432@ims.test>"' \
			--expr 'C["ns"] == "imdn <urn:ietf:params:imdn>" and C["imdn.message-id"] != IID' \
			--expr 'iso(C["datetime"]) == 1714558600 and "imdn.disposition-notification" not in C' \
			--expr 'r["cpim_content"].get("content-disposition") == "notification"' \
			--expr 'X["message-id"] == IID and iso(X["datetime"]) == 1714558500' \
			--expr 'X["recipient-uri"] == "sip:+4712345678@iwf.test;user=phone"' \
			--expr 'X["kind"] == "delivery-notification" and X["status"] == "delivered"' \
			--expr 'RH["x-mms-message-id"] == S["message_id"]' \
			-- send-report --type dr --to $MM4 --message-id "$mid" \
			--from "+4712345678/TYPE=PLMN@$PEER_DOMAIN" --to-hdr "+4798765432/TYPE=PLMN@$IWF_DOMAIN" \
			--status Retrieved --date "$dr_date"
		mm4_case "report MM4_read_reply_report.REQ Read -> IMDN displayed, RES Ok" \
			--imdn --ruri-re "$rr" --var "IID=$iid" \
			--expr 'X["message-id"] == IID and iso(X["datetime"]) == 1714558500' \
			--expr 'X["recipient-uri"] == "sip:+4712345678@iwf.test;user=phone" and iso(C["datetime"]) == 1714558805' \
			--expr 'X["kind"] == "display-notification" and X["status"] == "displayed"' \
			-- send-report --type rr --to $MM4 --message-id "$mid" \
			--from "+4712345678/TYPE=PLMN@$PEER_DOMAIN" --to-hdr "+4798765432/TYPE=PLMN@$IWF_DOMAIN" \
			--status Read --date "$rr_date"
		mm4_case "report second Retrieved for the same message -> no second IMDN, RES Ok" \
			--imdn --ruri-re "$rr" --messages 0 \
			-- send-report --type dr --to $MM4 --message-id "$mid" \
			--from "+4712345678/TYPE=PLMN@$PEER_DOMAIN" --to-hdr "+4798765432/TYPE=PLMN@$IWF_DOMAIN"
	fi

	iid=rep2-$MODE-$now_rnd
	if cpm_msg +4712345678 "$iid" "display"; then
		mm4_case "report Retrieved when only display was asked -> no IMDN, RES Ok" \
			--imdn --ruri-re "$rr" --messages 0 \
			-- send-report --type dr --to $MM4 --message-id "$MMS_MID" \
			--from "+4712345678/TYPE=PLMN@$PEER_DOMAIN" --to-hdr "+4798765432/TYPE=PLMN@$IWF_DOMAIN"
	else
		dep_fail "report Retrieved when only display was asked -> no IMDN, RES Ok" "$WHY"
	fi
	iid=rep3-$MODE-$now_rnd
	if cpm_msg +4712345678 "$iid" ""; then
		mm4_case "report Retrieved when nobody asked for reports -> no IMDN, RES Ok" \
			--imdn --ruri-re "$rr" --messages 0 \
			-- send-report --type dr --to $MM4 --message-id "$MMS_MID" \
			--from "+4712345678/TYPE=PLMN@$PEER_DOMAIN" --to-hdr "+4798765432/TYPE=PLMN@$IWF_DOMAIN"
	else
		dep_fail "report Retrieved when nobody asked for reports -> no IMDN, RES Ok" "$WHY"
	fi
	iid=rep4-$MODE-$now_rnd
	if cpm_msg +4712345678 "$iid" "positive-delivery, negative-delivery" \
		'imdn.IMDN-Record-Route: <sip:as1@cpm.test>'; then
		mm4_case "report Rejected, IMDN-Record-Route -> IMDN failed via IMDN-Route" \
			--imdn --ruri-re '^sip:as1@cpm\.test$' --var "IID=$iid" \
			--expr 'C["imdn.imdn-route"] == "<sip:as1@cpm.test>" and C["to"] == "<sip:+4798765432@ims.test>"' \
			--expr 'X["message-id"] == IID and X["status"] == "failed"' \
			--expr 'X["kind"] == "delivery-notification"' \
			-- send-report --type dr --to $MM4 --message-id "$MMS_MID" \
			--from "+4712345678/TYPE=PLMN@$PEER_DOMAIN" --to-hdr "+4798765432/TYPE=PLMN@$IWF_DOMAIN" \
			--status Rejected
	else
		dep_fail "report Rejected, IMDN-Record-Route -> IMDN failed via IMDN-Route" "$WHY"
	fi
	# the peer's RES named the MM by its own id; its report uses that id
	iid=rep5-$MODE-$now_rnd
	local alias_name="report with the peer's own X-Mms-Message-ID (from its MM4_forward.RES) -> IMDN delivered"
	if cpm_msg +47883000201 "$iid" "positive-delivery"; then
		if [ "$(unq_sh "$MMS_MID")" = "$(unq_sh "$PEER_OWN_MID")" ]; then
			dep_fail "$alias_name" "the REQ already had the peer's id"
		else
			# the row is written once the worker's SMTP session ends;
			# a peer reports much later than this
			sleep 1.5
			mm4_case "$alias_name" \
				--imdn --ruri-re "$rr" --var "IID=$iid" \
				--expr 'X["message-id"] == IID and X["status"] == "delivered"' \
				--expr 'X["kind"] == "delivery-notification"' \
				--expr 'X["recipient-uri"] == "sip:+47883000201@iwf.test;user=phone"' \
				-- send-report --type dr --to $MM4 --message-id "$PEER_OWN_MID" \
				--from "+47883000201/TYPE=PLMN@$PEER_DOMAIN" \
				--to-hdr "+4798765432/TYPE=PLMN@$IWF_DOMAIN" --status Retrieved
		fi
	else
		dep_fail "$alias_name" "$WHY"
	fi
	# two CPM senders use one imdn.Message-ID toward one MMS user: two MMs
	# with ids of their own, and the report on the second reaches only the
	# second sender (the first one's report would not become its IMDN)
	local col_name="report: two senders, one imdn.Message-ID -> two MM ids, the report goes to its own sender only"
	local mid_a="" mid_b=""
	iid=same-$MODE-$now_rnd
	if ! cpm_msg +4712345678 "$iid" "positive-delivery" "" +4798765401; then
		dep_fail "$col_name" "$WHY"
	elif mid_a=$MMS_MID && ! cpm_msg +4712345678 "$iid" "positive-delivery" "" +4798765402; then
		dep_fail "$col_name" "$WHY"
	elif mid_b=$MMS_MID && [ "$mid_a" = "$mid_b" ]; then
		want_case "[$MODE] $col_name" && notok "[$MODE] $col_name" "both MMs got X-Mms-Message-ID $mid_a"
	else
		mm4_case "$col_name" \
			--imdn --ruri-re '^sip:\+479876540[12]@ims\.test$' --var "IID=$iid" \
			--expr 'r["ruri"] == "sip:+4798765402@ims.test"' \
			--expr 'X["message-id"] == IID and X["status"] == "delivered"' \
			-- send-report --type dr --to $MM4 --message-id "$mid_b" \
			--from "+4712345678/TYPE=PLMN@$PEER_DOMAIN" --to-hdr "+4798765402/TYPE=PLMN@$IWF_DOMAIN" \
			--status Retrieved --date "$dr_date"
	fi
	mm4_case "report for an unknown X-Mms-Message-ID -> Error-message-not-found, no IMDN" \
		--imdn --ruri-re "$rr" --messages 0 --res Error-message-not-found \
		-- send-report --type dr --to $MM4 --message-id "\"no-such-message-$now_rnd@$IWF_DOMAIN\"" \
		--from "+4712345678/TYPE=PLMN@$PEER_DOMAIN" --to-hdr "+4798765432/TYPE=PLMN@$IWF_DOMAIN"
	mm4_case "report read reply for an unknown X-Mms-Message-ID -> Error-message-not-found" \
		--imdn --ruri-re "$rr" --messages 0 --res Error-message-not-found \
		-- send-report --type rr --to $MM4 --message-id "\"no-such-message-rr-$now_rnd@$IWF_DOMAIN\"" \
		--from "+4712345678/TYPE=PLMN@$PEER_DOMAIN" --to-hdr "+4798765432/TYPE=PLMN@$IWF_DOMAIN"
}

# -- MMS -> CPM reports: IMDN from CPM -> MM4 report REQ to the MMS originator -
report_out_cases() {
	local iid mid="\"mr1-$MODE-$RANDOM@$PEER_DOMAIN\"" num=+4730000071
	local base=("FROM_URI=tel:$num" "TO_URI=tel:+4730000100")
	local rep=('addrs(H["to"]) == ["+4730000100/TYPE=PLMN@mms.peer.test"]'
		'[x.strip("<>") for x in e["rcpt_tos"]] == ["+4730000100/TYPE=PLMN@mms.peer.test"]'
		'addrs(H["from"]) == ["+4730000071/TYPE=PLMN@mms.iwf.test"]'
		'H["x-mms-ack-request"] == "Yes" and H["x-mms-originator-system"] == "system-user@mms.iwf.test"')
	if mm4_case "MMS->CPM DR+RR requested -> MESSAGE asks positive-delivery, negative-delivery, display" \
		--ruri-re "^tel:\\$num\$" --print 'C["imdn.message-id"]' \
		--expr 'C["imdn.disposition-notification"] == "positive-delivery, negative-delivery, display"' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of $num)" --message-id "$mid" --dr Yes --rr Yes; then
		iid=$CASE_OUT
		imdn_case "IMDN delivered -> MM4_delivery_report.REQ Retrieved to the MMS originator" 200 \
			MM4_delivery_report.REQ "$mid" "${base[@]}" "ORIG_ID=$iid" STATUS=delivered \
			DATETIME=2024-05-01T10:20:00.000Z -- "${rep[@]}" \
			'H["x-mms-mm-status-code"] == "Retrieved" and date(H["date"]) == 1714558800' \
			'H.get("x-mms-forward-to-originator-ua") == "Yes"'
		imdn_case "IMDN displayed -> MM4_read_reply_report.REQ Read to the MMS originator" 200 \
			MM4_read_reply_report.REQ "$mid" "${base[@]}" "ORIG_ID=$iid" \
			KIND=display-notification STATUS=displayed DATETIME=2024-05-01T10:25:00.000Z -- \
			"${rep[@]}" 'H["x-mms-read-status"] == "Read" and date(H["date"]) == 1714559100'
		imdn_case "IMDN delivered again -> 200, no second MM4_delivery_report.REQ" 200 \
			none "$mid" "${base[@]}" "ORIG_ID=$iid" STATUS=delivered
	elif [ $? -eq 1 ]; then
		dep_fail "IMDN delivered -> MM4_delivery_report.REQ Retrieved to the MMS originator" "see the case it depends on"
		dep_fail "IMDN displayed -> MM4_read_reply_report.REQ Read to the MMS originator" "see the case it depends on"
		dep_fail "IMDN delivered again -> 200, no second MM4_delivery_report.REQ" "see the case it depends on"
	fi
	mid="\"mr2-$MODE-$RANDOM@$PEER_DOMAIN\""
	num=+4730000072
	if mm4_case "MMS->CPM DR only -> MESSAGE asks positive-delivery, negative-delivery" \
		--ruri-re "^tel:\\$num\$" --print 'C["imdn.message-id"]' \
		--expr 'C["imdn.disposition-notification"] == "positive-delivery, negative-delivery"' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of $num)" --message-id "$mid" --dr Yes --rr No; then
		imdn_case "IMDN displayed when only DR was asked -> 200, no MM4_read_reply_report.REQ" 200 \
			none "$mid" "FROM_URI=tel:$num" "ORIG_ID=$CASE_OUT" KIND=display-notification \
			STATUS=displayed
	fi
	imdn_case "IMDN for an unknown message -> 404, no MM4 report" 404 none '"none"' \
		"ORIG_ID=unknown-imdn-$RANDOM"
}

mm4_section() {   # mm4_section ENUM_SERVER
	local enum_server=$1
	if ! start_uas; then
		notok "[$MODE] sipp CPM UAS on $CPM_ROUTE" "$(tail -3 "$RUN/uas.stderr" | tr '\n' ' ')"
		return
	fi
	DUPS=0
	IMDN_SENT=0
	: >"$RUN/sends.jsonl"
	runtime_cfg_mm4_cases

	# --- before a restart: one message each way that asks for reports
	local rs_mid="\"rs-$MODE-$RANDOM@$PEER_DOMAIN\"" rs_iid="" rs_cpm_iid=rs-$MODE-$RANDOM rs_mms_mid=""
	if mm4_case "restart: MMS->CPM with DR before the restart" \
		--ruri-re '^tel:\+4730000081$' --print 'C["imdn.message-id"]' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000081)" --message-id "$rs_mid" --dr Yes; then
		rs_iid=$CASE_OUT
	fi
	local name="[$MODE] restart: CPM->MMS with positive-delivery before the restart"
	if cpm_msg +4712345678 "$rs_cpm_iid" "positive-delivery"; then
		rs_mms_mid=$MMS_MID
		want_case "$name" && ok "$name"
	else
		want_case "$name" && notok "$name" "$WHY"
	fi
	local rows
	name="[$MODE] DB: correlation rows for both directions before the restart"
	rows=$(sql "SELECT direction || ':' || count(*) FROM cpm_mms_corr WHERE mms_message_id IN ('${rs_mid//\"/}', '${rs_mms_mid//\"/}') GROUP BY direction ORDER BY direction;" 2>&1 | tr '\n' ' ')
	if ! want_case "$name"; then
		:
	elif [ "$rows" = "1:1 2:1 " ]; then
		ok "$name"
	else
		notok "$name" "direction:count = '$rows', expected '1:1 2:1'"
	fi

	# --- restart, same DB, mm4_peers without 127.0.0.3
	if ! stop_kamailio; then
		notok "[$MODE] restart: kamailio stops on SIGTERM" "needed SIGKILL"
	fi
	KAM_PEERS="127.0.0.1/32 127.0.0.2/32"
	if ! start_kamailio "$enum_server" kamailio-restart; then
		notok "[$MODE] restart: kamailio starts again with the same DB" \
			"$(grep -iE 'error|crit' "$KAM_LOG" | head -2 | tr '\n' ' ' | cut -c1-400)"
		KAM_PEERS=127.0.0.0/8
		stop_pid "$UAS_PID"
		return
	fi
	KAM_PEERS=127.0.0.0/8
	ok "[$MODE] restart: kamailio starts again with the same DB (mm4_peers 127.0.0.1, 127.0.0.2)"
	local s0_mark s0_offset s0_sends
	stats_snapshot before || note "kamcmd cpm_mms.stats failed: $(head -2 "$RUN/before.stats")"
	s0_mark=$(peer_mark)
	s0_offset=$("$PY" -c 'import os,sys; print(os.path.getsize(sys.argv[1]))' "$UAS_TRACE")
	s0_sends=$(wc -l <"$RUN/sends.jsonl" | tr -d ' ')

	# --- the no-answer case runs in the background (tm's fr_timer: 30 s)
	local noans_name="[$MODE] MMS->CPM no answer from CPM (tm fr_timer 30 s) -> RES Error-network-problem"
	local noans_pid=""
	if want_case "$noans_name"; then
		new_case_id "$noans_name"
		"$PY" "$HELPER" mm4-case --peer-log "$PEER_LOG" --uas-trace "$UAS_TRACE" \
			--sends-log "$RUN/sends.jsonl" --out "$RUN/noanswer.result" \
			--ruri-re '^tel:\+4720000000$' --res Error-network-problem --timeout 45 \
			--expr 'time.time() - started >= 28' --expr 'r["copies"] > 1' \
			-- send-req --to $MM4 --rcpt "$(rcpt_of +4720000000)" --text "nobody answers" \
			>"$RUN/noanswer.out" 2>&1 &
		noans_pid=$!
		PIDS+=("$noans_pid")
	fi

	# --- after the restart: the reports are still mapped (DB)
	if [ -n "$rs_iid" ]; then
		imdn_case "restart: IMDN after the restart -> MM4_delivery_report.REQ (DB correlation)" 200 \
			MM4_delivery_report.REQ "$rs_mid" "FROM_URI=tel:+4730000081" "ORIG_ID=$rs_iid" \
			STATUS=delivered -- 'H["x-mms-mm-status-code"] == "Retrieved"'
	else
		dep_fail "restart: IMDN after the restart -> MM4_delivery_report.REQ (DB correlation)" "see the case it depends on"
	fi
	if [ -n "$rs_mms_mid" ]; then
		mm4_case "restart: MM4_delivery_report.REQ after the restart -> IMDN delivered (DB correlation)" \
			--imdn --ruri-re '^sip:\+4798765432@ims\.test$' --var "IID=$rs_cpm_iid" \
			--expr 'X["message-id"] == IID and X["status"] == "delivered"' \
			-- send-report --type dr --to $MM4 --message-id "$rs_mms_mid" \
			--from "+4712345678/TYPE=PLMN@$PEER_DOMAIN" --to-hdr "+4798765432/TYPE=PLMN@$IWF_DOMAIN"
	else
		dep_fail "restart: MM4_delivery_report.REQ after the restart -> IMDN delivered (DB correlation)" "see the case it depends on"
	fi
	mm4_case "MMS->CPM from an address outside mm4_peers (127.0.0.3) -> 554 at connect" \
		--smtp 554 --stage connect --ruri-re '^tel:\+4730000030$' --messages 0 --res none \
		-- send-req --to $MM4 --bind 127.0.0.3 --rcpt "$(rcpt_of +4730000030)"

	# --- an already expired correlation row: the periodic purge (every 60 s)
	local t_ins
	t_ins=$(date +%s)
	sql "INSERT INTO cpm_mms_corr (direction, mms_message_id, imdn_message_id, expires) VALUES
		(1, 'e2e-expired-$MODE@x', 'e2e-expired-$MODE', $((t_ins - 100))),
		(2, 'e2e-expired2-$MODE@x', 'e2e-expired2-$MODE', $((t_ins - 1))),
		(1, 'e2e-fresh-$MODE@x', 'e2e-fresh-$MODE', $((t_ins + 3600)));" ||
		note "sqlite3 INSERT failed"

	# --- Expired reports (issue 14), checked with the purge below: c gets
	# its IMDN in time, b none; b expires after c, so the round that sends
	# b's Expired has seen c's expiry too
	local exp_c_mid="\"exp-c-$MODE-$RANDOM@$PEER_DOMAIN\"" exp_b_mid="\"exp-b-$MODE-$RANDOM@$PEER_DOMAIN\""
	local exp_mark exp_b_sent=0 exp_c_sent=0
	exp_mark=$(peer_mark)
	if mm4_case "expiry: MMS->CPM DR requested, X-Mms-Expiry in 10 s, IMDN in time" \
		--ruri-re '^tel:\+4730000073$' --print 'C["imdn.message-id"]' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000073)" --message-id "$exp_c_mid" \
		--dr Yes --expiry-in 10; then
		exp_c_sent=1
		imdn_case "expiry: IMDN delivered before X-Mms-Expiry -> MM4_delivery_report.REQ Retrieved" 200 \
			MM4_delivery_report.REQ "$exp_c_mid" "FROM_URI=tel:+4730000073" "TO_URI=tel:+4730000100" \
			"ORIG_ID=$CASE_OUT" STATUS=delivered -- 'H["x-mms-mm-status-code"] == "Retrieved"'
	fi
	mm4_case "expiry: MMS->CPM DR requested, X-Mms-Expiry in 15 s, no IMDN" \
		--ruri-re '^tel:\+4730000074$' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000074)" --message-id "$exp_b_mid" \
		--dr Yes --expiry-in 15 && exp_b_sent=1

	t4_cases
	plan_mm4_cases
	recipients_mm4_cases
	vector_cases
	report_in_cases
	report_out_cases

	# --- the background no-answer case
	if [ -n "$noans_pid" ]; then
		local i
		for ((i = 0; i < 500; i++)); do
			kill -0 "$noans_pid" 2>/dev/null || break
			sleep 0.1
		done
		stop_pid "$noans_pid" 10
		if [ "$(head -1 "$RUN/noanswer.result" 2>/dev/null)" = ok ]; then
			ok "$noans_name"
		else
			notok "$noans_name" "$(tail -c 1200 "$RUN/noanswer.out" 2>/dev/null | tr '\n' ' ')"
		fi
	fi

	# --- purge of the expired rows (at most 60 s after the insert, + margin)
	local left fresh
	name="[$MODE] DB: expired correlation rows purged within 70 s, live rows kept"
	if want_case "$name"; then
		while :; do
			left=$(sql "SELECT count(*) FROM cpm_mms_corr WHERE imdn_message_id IN ('e2e-expired-$MODE', 'e2e-expired2-$MODE');" 2>&1)
			[ "$left" = 0 ] && break
			[ $(($(date +%s) - t_ins)) -gt 70 ] && break
			sleep 1
		done
		fresh=$(sql "SELECT count(*) FROM cpm_mms_corr WHERE imdn_message_id = 'e2e-fresh-$MODE';" 2>&1)
		if [ "$left" = 0 ] && [ "$fresh" = 1 ]; then
			ok "$name (gone after $(($(date +%s) - t_ins)) s)"
		else
			notok "$name" "after $(($(date +%s) - t_ins)) s: expired rows left '$left', fresh rows '$fresh' (want 0 and 1)"
		fi
	fi

	# --- Expired reports: within 10 s of the expiry (+ margin)
	name="[$MODE] expiry: no IMDN by X-Mms-Expiry -> one MM4_delivery_report.REQ Expired to the originator"
	if ! want_case "$name"; then
		:
	elif [ "$exp_b_sent" != 1 ]; then
		dep_fail "${name#\[$MODE\] }" "see the case it depends on"
	elif why=$("$PY" "$HELPER" peer-wait --log "$PEER_LOG" --mark "$exp_mark" --event rx_report \
		--var "MID=$exp_b_mid" --where 'unq(H.get("x-mms-message-id")) == unq(MID)' \
		--count 1 --exact --timeout 60 --settle 2 -- 'not e["failures"]' \
		'e["message_type"] == "MM4_delivery_report.REQ"' \
		'H["x-mms-mm-status-code"] == "Expired"' \
		'addrs(H["to"]) == ["+4730000100/TYPE=PLMN@mms.peer.test"]' \
		'[x.strip("<>") for x in e["rcpt_tos"]] == ["+4730000100/TYPE=PLMN@mms.peer.test"]' \
		'addrs(H["from"]) == ["+4730000074/TYPE=PLMN@mms.iwf.test"]' \
		'H.get("x-mms-forward-to-originator-ua") == "Yes"' \
		'any(x.get("event") == "res" and x.get("seq") == e["seq"] and x.get("sent") for x in ALL)' \
		2>&1); then
		# and marked in its row: no second one in a later round
		rows=$(sql "SELECT reports_done || ':' || mm_expiry FROM cpm_mms_corr WHERE mms_message_id = '$(unq_sh "$exp_b_mid")';" 2>&1)
		if [ "$rows" = "1:0" ]; then
			ok "$name"
		else
			notok "$name" "row reports_done:mm_expiry '$rows', expected '1:0'"
		fi
	else
		notok "$name" "$(tail -c 1500 <<<"$why" | tr '\n' ' ')"
	fi
	name="[$MODE] expiry: IMDN came first -> no Expired report"
	if ! want_case "$name"; then
		:
	elif [ "$exp_c_sent" != 1 ] || [ "$exp_b_sent" != 1 ]; then
		dep_fail "${name#\[$MODE\] }" "see the cases it depends on"
	elif why=$("$PY" "$HELPER" peer-wait --log "$PEER_LOG" --mark "$exp_mark" --event rx_report \
		--var "MID=$exp_c_mid" --where 'unq(H.get("x-mms-message-id")) == unq(MID)' \
		--count 1 --exact --timeout 1 --settle 0.5 -- \
		'H["x-mms-mm-status-code"] == "Retrieved"' 2>&1); then
		ok "$name"
	else
		notok "$name" "$(tail -c 1500 <<<"$why" | tr '\n' ' ')"
	fi

	# --- counters: what the harness did since the restart
	name="[$MODE] kamcmd cpm_mms.stats counters match the mix (since the restart)"
	if [ -z "${E2E_FILTER:-}" ]; then
		sleep 1
		local why
		if ! stats_snapshot after; then
			notok "$name" "kamcmd cpm_mms.stats failed: $(head -2 "$RUN/after.stats")"
		elif why=$("$PY" "$HELPER" stats-check --before "$RUN/before.json" --after "$RUN/after.json" \
			--peer-log "$PEER_LOG" --mark "$s0_mark" --uas-trace "$UAS_TRACE" --offset "$s0_offset" \
			--sends "$RUN/sends.jsonl" --sends-mark "$s0_sends" --dups "$DUPS" \
			--imdn-in "$IMDN_SENT" 2>&1); then
			ok "$name"
			note "$why"
		else
			notok "$name" "$why"
		fi
	fi
	# restarts and another cpm_route: after the counters' check
	if [ "$MODE" = ldns ]; then
		restart_mm4_case
		cpm_unreachable_case
	fi
	stop_pid "$UAS_PID"
}

# ---------------------------------------------------------------------------
# 8. one run per DNS mode
# ---------------------------------------------------------------------------
# RPC commands against the running instance (kamcmd)
rpc_cases() {
	local name out tid id pid code
	name="[$MODE] RPC cpm_mms.enum shows the resolution of a test number"
	if want_case "$name"; then
		out=$(kamcmd -s "$CTL" cpm_mms.enum s:+4712345678 2>&1)
		if grep -q "mailbox: +4712345678/TYPE=PLMN@mms.peer.test" <<<"$out" &&
			grep -q "127.0.0.2" <<<"$out" && grep -q "chosen NAPTR" <<<"$out"; then
			ok "$name"
		else
			notok "$name" "$(tr '\n' ' ' <<<"$out" | cut -c1-300)"
		fi
		out=$(kamcmd -s "$CTL" cpm_mms.enum s:+4799999999 2>&1)
		name="[$MODE] RPC cpm_mms.enum on an unknown number -> 404"
		grep -q "sip_code: 404" <<<"$out" && ok "$name" ||
			notok "$name" "$(tr '\n' ' ' <<<"$out" | cut -c1-300)"
	fi
	name="[$MODE] RPC cpm_mms.config, cfg.get cpm_mms and cpm_mms.peers"
	if want_case "$name"; then
		out=$(kamcmd -s "$CTL" cpm_mms.config 2>&1; kamcmd -s "$CTL" cpm_mms.peers 2>&1)
		if grep -q "domain: $IWF_DOMAIN" <<<"$out" &&
			[ "$(kamcmd -s "$CTL" cfg.get cpm_mms res_timeout 2>&1)" = "$RES_TIMEOUT" ] &&
			grep -q "address: $PEER_IP:$PEER_PORT" <<<"$out"; then
			ok "$name"
		else
			notok "$name" "$(tr '\n' ' ' <<<"$out" | cut -c1-300)"
		fi
	fi
	name="[$MODE] RPC cpm_mms.pending lists a suspended MESSAGE, pending_drop answers it 503"
	if want_case "$name"; then
		CASE_N=$((CASE_N + 1))
		id=$(printf 'c%03d' $CASE_N)
		echo "$id $name" >>"$RUN/cases.txt"
		if ! "$PY" "$HELPER" fill "$TEMPLATE" "$RUN/scen/$id.xml" EXPECT=503 \
			RURI_USER=+4710000030 >"$RUN/scen/$id.fill" 2>&1; then
			notok "$name" "cannot fill scenario"
			return
		fi
		timeout 60 sipp -sf "$RUN/scen/$id.xml" -i $SIP_IP -p 5071 -m 1 \
			-recv_timeout 15000 -timeout 30s -timeout_error -nostdin \
			-trace_msg -message_file "$RUN/sipp/$id.msg" \
			$SIP_IP:$SIP_PORT >"$RUN/sipp/$id.out" 2>&1 &
		pid=$!
		tid=""
		for _ in $(seq 1 20); do
			out=$(kamcmd -s "$CTL" cpm_mms.pending 2>&1)
			tid=$(sed -n 's/^[[:space:]]*transaction_id: //p' <<<"$out" | head -1)
			[ -n "$tid" ] && break
			sleep 0.1
		done
		if [ -z "$tid" ] || ! grep -q "recipient: +4710000030" <<<"$out"; then
			wait $pid
			notok "$name" "not listed: $(tr '\n' ' ' <<<"$out" | cut -c1-300)"
			return
		fi
		out=$(kamcmd -s "$CTL" cpm_mms.pending_drop "s:$tid" 2>&1)
		wait $pid
		code=$?
		if [ "$code" -eq 0 ] && grep -q "dropped" <<<"$out"; then
			ok "$name"
		else
			notok "$name" "drop: $out; sipp rc=$code ($("$PY" "$HELPER" sipp-codes "$RUN/sipp/$id.msg"))"
		fi
		out=$(kamcmd -s "$CTL" cpm_mms.pending_drop s:no-such-tid 2>&1)
		name="[$MODE] RPC cpm_mms.pending_drop of an unknown id -> 404"
		grep -q "404" <<<"$out" && ok "$name" || notok "$name" "$out"
	fi
}

# the cfg group at runtime: kamcmd cfg.set in the RPC process, used without a
# restart by the SIP worker (res_timeout), the MM4 listener (timeout_reply at
# the res_timeout expiry, max_cpm_size for a REQ); refusals the framework
# makes (range, 202/504, read-only)
cfg_get() { kamcmd -s "$CTL" cfg.get cpm_mms "$1" 2>&1; }
cfg_set() { kamcmd -s "$CTL" cfg.set cpm_mms "$1" "$2" 2>&1; }
# (cfg.get reads no variable with a check function: cpm_mms.config shows it)
cfg_timeout_reply() {
	kamcmd -s "$CTL" cpm_mms.config 2>&1 | sed -n 's/^[[:space:]]*timeout_reply: //p'
}
runtime_cfg_cases() {
	local name out v before
	name="[$MODE] cfg: cfg.set refuses res_timeout 26, timeout_reply 203, mm4_workers (read-only)"
	if want_case "$name"; then
		before="$(cfg_get res_timeout) $(cfg_timeout_reply) $(cfg_get mm4_workers)"
		out=$(cfg_set res_timeout 26; cfg_set timeout_reply 203; cfg_set mm4_workers 2)
		v="$(cfg_get res_timeout) $(cfg_timeout_reply) $(cfg_get mm4_workers)"
		if [ "$(grep -c "^error" <<<"$out")" = 3 ] && [ "$v" = "$before" ] &&
			[ "$v" = "$RES_TIMEOUT 202 ${v##* }" ]; then
			ok "$name"
		else
			notok "$name" "values '$v' after: $(tr '\n' ' ' <<<"$out" | head -c 400)"
		fi
	fi
	name="[$MODE] cfg: cfg.set res_timeout 1, timeout_reply 504 at runtime: no RES -> 504 after 1 s"
	if want_case "$name"; then
		out=$(cfg_set res_timeout 1; cfg_set timeout_reply 504)
		if [ -n "$out" ]; then
			notok "$name" "cfg.set: $out"
		else
			msg_case "cfg: cfg.set res_timeout 1, timeout_reply 504 at runtime: no RES -> 504 after 1 s" \
				504 RURI_USER=+4710000030 -- "elapsed >= 0.5" "elapsed < 3"
		fi
		cfg_set res_timeout "$RES_TIMEOUT" >/dev/null
		cfg_set timeout_reply 202 >/dev/null
		msg_case "cfg: res_timeout and timeout_reply set back: no RES -> 202 at res_timeout" \
			202 RURI_USER=+4710000030 -- "elapsed >= $RES_TIMEOUT - 0.5"
	fi
}
# (in mm4_section: needs the CPM UAS)
runtime_cfg_mm4_cases() {
	local name out cpm_size
	name="[$MODE] cfg: cfg.set max_cpm_size 5 at runtime: MMS->CPM text REQ -> Error-content-not-accepted"
	if want_case "$name"; then
		cpm_size=$(cfg_get max_cpm_size)
		out=$(cfg_set max_cpm_size 5)
		if [ -n "$out" ]; then
			notok "$name" "cfg.set: $out"
		else
			mm4_case "cfg: cfg.set max_cpm_size 5 at runtime: MMS->CPM text REQ -> Error-content-not-accepted" \
				--ruri-re '^tel:\+4730000160$' --messages 0 --res Error-content-not-accepted \
				-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000160)"
		fi
		cfg_set max_cpm_size "$cpm_size" >/dev/null
		mm4_case "cfg: max_cpm_size set back: the same REQ -> MESSAGE, RES Ok" \
			--ruri-re '^tel:\+4730000161$' \
			-- send-req --to $MM4 --rcpt "$(rcpt_of +4730000161)"
	fi
}

# fault matrix: misbehaving MMSCs and DNS, a burst over the limits
FAULT_PIDS=()
fault_server() {   # fault_server MODE IP:PORT
	"$PY" "$HERE/fault_server.py" "$1" "$2" --max-seconds 300 \
		>"$RUN/fault-$1.log" 2>&1 &
	FAULT_PIDS+=($!)
}

fault_cases() {
	local p id name before after
	fault_server blackhole 127.0.0.4:25
	fault_server middata 127.0.0.5:25
	sleep 0.5
	msg_case "fault: NAPTR regexp that does not compile -> 404" 404 \
		RURI_USER=+4790000020 nomail=1
	msg_case "fault: MX pointing at a name without address -> 503" 503 \
		RURI_USER=+4790000021 nomail=1
	msg_case "fault: MMSC closes the connection mid-DATA -> 503" 503 \
		RURI_USER=+4790000023 nomail=1
	msg_case "fault: MMSC accepts and never answers -> 202 at res_timeout" 202 \
		RURI_USER=+4790000022 nomail=1
	for p in "${FAULT_PIDS[@]}"; do stop_pid "$p"; done
	FAULT_PIDS=()

	# a second instance: its ENUM server swallows every question, at most 5
	# MESSAGEs may wait, and res_timeout is long enough for DNS to time out
	want_case "fault:" || return 0
	stop_kamailio
	fault_server dnshole 127.0.0.9:5300
	KAM_RES_TIMEOUT=10 KAM_MAX_PENDING=5 KAM_IDLE=2 KAM_SESSION=5 KAM_PEER_CONNS=2
	if ! start_kamailio 127.0.0.9:5300 kamailio-faults; then
		notok "[$MODE] fault: start kamailio with a dead ENUM server" "see kamailio-faults.log"
	else
		msg_case "fault: ENUM server never answers -> 503" 503 \
			RURI_USER=+4712345678 nomail=1
		before=$(shm_used | cut -d' ' -f1)
		name="[$MODE] fault: burst of 20 over max_pending 5 -> every MESSAGE one answer (503 at once or 503/202 later)"
		new_case_id "$name"
		id=$CASE_ID
		if "$PY" "$HELPER" fill "$TEMPLATE" "$RUN/scen/$id.xml" "EXPECT=503|202" \
			RURI_USER=+4712345678 >"$RUN/scen/$id.fill" 2>&1; then
			sipp_run "$id" "$RUN/scen/$id.xml" 5072 20 -r 200
			if [ "$SIPP_RC" -eq 0 ] &&
				grep -q "Successful call.*| *20 *$" "$RUN/sipp/$id.out"; then
				local rej
				rej=$(kamcmd -s "$CTL" cpm_mms.stats | sed -n 's/^[[:space:]]*local_rejects: //p')
				if [ "${rej:-0}" -ge 10 ]; then
					ok "$name"
				else
					notok "$name" "only ${rej:-0} refused at once (local_rejects)"
				fi
			else
				notok "$name" "sipp rc=$SIPP_RC: $(grep -E 'Successful call|Failed call' "$RUN/sipp/$id.out" | tr -s ' ' | tr '\n' ' ')"
			fi
		else
			notok "$name" "cannot fill scenario"
		fi
		local pr out
		for pr in "idle 5:idle MM4 connection -> 421 and closed (mm4_idle_timeout 2 s)" \
			"trickle 9:slowloris (a byte a second) closed (mm4_session_timeout 5 s)" \
			"perpeer 3:third connection from one peer -> 421 (mm4_peer_connections 2)"; do
			local how=${pr%%:*}
			name="[$MODE] fault: ${pr#*:}"
			if out=$("$PY" "$HERE/listener_probe.py" "${how%% *}" \
				$MM4_LISTEN_IP:$MM4_LISTEN_PORT "${how#* }" 2>&1); then
				ok "$name"
			else
				notok "$name" "$out"
			fi
		done
		# the workers are still waiting on DNS for the admitted ones
		for _ in $(seq 1 40); do
			[ "$(kamcmd -s "$CTL" cpm_mms.stats | sed -n 's/^[[:space:]]*pending: //p')" = 0 ] && break
			sleep 0.5
		done
		sleep 6   # tm's wait timer frees the answered transactions
		after=$(shm_used | cut -d' ' -f1)
		name="[$MODE] fault: nothing left pending and shm back to its level after the faults"
		if [ "$(kamcmd -s "$CTL" cpm_mms.stats | sed -n 's/^[[:space:]]*pending: //p')" = 0 ] &&
			[ $((after - before)) -le "${E2E_SHM_MARGIN:-65536}" ]; then
			ok "$name ($before -> $after bytes)"
		else
			notok "$name" "pending not 0 or shm $before -> $after"
		fi
	fi
	stop_kamailio
	for p in "${FAULT_PIDS[@]}"; do stop_pid "$p"; done
	FAULT_PIDS=()
	unset KAM_RES_TIMEOUT KAM_MAX_PENDING KAM_IDLE KAM_SESSION KAM_PEER_CONNS

	# a third: the correlation DB cannot be opened; MESSAGEs are still
	# forwarded and answered, and each process logs the failure once, not
	# once per message (it retries once a second)
	KAM_DB_URL="sqlite:///$RUN/no-such-dir/corr.sqlite"
	name="[$MODE] fault: correlation DB cannot be opened -> 30 MESSAGEs answered 200, one error line per process"
	if ! start_kamailio "$ENUM_SERVER_OF_MODE" kamailio-nodb; then
		notok "$name" "kamailio did not start, see kamailio-nodb.log"
	else
		new_case_id "$name"
		id=$CASE_ID
		local errs procs
		if "$PY" "$HELPER" fill "$TEMPLATE" "$RUN/scen/$id.xml" EXPECT=200 \
			RURI_USER=+4712345678 >"$RUN/scen/$id.fill" 2>&1; then
			sipp_run "$id" "$RUN/scen/$id.xml" 5072 30 -r 100
			errs=$(grep -c "cannot connect to sqlite" "$KAM_LOG")
			procs=$(($(kam_children | wc -l) + 1))
			if [ "$SIPP_RC" -ne 0 ]; then
				notok "$name" "sipp rc=$SIPP_RC: $(grep -E 'Successful call|Failed call' "$RUN/sipp/$id.out" | tr -s ' ' | tr '\n' ' ')"
			elif [ "$errs" -lt 1 ] || [ "$errs" -gt "$procs" ]; then
				notok "$name" "$errs 'cannot connect' lines for $procs processes"
			else
				ok "$name ($errs error lines, $procs processes)"
			fi
		else
			notok "$name" "cannot fill scenario"
		fi
	fi
	stop_kamailio
	unset KAM_DB_URL
	# back to the ordinary instance for the end of the mode
	start_kamailio "$ENUM_SERVER_OF_MODE" || notok "[$MODE] restart kamailio after the faults" "see log"
}

# Batching: with every MM4 worker held by a slow MMSC (+4710000048 answers
# the end of DATA after 1.5 s), a burst queues up; the first worker free
# takes it as one batch and sends it in one SMTP session, where each mail
# still gets its own outcome (550 at RCPT, 451 at RCPT, 554 after DATA).
batch_case() {
	local name="[$MODE] batch: a burst queued behind busy workers shares SMTP sessions, each MESSAGE its own answer"
	want_case "$name" || return 0
	kam_alive || { notok "$name" "kamailio is not running"; return; }
	new_case_id "$name"
	local id=$CASE_ID workers mark spec n=0 pids=() rc fails="" bmails bmost
	workers=$(kamcmd -s "$CTL" cfg.get cpm_mms mm4_workers)
	[[ "$workers" =~ ^[0-9]+$ ]] || { notok "$name" "cfg.get cpm_mms mm4_workers: $workers"; return; }
	mark=$(peer_mark)
	# "COUNT:NUMBER:EXPECT": the slow ones first, one per worker, 100 ms apart
	for spec in "$workers:+4710000048:200" "-" "4:+4712345678:200" \
		"1:+4710000031:404" "1:+4710000037:503" "1:+4710000036:403"; do
		if [ "$spec" = - ]; then
			sleep "$(awk -v w="$workers" 'BEGIN { print w * 0.1 + 0.3 }')"
			continue
		fi
		n=$((n + 1))
		local cnt=${spec%%:*} rest=${spec#*:}
		local num=${rest%%:*} expect=${rest#*:}
		if ! "$PY" "$HELPER" fill "$TEMPLATE" "$RUN/scen/$id-$n.xml" "EXPECT=$expect" \
			"RURI_USER=$num" >"$RUN/scen/$id-$n.fill" 2>&1; then
			notok "$name" "cannot fill scenario $n"
			return
		fi
		timeout 60 sipp -sf "$RUN/scen/$id-$n.xml" -i $SIP_IP -p $((5080 + n)) \
			-recv_timeout 15000 -timeout 40s -timeout_error -nostdin \
			-trace_err -error_file "$RUN/sipp/$id-$n.err" -m "$cnt" -l "$cnt" \
			-r 10 $SIP_IP:$SIP_PORT >"$RUN/sipp/$id-$n.out" 2>&1 &
		pids+=("$!:$n:$spec")
	done
	for spec in "${pids[@]}"; do
		wait "${spec%%:*}"
		rc=$?
		[ "$rc" -eq 0 ] || fails+=" ${spec#*:*:} (sipp rc $rc, see out/$MODE/sipp/$id-$(cut -d: -f2 <<<"$spec").*)"
	done
	# SMTP sessions of the burst's mails at the peer: "mails most-in-one"
	read -r bmails _ bmost <<<"$(session_ports "$mark" '!+4710000048')"
	if [ -n "$fails" ]; then
		notok "$name" "wrong answers:$fails"
	elif [ "${bmost:-0}" -lt 2 ]; then
		notok "$name" "no SMTP session carried two mails of the burst (mails, most per session: $bmails $bmost)"
	else
		ok "$name (burst mails at the peer, most in one session: $bmails $bmost)"
	fi
}

# session_ports MARK NUMBER: "mails sessions most" of the peer's mails to
# NUMBER (!NUMBER: to any other) since MARK, a session being one client port
session_ports() {
	"$PY" - "$PEER_LOG" "$1" "$2" <<'EOF'
import json, sys
ports = {}
for i, l in enumerate(open(sys.argv[1], encoding="utf-8")):
    if i < int(sys.argv[2]):
        continue
    r = json.loads(l)
    if r.get("event") != "mail" or not r.get("remote"):
        continue
    want = sys.argv[3]
    hit = any(want.lstrip("!") in t for t in r.get("rcpt_tos", []))
    if hit == want.startswith("!"):
        continue
    p = r["remote"][1]
    ports[p] = ports.get(p, 0) + 1
print("%d %d %d" % (sum(ports.values()), len(ports), max(ports.values()) if ports else 0))
EOF
}

# session_sipp ID NUMBER COUNT RATE EXPECT PORT: COUNT MESSAGEs to NUMBER,
# RATE per second, each answered EXPECT; 0 if sipp saw every answer right
session_sipp() {
	local id=$1 num=$2 cnt=$3 rate=$4 expect=$5 port=$6
	"$PY" "$HELPER" fill "$TEMPLATE" "$RUN/scen/$id.xml" "EXPECT=$expect" \
		"RURI_USER=$num" >"$RUN/scen/$id.fill" 2>&1 || return 1
	timeout 60 sipp -sf "$RUN/scen/$id.xml" -i $SIP_IP -p "$port" \
		-recv_timeout 15000 -timeout 40s -timeout_error -nostdin \
		-trace_err -error_file "$RUN/sipp/$id.err" -m "$cnt" -l "$cnt" \
		-r "$rate" $SIP_IP:$SIP_PORT >"$RUN/sipp/$id.out" 2>&1
}

# Sessions that go on: MESSAGEs 50 ms apart come one at a time (nothing
# queued when a worker takes one), yet an SMTP session that sent its mail
# waits smtp_session_idle (100 ms) for the next and carries it on the same
# connection; and when the MMSC closed that connection meanwhile, the mail
# goes out on a new one instead of failing.
# session_burst NAME NUMBER COUNT PORT: COUNT MESSAGEs to NUMBER, 20 a second,
# each to be answered 200; sets S_ID, S_MAILS, S_SESSIONS, S_MOST (see
# session_ports); 1 if sipp saw a wrong or missing answer
session_burst() {
	local mark
	new_case_id "$1"
	S_ID=$CASE_ID
	mark=$(peer_mark)
	session_sipp "$S_ID" "$2" "$3" 20 200 "$4" || return 1
	read -r S_MAILS S_SESSIONS S_MOST <<<"$(session_ports "$mark" "$2")"
}

session_cases() {
	local name="[$MODE] sessions: MESSAGEs 50 ms apart share SMTP sessions (smtp_session_idle)"
	local lm
	if want_case "$name"; then
		if ! session_burst "$name" +4712345678 12 5091; then
			notok "$name" "sipp failed, see out/$MODE/sipp/$S_ID.*"
		elif [ "$S_MAILS" -ne 12 ] || [ "$S_SESSIONS" -gt 6 ]; then
			notok "$name" "12 MESSAGEs: $S_MAILS mails in $S_SESSIONS SMTP sessions (at most 6 wanted)"
		else
			ok "$name (12 mails in $S_SESSIONS sessions, most in one: $S_MOST)"
		fi
	fi
	name="[$MODE] sessions: an MMSC that closes the waiting session -> the next mail on a new connection, 200"
	if want_case "$name"; then
		# The path under test needs a job to reach a worker whose session
		# waits; an idle worker may take it instead (busy ones from earlier
		# cases make that likely). Start from a quiet IWF and try again,
		# at most 3 times, when the lost connection was not exercised.
		local try i
		for try in 1 2 3; do
			for ((i = 0; i < 100; i++)); do
				[ "$(kam_stat pending)" = 0 ] && break
				sleep 0.1
			done
			sleep 0.5   # open sessions end (smtp_session_idle)
			lm=$(kam_log_mark)
			if ! session_burst "$name" +4710000049 6 5092; then
				notok "$name" "sipp failed (a MESSAGE not answered 200), see out/$MODE/sipp/$S_ID.*"
				break
			elif [ "$S_MAILS" -ne 6 ] || [ "$S_MOST" -ne 1 ]; then
				notok "$name" "6 MESSAGEs: $S_MAILS mails in $S_SESSIONS sessions, most in one $S_MOST (want 6, 1)"
				break
			elif kam_log_since "$lm" | grep -q "failed: 0 "; then
				ok "$name (6 mails, one per connection, try $try)"
				break
			elif [ "$try" = 3 ]; then
				notok "$name" "all answered 200 in 3 tries, but no lost waiting connection was logged (the case did not test it)"
			fi
		done
	fi
}

# ---------------------------------------------------------------------------
# 8b. issue 6 fault matrix: the SIP client gives up, Kamailio restarted with
#     work pending, the CPM side unreachable over TCP
# ---------------------------------------------------------------------------
kam_stat() {        # kam_stat NAME: one value of kamcmd cpm_mms.stats
	kamcmd -s "$CTL" cpm_mms.stats 2>/dev/null | sed -n "s/^[[:space:]]*$1: //p"
}

# stats_delta BEFORE AFTER NAME...: "name=+N ..." between two stats_snapshots
stats_delta() {
	"$PY" - "$RUN/$1.json" "$RUN/$2.json" "${@:3}" <<'EOF'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print(" ".join("%s=%+d" % (k, b.get(k, 0) - a.get(k, 0)) for k in sys.argv[3:]))
EOF
}

kam_log_mark() { wc -l <"$KAM_LOG" | tr -d ' '; }
kam_log_since() { tail -n +$(($1 + 1)) "$KAM_LOG"; }


# gone_scenario FILLED OUT: the MESSAGE of a filled uac_message scenario,
# sent once (run sipp with -nr) by a client that leaves 300 ms later,
# without CANCEL and without waiting for any answer
gone_scenario() {
	"$PY" - "$1" "$2" <<'EOF'
import re, sys
s = open(sys.argv[1], encoding="utf-8").read()
s, n = re.subn(r'<recv response="100".*?<label id="done"/>',
              '<pause milliseconds="300"/>', s, flags=re.S)
s = s.replace('<send retrans="500">', '<send>')
open(sys.argv[2], "w", encoding="utf-8").write(s)
sys.exit(0 if n == 1 else 1)
EOF
}

# client_gone_case NAME NUMBER CODE WAIT COUNTER: the client sends one MESSAGE
# to NUMBER and leaves; within WAIT s the module must answer CODE into the
# still living tm transaction, COUNTER (res_ok / timeouts) +1, the pending
# entry gone.  A catcher bound to the port the client left counts the answers
# for its Call-ID: exactly one (tm's global rpl_sent also counts other
# traffic's replies, so it is no measure of this case)
client_gone_case() {
	local name="[$MODE] $1" num=$2 code=$3 wait=$4 counter=$5
	want_case "$name" || return 0
	kam_alive || { notok "$name" "kamailio is not running"; return; }
	new_case_id "$name"
	local id=$CASE_ID mark lmark line i ms d want callid catcher caught
	if ! "$PY" "$HELPER" fill "$TEMPLATE" "$RUN/scen/$id.full.xml" EXPECT=200 \
		RURI_USER=$num >"$RUN/scen/$id.fill" 2>&1 ||
		! gone_scenario "$RUN/scen/$id.full.xml" "$RUN/scen/$id.xml"; then
		notok "$name" "cannot build the scenario"
		return
	fi
	# rpl_sent is global: an earlier case's late answer must not land in
	# this case's count (bounded wait for nothing pending)
	for ((i = 0; i < 100; i++)); do
		[ "$(kam_stat pending)" = 0 ] && break
		sleep 0.1
	done
	if ! stats_snapshot "$id-0"; then
		notok "$name" "kamcmd cpm_mms.stats failed"
		return
	fi
	mark=$(peer_mark)
	lmark=$(kam_log_mark)
	sipp_run "$id" "$RUN/scen/$id.xml" 5074 1 -nr
	if [ "$SIPP_RC" -ne 0 ] || [ "$SIPP_GOT" != "no response" ]; then
		notok "$name" "the client did not just leave: sipp rc=$SIPP_RC, got $SIPP_GOT"
		return
	fi
	callid=$(sed -n 's/^[[:space:]]*Call-ID:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$RUN/sipp/$id.msg" | head -1)
	"$PY" "$HELPER" catch-replies --port 5074 --call-id "$callid" \
		--timeout $((wait + 2)) >"$RUN/$id.caught" 2>&1 &
	catcher=$!
	for ((i = 0; i < 20; i++)); do
		grep -q '^bound' "$RUN/$id.caught" 2>/dev/null && break
		sleep 0.05
	done
	if ! "$PY" "$HELPER" wait-mail --log "$PEER_LOG" --mark "$mark" --number $num \
		--timeout 5 >/dev/null; then
		notok "$name" "no MM4_forward.REQ for $num reached the peer"
		return
	fi
	for ((i = 0; i < wait * 10; i++)); do
		line=$(kam_log_since "$lmark" | grep -E "MESSAGE answered [0-9]+ .*recipient \\$num," | head -1)
		[ -n "$line" ] && break
		sleep 0.1
	done
	wait "$catcher"
	caught=$(grep -v '^bound' "$RUN/$id.caught" | tr '\n' ' ')
	caught=${caught% }
	stats_snapshot "$id-1" || { notok "$name" "kamcmd cpm_mms.stats failed after"; return; }
	d=$(stats_delta "$id-0" "$id-1" messages_in mm4_req_sent "$counter" res_unmatched local_rejects)
	want="messages_in=+1 mm4_req_sent=+1 $counter=+1 res_unmatched=+0 local_rejects=+0"
	ms=$(sed -n 's/.* \([0-9][0-9]*\) ms$/\1/p' <<<"$line")
	note "$line"
	if [ -z "$line" ]; then
		notok "$name" "no 'MESSAGE answered' for $num in the log within $wait s"
	elif ! grep -q "MESSAGE answered $code " <<<"$line"; then
		notok "$name" "answered: ${line#*MESSAGE answered }"
	elif kam_log_since "$lmark" | grep -q 'is gone'; then
		notok "$name" "tm no longer had the transaction: $(kam_log_since "$lmark" | grep 'is gone' | head -1)"
	elif [ -z "$callid" ] || ! grep -q '^bound' "$RUN/$id.caught"; then
		notok "$name" "no catcher on the client's port (Call-ID '$callid'): $(head -c 300 "$RUN/$id.caught")"
	elif [ "$caught" != "$code" ]; then
		notok "$name" "answers at the client's address for its Call-ID: '${caught:-none}', expected exactly one $code"
	elif [ "$d" != "$want" ]; then
		notok "$name" "counters: $d, expected $want"
	elif [ "$(kam_stat pending)" != 0 ]; then
		notok "$name" "pending is $(kam_stat pending) after the answer"
	elif ! kamcmd -s "$CTL" cpm_mms.pending | grep -q 'count: 0'; then
		notok "$name" "cpm_mms.pending still lists: $(kamcmd -s "$CTL" cpm_mms.pending | tr '\n' ' ')"
	else
		ok "$name (after ${ms:-?} ms)"
	fi
}

client_gone_cases() {
	local name="[$MODE] client gives up: nothing pending, shm back to its level" s0 s1
	want_case "client gives up" || return 0
	kam_alive || return 0
	sleep 6   # earlier cases' transactions leave tm's wait timer
	s0=$(shm_used | cut -d' ' -f1)
	client_gone_case "client gives up (MESSAGE sent once, no CANCEL), RES Ok 1.5 s later -> answered 200 into the transaction" \
		+4710000046 200 6 res_ok
	client_gone_case "client gives up (MESSAGE sent once, no CANCEL), no RES -> answered 202 at res_timeout" \
		+4710000047 202 $((RES_TIMEOUT + 4)) timeouts
	if want_case "$name"; then
		sleep 6   # tm's wait timer frees the answered transactions
		s1=$(shm_used | cut -d' ' -f1)
		if [ -z "$s0" ] || [ -z "$s1" ]; then
			notok "$name" "kamcmd core.shmmem failed"
		elif [ "$(kam_stat pending)" = 0 ] && [ $((s1 - s0)) -le "${E2E_SHM_MARGIN:-65536}" ]; then
			ok "$name ($s0 -> $s1 bytes)"
		else
			notok "$name" "pending $(kam_stat pending), shm $s0 -> $s1"
		fi
	fi
}

# -- restart with a CPM -> MMS MESSAGE pending --------------------------------
# An instance with res_timeout 20 s (nothing answers by itself during the
# case) takes a MESSAGE over UDP; the peer accepts the REQ and holds its RES
# (+4710000045: no RES; the harness plays the peer's RESs); SIGTERM while the
# MESSAGE is suspended, start again at once.  The client's retransmission
# (sipp: T1 500 ms doubling up to T2 4 s, 7 retransmissions: last one 19.5 s
# after the first send) reaches the new instance, which sends a second REQ.
restart_cpm_case() {
	local name="[$MODE] restart: CPM->MMS MESSAGE suspended at SIGTERM -> UDP retransmission reaches the restarted IWF, second MM4_forward.REQ (new transaction id and X-Mms-Message-ID, both the IWF's own: at-least-once), exactly one final answer 200"
	local name2="[$MODE] restart: RES for the REQ sent before the restart -> SMTP 250, counted in res_unmatched, nothing pending"
	want_case "$name" || want_case "$name2" || return 0
	local num=+4710000045 id mark mark2 tid1="" tid2="" bg rc got finals t0 t1 t2 out why=""
	stop_kamailio
	KAM_RES_TIMEOUT=20
	if ! start_kamailio "$ENUM_SERVER_OF_MODE" kamailio-rs1; then
		notok "$name" "kamailio (res_timeout 20) did not start, see kamailio-rs1.log"
		want_case "$name2" && notok "$name2" "kamailio did not start"
		unset KAM_RES_TIMEOUT
		start_kamailio "$ENUM_SERVER_OF_MODE" || notok "[$MODE] restart kamailio after the restart case" "see log"
		return
	fi
	new_case_id "$name"
	id=$CASE_ID
	"$PY" "$HELPER" fill "$TEMPLATE" "$RUN/scen/$id.xml" EXPECT=200 RURI_USER=$num \
		'BODY=sent before the restart' >"$RUN/scen/$id.fill" 2>&1
	# the answer comes after a restart: give each wait 40 s instead of 15
	sed -i 's/timeout="15000"/timeout="40000"/' "$RUN/scen/$id.xml"
	mark=$(peer_mark)
	t0=$(date +%s.%N)
	timeout 90 sipp -sf "$RUN/scen/$id.xml" -i $SIP_IP -p 5075 -recv_timeout 40000 \
		-timeout 60s -timeout_error -nostdin -trace_msg -message_file "$RUN/sipp/$id.msg" \
		-trace_err -error_file "$RUN/sipp/$id.err" -m 1 $SIP_IP:$SIP_PORT \
		>"$RUN/sipp/$id.out" 2>&1 &
	bg=$!
	PIDS+=("$bg")
	if ! tid1=$("$PY" "$HELPER" wait-mail --log "$PEER_LOG" --mark "$mark" --number $num --timeout 5); then
		why="no first MM4_forward.REQ for $num at the peer"
	else
		mark2=$(peer_mark)
		# SIGTERM while suspended: nothing was answered to the client
		t1=$(date +%s.%N)
		stop_kamailio || why="kamailio needed SIGKILL with a MESSAGE pending"
		if ! start_kamailio "$ENUM_SERVER_OF_MODE" kamailio-rs2; then
			why="${why:+$why; }kamailio did not start again (kamailio-rs2.log)"
		else
			t2=$(date +%s.%N)
			note "stopped $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s after the MESSAGE, up again $(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.1f", b-a}') s later"
			if ! tid2=$("$PY" "$HELPER" wait-mail --log "$PEER_LOG" --mark "$mark2" --number $num --timeout 25); then
				why="${why:+$why; }no second REQ: the retransmission did not reach the restarted IWF"
			elif ! out=$("$PY" "$PEER" send-res --to $MM4_LISTEN_IP:$MM4_LISTEN_PORT \
				--tid "$tid2" --status Ok 2>&1); then
				why="${why:+$why; }RES for the second REQ refused: $out"
			fi
		fi
	fi
	wait_sipp "$bg" 400 "$RUN/sipp/$id.msg"
	rc=$BG_RC
	got=$BG_GOT
	finals=$(tr ',' '\n' <<<"$got" | grep -cE '^ *[2-6][0-9][0-9]')
	# the REQs for $num: how many, how many transaction ids, X-Mms-Message-IDs
	local nreq
	nreq=$("$PY" - "$PEER_LOG" "$mark" "$num" <<'EOF'
import json, sys
reqs = []
for i, l in enumerate(open(sys.argv[1], encoding="utf-8")):
    e = json.loads(l)
    if i >= int(sys.argv[2]) and e.get("event") == "mail" and \
            any(sys.argv[3] in r for r in e.get("rcpt_tos", [])):
        reqs.append(e.get("hdr", {}))
mids = {h.get("x-mms-message-id", "").strip().strip('"') for h in reqs}
print(len(reqs), len({h.get("x-mms-transaction-id") for h in reqs}), len(mids),
      sorted(mids)[0] if mids else "-")
EOF
)
	local mid=${nreq##* } rows
	nreq=${nreq% *}
	# one row per REQ, both under the client's imdn.Message-ID
	rows=$(sql "SELECT count(*) FROM cpm_mms_corr WHERE direction = 1 AND imdn_message_id = (SELECT imdn_message_id FROM cpm_mms_corr WHERE mms_message_id = '$mid');" 2>&1)
	note "client got: $got; REQs at the peer, transaction ids, X-Mms-Message-IDs: $nreq ($tid1, $tid2, $mid); correlation rows: $rows"
	if ! want_case "$name"; then
		:
	elif [ -n "$why" ]; then
		notok "$name" "$why; client got: $got"
	elif [ "$rc" -ne 0 ] || [ "$finals" -ne 1 ] || ! grep -q '^200' <<<"$got"; then
		notok "$name" "client got: $got (sipp rc=$rc), expected exactly one final answer, 200"
	elif [ "$nreq" != "2 2 2" ]; then
		# each REQ has its own X-Mms-Message-ID (never the client's id)
		notok "$name" "the peer got REQs, transaction ids, X-Mms-Message-IDs: $nreq, expected 2 2 2"
	elif [ "$rows" != 2 ]; then
		notok "$name" "$rows correlation rows for the imdn.Message-ID of $mid, expected 2 (one per REQ)"
	else
		ok "$name"
	fi

	# the peer answers the first REQ now: nobody waits for it any more
	if want_case "$name2"; then
		if [ -z "$tid1" ] || ! kam_alive; then
			notok "$name2" "prerequisite failed (no first REQ or kamailio not running)"
		elif ! out=$("$PY" "$PEER" send-res --to $MM4_LISTEN_IP:$MM4_LISTEN_PORT \
			--tid "$tid1" --status Ok 2>&1); then
			notok "$name2" "RES not accepted with 250: $out"
		else
			sleep 0.3
			local d
			# the counters start at 0 with the new instance
			echo '{}' >"$RUN/$id-zero.json"
			stats_snapshot "$id-b"
			d=$(stats_delta "$id-zero" "$id-b" messages_in mm4_req_sent res_unmatched)
			if [ "$d" != "messages_in=+1 mm4_req_sent=+1 res_unmatched=+1" ]; then
				notok "$name2" "counters of the restarted instance: $d, expected messages_in=+1 mm4_req_sent=+1 res_unmatched=+1"
			elif [ "$(kam_stat pending)" != 0 ]; then
				notok "$name2" "pending is $(kam_stat pending)"
			elif ! kam_log_since 0 | grep -qF "MM4_forward.RES ${tid1//\"/} (Ok) matches no waiting MESSAGE"; then
				notok "$name2" "no 'matches no waiting MESSAGE' line for $tid1 in kamailio-rs2.log"
			else
				ok "$name2"
			fi
		fi
	fi
	stop_kamailio
	unset KAM_RES_TIMEOUT
	start_kamailio "$ENUM_SERVER_OF_MODE" || notok "[$MODE] restart kamailio after the restart case" "see log"
}

# -- restart with an MMS -> CPM REQ acknowledged but not yet answered ---------
# The REQ for +4720000201 (the CPM UAS answers 200 after 1.5 s) is taken
# (250) and its MESSAGE sent; Kamailio is stopped before the UAS answers, so
# no RES can be sent.  After the restart the peer sends the same REQ again
# (same X-Mms-Transaction-ID and X-Mms-Message-ID): the duplicate state was
# in shm, so it is delivered to the CPM side again and answered once.
restart_mm4_case() {
	local n1="[$MODE] restart: MMS->CPM REQ acked (250), MESSAGE unanswered at SIGTERM -> no RES"
	local n2="[$MODE] restart: the same REQ sent again after the restart -> delivered to CPM again (duplicate state lost), exactly one RES Ok"
	want_case "$n1" || want_case "$n2" || return 0
	kam_alive || { notok "$n1" "kamailio is not running"; return; }
	local num=+4720000201 tid="\"rs-tid-$MODE-$RANDOM\"" mid="\"rs-mid-$MODE-$RANDOM@$PEER_DOMAIN\""
	local mark offset out rc d why=""
	new_case_id "$n1"
	mark=$(peer_mark)
	offset=$("$PY" -c 'import os,sys; print(os.path.getsize(sys.argv[1]))' "$UAS_TRACE")
	out=$("$PY" "$PEER" send-req --to $MM4 --rcpt "$(rcpt_of $num)" --tid "$tid" \
		--message-id "$mid" --text "sent before the restart" 2>&1)
	# the MESSAGE is in tm's hands before the 250: stop now, the UAS
	# answers only 1.5 s after it got the MESSAGE
	stop_kamailio || why="kamailio needed SIGKILL with a MESSAGE pending"
	if ! grep -q '"code": 250' <<<"$out"; then
		why="${why:+$why; }the REQ was not taken: $out"
	elif ! out=$("$PY" "$HELPER" uas-wait --trace "$UAS_TRACE" --offset "$offset" \
		--ruri-re "^tel:\\$num\$" --count 1 --timeout 3 2>&1); then
		why="${why:+$why; }no MESSAGE at the CPM UAS before the stop: $out"
	fi
	if ! start_kamailio "$ENUM_SERVER_OF_MODE" kamailio-rs3; then
		notok "$n1" "${why:+$why; }kamailio did not start again (kamailio-rs3.log)"
		want_case "$n2" && notok "$n2" "kamailio did not start again"
		return
	fi
	# the UAS's 200 (1.5 s after the MESSAGE) reached no Kamailio
	if [ -z "$why" ] && ! out=$("$PY" "$HELPER" peer-wait --log "$PEER_LOG" --mark "$mark" \
		--event rx_res --var "TID=$tid" --where 'e.get("tid_raw") == TID' \
		--count 0 --exact --timeout 2.5 2>&1); then
		why="the peer got a RES: $out"
	fi
	if [ -n "$why" ]; then
		notok "$n1" "$why"
	else
		ok "$n1"
	fi
	want_case "$n2" || return 0
	new_case_id "$n2"
	stats_snapshot "$CASE_ID-a"
	out=$("$PY" "$HELPER" mm4-case --peer-log "$PEER_LOG" --uas-trace "$UAS_TRACE" \
		--ruri-re "^tel:\\$num\$" --res Ok --res-count 1 --settle 1.0 --timeout 8 \
		--expr 'RH["x-mms-message-id"] == S["message_id"]' \
		-- send-req --to $MM4 --rcpt "$(rcpt_of $num)" --tid "$tid" --message-id "$mid" \
		--text "sent again after the restart" 2>&1)
	rc=$?
	stats_snapshot "$CASE_ID-b"
	d=$(stats_delta "$CASE_ID-a" "$CASE_ID-b" mm4_req_in mm4_duplicates messages_out res_sent)
	if [ $rc -ne 0 ]; then
		notok "$n2" "$(tail -c 1200 <<<"$out" | tr '\n' ' ')"
	elif [ "$d" != "mm4_req_in=+1 mm4_duplicates=+0 messages_out=+1 res_sent=+1" ]; then
		notok "$n2" "counters: $d, expected mm4_req_in=+1 mm4_duplicates=+0 messages_out=+1 res_sent=+1"
	else
		ok "$n2"
	fi
}

# -- the CPM side unreachable over TCP ----------------------------------------
# An instance that also listens on TCP (CPM_MMS_SIP_LISTEN takes several
# sockets) with cpm_route sip:127.0.0.1:5099;transport=tcp, where nothing
# listens: the connection is refused at once.
cpm_unreachable_case() {
	local n1="[$MODE] unreachable: MMS->CPM cpm_route over TCP to a closed port -> exactly one RES Error-network-problem, no MESSAGE delivered"
	local n1b="[$MODE] unreachable: that RES comes at once (< 5 s, 'SIP send failed'), not at fr_timer (30 s)"
	local n2="[$MODE] unreachable: nothing pending, the same REQ again gets the same RES, shm back to its level"
	want_case "$n1" || want_case "$n1b" || want_case "$n2" || return 0
	local dead=5099 num=+4730000090 tid="\"unr-tid-$MODE-$RANDOM\"" s0 s1 out rc took text
	if ss -Hltn "sport = :$dead" 2>/dev/null | grep -q .; then
		notok "$n1" "something listens on $SIP_IP:$dead"
		return
	fi
	stop_kamailio
	KAM_SIP_LISTEN="udp:$SIP_IP:$SIP_PORT tcp:$SIP_IP:$SIP_PORT"
	KAM_CPM_ROUTE="sip:$SIP_IP:$dead;transport=tcp"
	if ! start_kamailio "$ENUM_SERVER_OF_MODE" kamailio-tcpdead; then
		notok "$n1" "kamailio with a TCP listener did not start (kamailio-tcpdead.log)"
	else
		sleep 1
		s0=$(shm_used | cut -d' ' -f1)
		new_case_id "$n1"
		# fr_timer is 30 s: wait up to 35 s to see when the RES comes
		out=$("$PY" "$HELPER" mm4-case --peer-log "$PEER_LOG" --uas-trace "$UAS_TRACE" \
			--ruri-re "^tel:\\$num\$" --messages 0 --res Error-network-problem --timeout 35 \
			--print 'round(time.time() - started, 1)' --print 'RH.get("x-mms-status-text")' \
			-- send-req --to $MM4 --rcpt "$(rcpt_of $num)" --tid "$tid" \
			--text "to a dead CPM core" 2>&1)
		rc=$?
		took=$(sed -n 1p <<<"$out")
		text=$(sed -n 2p <<<"$out")
		if [ $rc -ne 0 ]; then
			notok "$n1" "$(tail -c 1200 <<<"$out" | tr '\n' ' ')"
			want_case "$n1b" && notok "$n1b" "no RES Error-network-problem within 35 s"
		else
			ok "$n1 (after $took s: $text)"
			if ! want_case "$n1b"; then
				:
			elif awk -v t="$took" 'BEGIN{exit !(t < 5)}' && [ "$text" = "SIP send failed" ]; then
				ok "$n1b"
			else
				notok "$n1b" "the RES ($text) came after $took s"
			fi
		fi
		if want_case "$n2"; then
			new_case_id "$n2"
			out=$("$PY" "$HELPER" mm4-case --peer-log "$PEER_LOG" --uas-trace "$UAS_TRACE" \
				--ruri-re "^tel:\\$num\$" --messages 0 --res Error-network-problem --timeout 5 \
				-- send-req --to $MM4 --rcpt "$(rcpt_of $num)" --tid "$tid" \
				--text "to a dead CPM core" 2>&1)
			rc=$?
			sleep 6   # tm's wait timer
			s1=$(shm_used | cut -d' ' -f1)
			if [ $rc -ne 0 ]; then
				notok "$n2" "resend: $(tail -c 1200 <<<"$out" | tr '\n' ' ')"
			elif [ "$(kam_stat pending)" != 0 ]; then
				notok "$n2" "pending $(kam_stat pending)"
			elif [ -z "$s0" ] || [ -z "$s1" ] || [ $((s1 - s0)) -gt "${E2E_SHM_MARGIN:-65536}" ]; then
				notok "$n2" "shm $s0 -> $s1"
			elif ! kam_alive; then
				notok "$n2" "kamailio died"
			else
				ok "$n2 ($s0 -> $s1 bytes)"
			fi
		fi
	fi
	stop_kamailio
	unset KAM_SIP_LISTEN KAM_CPM_ROUTE
	start_kamailio "$ENUM_SERVER_OF_MODE" || notok "[$MODE] restart kamailio after the unreachable case" "see log"
}

# chunking_case: where the peer offers CHUNKING (PEER_CHUNKING) every mail
# of the mode must have gone by BDAT: the IWF's REQs and reports (libesmtp),
# the peer's RESs, REQs and reports into the IWF's listener; and the
# listener reads a refused chunk's bytes as data, not as commands
chunking_case() {
	local name="[$MODE] CHUNKING: every mail both ways went in BDAT chunks" out
	if want_case "$name"; then
		if out=$("$PY" - "$PEER_LOG" "$RUN/sends.jsonl" <<'EOF' 2>&1
import json, os, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sends = [json.loads(l) for l in open(sys.argv[2]) if l.strip()] if os.path.exists(sys.argv[2]) else []
mails = [r for r in recs if r.get("event") in ("mail", "rx_res", "rx_report")]
res = [r for r in recs if r.get("event") == "res" and r.get("sent")]
data = [r for r in sends if r.get("stage") == "data"]
unchunked = ["mail %s" % r.get("seq") for r in mails if not r.get("chunks")]
bad = (unchunked
       + ["res %s" % r.get("seq") for r in res if r.get("bdat") is not True]
       + ["send %s" % r.get("tid") for r in data if r.get("bdat") is not True])
print("%d mails in, %d RESs and %d mails out by BDAT; not: %s" % (
    len(mails) - len(unchunked), len(res), len(data), bad[:8]))
sys.exit(0 if mails and res and not bad else 1)
EOF
		); then
			ok "$name ($out)"
		else
			notok "$name" "$out"
		fi
	fi
	name="[$MODE] CHUNKING: the listener reads a refused BDAT chunk as data (503, then NOOP 250); BDAT without a size -> 501 and closed"
	if want_case "$name"; then
		if out=$("$PY" "$HERE/listener_probe.py" bdat $MM4_LISTEN_IP:$MM4_LISTEN_PORT 5 2>&1); then
			ok "$name"
		else
			notok "$name" "$out"
		fi
	fi
}

run_mode() {   # run_mode NAME ENUM_SERVER
	MODE=$1
	ENUM_SERVER_OF_MODE=$2
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
	recipients_cases
	status_cases
	dns_cases
	numbering_cases
	forged_res_cases
	rpc_cases
	runtime_cfg_cases
	client_gone_cases
	load_case
	batch_case
	session_cases
	if [ "$MODE" = ldns ]; then
		fault_cases
		restart_cpm_case
	fi
	case " ${E2E_MM4_MODES-ldns sysdns} " in
	*" $MODE "*) mm4_section "$2" ;;
	esac
	if [ -n "${PEER_CHUNKING:-}" ]; then chunking_case; fi

	local bad
	# (receive_fd EOF: Kamailio's TCP main notices a child that exited
	# first during a shutdown, e.g. the restart case; not an error)
	bad=$(grep -hE 'CRITICAL|BUG|exited by a signal|segfault|Segmentation|core dumped|shm_mem_destroy|out of memory|no more (shm|pkg)' "$RUN"/kamailio*.log |
		grep -v 'receive_fd(): EOF on' | head -3)
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

for mode in ${E2E_MODES:-ldns sysdns kemi}; do
	case $mode in
	ldns) run_mode ldns 127.0.0.1:53 ;;
	sysdns)
		# every mail of this mode in BDAT chunks (RFC 3030), both ways: the
		# peer offers CHUNKING (libesmtp then sends BDAT) and sends its REQs,
		# reports and RESs in chunks of 97 bytes (lines cut across chunks)
		export PEER_CHUNKING=1 MM4_PEER_BDAT=97
		run_mode sysdns ""
		unset PEER_CHUNKING MM4_PEER_BDAT ;;
	kemi)
		# the same CPM -> MMS cases through the Lua KEMI configuration
		CFG=$TOP/examples/kemi/kamailio.cfg
		export E2E_KEMI_LUA=$TOP/examples/kemi/cpm_mms.lua
		run_mode kemi 127.0.0.1:53
		CFG=$TOP/kamailio.cfg.sample
		unset E2E_KEMI_LUA ;;
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
