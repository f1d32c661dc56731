#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# cpm_mms benchmark: the IWF measured against Kamailio's own ceiling, on
# loopback in a private network + mount namespace (unshare), in one run:
#
#   reply        baseline: the same Kamailio answering MESSAGE statefully
#                (t_newtran + t_reply 200)                  sipp UAC -> kamailio
#   relay        baseline: relaying it statefully to a sipp UAS (t_relay)
#   iwf_cpm2mms  sipp UAC -> IWF -> MM4_forward.REQ -> mm4bench peer (MMSC)
#                -> MM4_forward.RES -> IWF -> 200
#   iwf_mms2cpm  mm4bench gen -> MM4_forward.REQ -> IWF -> MESSAGE -> sipp UAS
#                -> 200 -> IWF -> MM4_forward.RES -> mm4bench gen
#   capacity     the peer withholds every RES: how many suspended MESSAGEs
#                the module holds and their shm, against a t_suspend
#                baseline holding as many transactions
#
# The rate scenarios climb one ladder of rates (BENCH_RATES) together: at
# each rate every scenario still passing runs a step, back to back, each on a
# freshly started Kamailio, so that the baselines and the IWF meet the same
# machine (this VM's hypervisor steal varies from minute to minute). A
# scenario stops at its first step with a failure, p99 > BENCH_P99_MS or the
# offered rate not reached; a failed step that ran under BENCH_STEAL_RETRY or
# more steal is run again (BENCH_RETRIES) once the steal has calmed down. BENCH_REFINE rounds of bisecting steps between
# each scenario's last pass and first failure refine it.
# Writes bench/results.md (override: BENCH_RESULTS); logs in build/bench/.
#
#   bash bench/run.sh        (as root, after make; or: make bench)
#
# Knobs (environment):
#   BENCH_SCENARIOS  "reply relay iwf_cpm2mms iwf_mms2cpm capacity"
#   BENCH_RATES      "100 200 400 800 1600 3200 6400 12800"
#   BENCH_STEP_S     10      seconds per step
#   BENCH_P99_MS     50
#   BENCH_REFINE     3       bisecting steps between last pass and first fail
#   BENCH_CAP_N      20000   MESSAGEs held in the capacity test
#   BENCH_CAP_RATE   1000    their rate (all must arrive within res_timeout)
#   BENCH_CAP_RES_TIMEOUT 25
#   BENCH_DB         sqlite  report correlation DB as in the sample; "none"
#   BENCH_SHM_MB     2048    Kamailio -m (tm takes ~12.6 KB per transaction)
#   BENCH_PERF_ARGS  "-F 999" perf record options (e.g. "-F 999 -g" for call graphs)
#   BENCH_PERF       0       1: perf record the Kamailio processes during
#                            every step (build/bench/<scenario>/r<rate>/
#                            perf-by-process.txt, perf-flat.txt)
#   BENCH_BUDGET_S   1800    no new step or scenario starts after this
#   BENCH_RETRIES    2       times a failed step may be run again (0: never)
#   BENCH_STEAL_RETRY 10     a failed step that ran under at least this much
#                            hypervisor steal (% of a core) is run again, once
#                            3 s pass with less (waiting BENCH_QUIET_MAX_S, 90,
#                            at most)
#   BENCH_KAM_ARGS   ""      extra kamailio arguments (e.g. "-x tlsf")
#   BENCH_CHUNKING   1       mm4bench offers and uses CHUNKING (BDAT, RFC 3030);
#                            0: DATA only (--no-chunking), both directions
#   BENCH_PEER_DELAY_MS 0    iwf_cpm2mms: the MMSC holds each RES this long
#                            (pending load = rate x delay)
#   BENCH_RESULTS    bench/results.md
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
OUT=${BENCH_OUT:-$TOP/build/bench}
PY=/usr/bin/python3
LIB=$HERE/benchlib.py
KAMAILIO=${KAMAILIO:-/usr/sbin/kamailio}
MODULE=$TOP/modules/cpm_mms/cpm_mms.so
CFG=$HERE/kamailio-bench.cfg
MM4BENCH=${MM4BENCH:-$TOP/build/bench-bin/mm4bench}

SCENARIOS=${BENCH_SCENARIOS:-reply relay iwf_cpm2mms iwf_mms2cpm capacity}
RATES=${BENCH_RATES:-100 200 400 800 1600 3200 6400 12800}
STEP_S=${BENCH_STEP_S:-10}
P99_MS=${BENCH_P99_MS:-50}
REFINE=${BENCH_REFINE:-3}
CAP_N=${BENCH_CAP_N:-20000}
CAP_RATE=${BENCH_CAP_RATE:-1000}
CAP_RES_TIMEOUT=${BENCH_CAP_RES_TIMEOUT:-25}
DB=${BENCH_DB:-sqlite}
SHM_MB=${BENCH_SHM_MB:-2048}
BUDGET_S=${BENCH_BUDGET_S:-1800}
RETRIES=${BENCH_RETRIES:-2}
QUIET_MAX_S=${BENCH_QUIET_MAX_S:-90}
STEAL_RETRY=${BENCH_STEAL_RETRY:-10}
NO_CHUNKING=
[ "${BENCH_CHUNKING:-1}" = 0 ] && NO_CHUNKING=--no-chunking
KAM_ARGS=${BENCH_KAM_ARGS:-}
RESULTS=${BENCH_RESULTS:-$HERE/results.md}
BENCH_CMD=${BENCH_CMD:-bash bench/run.sh}

SIP_IP=127.0.0.1
SIP_PORT=5060
UAC_PORT=5070
UAS_PORT=5080
MM4_LISTEN=127.0.0.1:2526
PEER_IP=127.0.0.2
MM4_PORT=25
CTL=unix:$OUT/ctl.sock

# ---------------------------------------------------------------------------
# outside the namespace: preflight, then re-exec inside unshare
# ---------------------------------------------------------------------------
if [ -z "${CPM_MMS_BENCH_INNER:-}" ]; then
	missing=()
	for t in unshare ip sipp ldns-testns kamcmd "$KAMAILIO" "$PY" gcc; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ -f "$MODULE" ] || missing+=("$MODULE (run make)")
	if [ ${#missing[@]} -gt 0 ]; then
		echo "bench: missing: ${missing[*]}" >&2
		exit 1
	fi
	if [ ! -x "$MM4BENCH" ] || [ "$HERE/mm4bench.c" -nt "$MM4BENCH" ]; then
		mkdir -p "$(dirname "$MM4BENCH")"
		gcc -O2 -g -Wall -Wextra -o "$MM4BENCH" "$HERE/mm4bench.c" || exit 1
	fi
	if ! unshare --mount --net -- true 2>/dev/null; then
		echo "bench: unshare --mount --net failed (run as root)" >&2
		exit 1
	fi
	rm -rf "$OUT"
	mkdir -p "$OUT"
	export CPM_MMS_BENCH_INNER=1 MM4BENCH BENCH_CMD
	exec unshare --mount --net -- bash "$0" "$@"
fi

# ---------------------------------------------------------------------------
# inside: loopback network of our own
# ---------------------------------------------------------------------------
ip link set lo up
ip addr add "$PEER_IP/32" dev lo 2>/dev/null
ulimit -c 0     # a crash is logged (incidents), not dumped: shm is GBs
T_START=$(date +%s)
STEPS=$OUT/steps.jsonl
: > "$STEPS"

pids=()
KPID=
stop_pid() {
	# TERM, wait (bounded), KILL; one PID
	local p=$1 i
	[ -n "$p" ] || return 0
	kill "$p" 2>/dev/null || return 0
	for i in $(seq 1 50); do
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$p" 2>/dev/null
	return 0
}
GENPID=
cleanup() {
	local p
	[ -n "$GENPID" ] && stop_pid "$GENPID"
	[ -n "$KPID" ] && kam_stop
	for p in "${pids[@]}"; do
		stop_pid "$p"
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[bench $(( $(date +%s) - T_START ))s] $*"; }
elapsed() { echo $(( $(date +%s) - T_START )); }
over_budget() { [ "$(elapsed)" -ge "$BUDGET_S" ]; }

# ---- machine info ----
{
	echo "nproc: $(nproc)"
	lscpu | grep -E '^(Architecture|CPU\(s\)|Model name|Thread|Core|Socket|Hypervisor|CPU MHz|BogoMIPS)' || true
	echo
	free -m
	echo
	echo "kernel: $(uname -r)"
	echo "kamailio: $($KAMAILIO -v 2>/dev/null | head -1)"
	echo "sipp: $(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1)"
	echo "module: $MODULE built $(date -r "$MODULE" '+%Y-%m-%d %H:%M:%S'), git $(cd "$TOP" && git rev-parse --short HEAD 2>/dev/null)$(cd "$TOP" && git diff --quiet HEAD -- modules 2>/dev/null || echo ' + uncommitted changes in modules/')"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"

# ---- ENUM/DNS ----
ldns-testns -p 53 "$TOP/test/e2e/enum.data" > "$OUT/dns.log" 2>&1 &
DNSPID=$!
pids+=("$DNSPID")
sleep 0.3
kill -0 "$DNSPID" 2>/dev/null || { log "ldns-testns did not start"; cat "$OUT/dns.log"; exit 1; }

# ---- Kamailio ----
export CPM_MMS_SIP_LISTEN=udp:$SIP_IP:$SIP_PORT CPM_MMS_MM4_LISTEN=$MM4_LISTEN
export CPM_MMS_MM4_PORT=$MM4_PORT CPM_MMS_DOMAIN=mms.iwf.test
export CPM_MMS_ENUM_SERVER=127.0.0.1:53 CPM_MMS_CPM_ROUTE=sip:$SIP_IP:$UAS_PORT
export CPM_MMS_CTL=$CTL CPM_MMS_MODULE=$MODULE
export BENCH_RELAY_DST=sip:$SIP_IP:$UAS_PORT
# the report correlation DB of the sample (sqlite); on a tmpfs of this mount
# namespace by default, so that the disk's fsync latency stays out of the
# numbers (BENCH_DB=sqlite-disk keeps it on disk, none disables it)
DBFILE=
case $DB in
sqlite)
	mkdir -p "$OUT/db"
	mount -t tmpfs -o size=512m tmpfs "$OUT/db" || { log "tmpfs mount failed"; exit 1; }
	DBFILE=$OUT/db/corr.sqlite ;;
sqlite-disk) DBFILE=$OUT/corr.sqlite ;;
none) ;;
*) log "BENCH_DB must be sqlite, sqlite-disk or none"; exit 1 ;;
esac
# db_sqlite: "sqlite://" + the path without its leading "/" is relative
export CPM_MMS_DB_URL=${DBFILE:+sqlite:///$DBFILE}

kam() { kamcmd -s "$CTL" "$@" 2>/dev/null; }
kam_val() { kam "$1" | awk -v k="$2:" '$1 == k { print $2; exit }'; }
shm_used() { kam_val core.shmmem real_used; }

kam_start() {
	# kam_start MODE LOGNAME [VAR=value ...]
	local mode=$1 name=$2 i
	shift 2
	if [ -n "$DBFILE" ] && [ "$mode" = BENCH_IWF ]; then
		rm -f "$DBFILE" "$DBFILE"-journal
		$PY -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2]).read()); c.commit()" \
			"$DBFILE" "$TOP/sql/cpm_mms-sqlite.sql" || return 1
	fi
	(cd "$TOP" && exec env "$@" "$KAMAILIO" -DD -E -f "$CFG" -A "$mode" \
		-m "$SHM_MB" $KAM_ARGS -P "$OUT/kamailio.pid" -w "$OUT" -Y "$OUT") \
		> "$OUT/kamailio-$name.log" 2>&1 &
	KPID=$!
	for i in $(seq 1 100); do
		kam core.version >/dev/null && break
		kill -0 "$KPID" 2>/dev/null || break
		sleep 0.2
	done
	if ! kam core.version >/dev/null; then
		log "kamailio ($mode) did not start:"
		tail -20 "$OUT/kamailio-$name.log"
		KPID=
		return 1
	fi
	sleep 1
	PSX=$OUT/psx-$name.txt
	kam core.psx > "$PSX"
	KNAME=$name
	return 0
}

kam_stop() {
	local kids p rc
	[ -n "$KPID" ] || return 0
	kids=$(awk '{ print $1, $4 }' /proc/[0-9]*/stat 2>/dev/null \
		| awk -v k="$KPID" '{ if ($2 == k) print $1 }')
	stop_pid "$KPID"
	wait "$KPID" 2>/dev/null
	rc=$?
	if [ "$rc" -gt 128 ] && [ "$rc" -ne 137 ]; then
		log "kamailio ($KNAME) ended with signal $((rc - 128)) on shutdown (see $OUT/kamailio-$KNAME.log)"
		echo "- Kamailio ($KNAME) ended with signal $((rc - 128)) on shutdown." >> "$OUT/incidents.txt"
	fi
	for p in $kids; do
		stop_pid "$p"
	done
	KPID=
}

perf_start() { # DIR SCENARIO
	PERFPID=
	[ "${BENCH_PERF:-0}" = 1 ] || return 0
	command -v perf >/dev/null || return 0
	local list
	list=$(awk '{ print $1, $4 }' /proc/[0-9]*/stat 2>/dev/null \
		| awk -v k="$KPID" '{ if ($2 == k || $1 == k) print $1 }' | paste -sd, -)
	perf record ${BENCH_PERF_ARGS:--F 999} -o "$1/perf.data" -p "$list" > "$1/perf.log" 2>&1 &
	PERFPID=$!
	sleep 0.5
}

perf_stop() { # DIR
	[ -n "${PERFPID:-}" ] || return 0
	kill -INT "$PERFPID" 2>/dev/null
	wait "$PERFPID" 2>/dev/null
	PERFPID=
	perf report -i "$1/perf.data" --stdio --no-children --sort pid,dso,sym \
		--percent-limit 0.05 > "$1/perf.txt" 2>/dev/null
	perf report -i "$1/perf.data" --stdio --no-children --sort dso,sym \
		--percent-limit 0.3 > "$1/perf-flat.txt" 2>/dev/null
	$PY "$LIB" perf-summary --psx "$PSX" --input "$1/perf.txt" \
		--out "$1/perf-by-process.txt"
}

cpusnap() { # FILE GEN_PID PEER_PID
	$PY "$LIB" cpusnap "$1" "kamailio=${KPID:-0}+" "peer=${3:-0}" "dns=$DNSPID"
}

# ---- one sipp UAC step: RATE ----
sipp_step() {
	local scen=$1 rate=$2 dir count rc peer=${3:-0}
	count=$((rate * STEP_S))
	dir=$OUT/$scen/r$rate-${STEP_ATTEMPT:-1}
	mkdir -p "$dir"
	perf_start "$dir" "$scen"
	cpusnap "$dir/cpu0.json" 0 "$peer"
	$PY "$LIB" run --timeout $((STEP_S + 40)) --rusage "$dir/gen.rusage" \
		--stdout "$dir/sipp.out" --cwd "$dir" -- \
		sipp -sf "$HERE/sipp/uac_message.xml" -i "$SIP_IP" -p "$UAC_PORT" \
		-r "$rate" -rp 1000 -m "$count" -l 200000 -nostdin -buff_size 4194304 \
		-trace_stat -stf stat.csv -fd 1 -trace_rtt -rtt_freq "$rate" \
		-timeout $((STEP_S + 30))s "$SIP_IP:$SIP_PORT" &
	GENPID=$!
	wait "$GENPID"
	GENPID=
	cpusnap "$dir/cpu1.json" 0 "$peer"
	perf_stop "$dir"
	$PY "$LIB" sipp-step --scenario "$scen" --rate "$rate" --count "$count" \
		--dir "$dir" --cpu0 "$dir/cpu0.json" --cpu1 "$dir/cpu1.json" \
		--gen-rusage "$dir/gen.rusage" --psx "$PSX" --jsonl "$STEPS" \
		--p99-max "$P99_MS" --attempt "${STEP_ATTEMPT:-1}"
}

# ---- one MM4 generator step: RATE ----
gen_step() {
	local scen=$1 rate=$2 dir count peer=${3:-0}
	count=$((rate * STEP_S))
	dir=$OUT/$scen/r$rate-${STEP_ATTEMPT:-1}
	mkdir -p "$dir"
	perf_start "$dir" "$scen"
	cpusnap "$dir/cpu0.json" 0 "$peer"
	$PY "$LIB" run --timeout $((STEP_S + 40)) --rusage "$dir/gen.rusage" \
		--stdout "$dir/gen.out" -- \
		"$MM4BENCH" gen --listen "$PEER_IP:$MM4_PORT" --to "$MM4_LISTEN" \
		--rate "$rate" --count "$count" --conns 8 --res-wait 10 \
		--run-id "$scen-$rate-$$" --dr --lat-file "$dir/latency.csv" \
		--stats "$dir/gen.stats" $NO_CHUNKING &
	GENPID=$!
	wait "$GENPID"
	GENPID=
	cpusnap "$dir/cpu1.json" 0 "$peer"
	perf_stop "$dir"
	$PY "$LIB" gen-step --scenario "$scen" --rate "$rate" --count "$count" \
		--gen-out "$dir/gen.out" --cpu0 "$dir/cpu0.json" --cpu1 "$dir/cpu1.json" \
		--gen-rusage "$dir/gen.rusage" --psx "$PSX" --jsonl "$STEPS" \
		--p99-max "$P99_MS" --attempt "${STEP_ATTEMPT:-1}"
}

# ---- one step of a rate scenario on a Kamailio of its own ----
# step_up SCEN NAME DIR: start what SCEN needs; STEP_PEER = the peer/UAS PID
step_up() {
	local scen=$1 name=$2 dir=$3
	STEP_PEER=0 UASPID= PEERPID=
	case $scen in
	relay|iwf_mms2cpm) start_uas "$name" ;;
	esac
	case $scen in
	reply) kam_start BENCH_REPLY "$name" ;;
	relay) kam_start BENCH_RELAY "$name" ;;
	iwf_*) kam_start BENCH_IWF "$name" ;;
	esac || { [ -n "$UASPID" ] && stop_pid "$UASPID"; return 1; }
	if [ "$scen" = iwf_cpm2mms ]; then
		"$MM4BENCH" peer --listen "$PEER_IP:$MM4_PORT" --to "$MM4_LISTEN" \
			--conns 4 --delay-ms "${BENCH_PEER_DELAY_MS:-0}" $NO_CHUNKING \
			--stats "$dir/peer.stats" > "$dir/peer.log" 2>&1 &
		PEERPID=$!
		pids+=("$PEERPID")
		sleep 0.5
	fi
	STEP_PEER=${PEERPID:-${UASPID:-0}}
	return 0
}

step_down() { # SCEN DIR
	case $1 in
	iwf_*) kam cpm_mms.stats > "$2/module-stats.txt" ;;
	esac
	[ -n "$PEERPID" ] && stop_pid "$PEERPID"
	kam_stop
	[ -n "$UASPID" ] && stop_pid "$UASPID"
	PEERPID= UASPID=
}

# run_step SCEN RATE ATTEMPT: 0 pass, 1 fail, 2 could not start
run_step() {
	local scen=$1 rate=$2 attempt=$3 fn=sipp_step dir rc
	[ "$scen" = iwf_mms2cpm ] && fn=gen_step
	STEP_ATTEMPT=$attempt
	dir=$OUT/$scen/r$rate-$attempt
	mkdir -p "$dir"
	step_up "$scen" "$scen-r$rate-$attempt" "$dir" || return 2
	$fn "$scen" "$rate" "$STEP_PEER"
	rc=$?
	step_down "$scen" "$dir"
	sleep 1
	return $rc
}

last_steal() {
	$PY -c 'import json, sys
lines = open(sys.argv[1]).read().splitlines()
print(int(json.loads(lines[-1]).get("cpu_steal", 0)) if lines else 0)' "$STEPS"
}

# steal (% of a core) over the next 3 s
steal_now() {
	$PY -c 'import os, time
def snap():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]), v[7]
t0, s0 = snap()
time.sleep(3)
t1, s1 = snap()
print(int(100.0 * (s1 - s0) / max(t1 - t0, 1) * os.cpu_count()))'
}

# wait (at most QUIET_MAX_S) for a 3 s window with less than STEAL_RETRY steal
wait_quiet() {
	local t0 s
	t0=$(date +%s)
	while :; do
		s=$(steal_now)
		[ "${s:-0}" -lt "$STEAL_RETRY" ] && return 0
		[ $(( $(date +%s) - t0 )) -ge "$QUIET_MAX_S" ] && break
	done
	log "steal still $s % after $QUIET_MAX_S s"
	return 0
}

# step SCEN RATE: a failed step that ran while the hypervisor took at least
# STEAL_RETRY % of a core is run again (up to RETRIES times) once the steal
# has calmed down (wait_quiet); the best attempt counts
step() {
	local rc steal attempt=1
	run_step "$1" "$2" 1
	rc=$?
	while [ "$rc" = 1 ] && [ "$attempt" -le "$RETRIES" ]; do
		steal=$(last_steal)
		[ "${steal:-0}" -ge "$STEAL_RETRY" ] || break
		over_budget && break
		log "$1 $2/s failed under $steal % steal: again when it is below $STEAL_RETRY %"
		wait_quiet
		attempt=$((attempt + 1))
		run_step "$1" "$2" "$attempt"
		rc=$?
	done
	return $rc
}

# ladder SCEN...: at each rate every scenario still passing runs one step,
# back to back, each on a freshly started Kamailio, so the baselines and the
# IWF see the machine within a minute of each other; then REFINE rounds of
# bisecting steps between each scenario's last pass and first failure
ladder() {
	local r s mid k ok fail
	local -A last_ok=() first_fail=()
	local active=("$@") still
	for r in $RATES; do
		[ ${#active[@]} -gt 0 ] || break
		still=()
		for s in "${active[@]}"; do
			if over_budget; then
				log "$s: time budget used up, stopping before $r/s"
				echo "- $s: time budget used up before the $r/s step." >> "$OUT/incidents.txt"
				continue
			fi
			if step "$s" "$r"; then
				last_ok[$s]=$r
				still+=("$s")
			else
				first_fail[$s]=$r
			fi
		done
		active=("${still[@]}")
	done
	for ((k = 0; k < REFINE; k++)); do
		for s in "$@"; do
			ok=${last_ok[$s]:-0} fail=${first_fail[$s]:-0}
			[ "$ok" -gt 0 ] && [ "$fail" -gt 0 ] || continue
			over_budget && break 2
			mid=$(( (ok + fail) / 2 / 50 * 50 ))
			[ "$mid" -gt "$ok" ] && [ "$mid" -lt "$fail" ] || continue
			if step "$s" "$mid"; then
				last_ok[$s]=$mid
			else
				first_fail[$s]=$mid
			fi
		done
	done
	return 0
}

# ---------------------------------------------------------------------------
# rate scenarios
# ---------------------------------------------------------------------------
start_uas() {
	(cd "$OUT" && exec sipp -sf "$HERE/sipp/uas_200.xml" -i "$SIP_IP" \
		-p "$UAS_PORT" -nostdin -f 10 -l 200000 -buff_size 4194304) \
		> "$OUT/uas-$1.out" 2>&1 &
	UASPID=$!
	pids+=("$UASPID")
	sleep 0.5
}

# ---------------------------------------------------------------------------
# capacity: hold CAP_N transactions, measure shm, let them drain
# ---------------------------------------------------------------------------
# cap_run KIND(iwf|hold) -> $OUT/cap_KIND.txt
cap_run() {
	local kind=$1 f=$OUT/cap_$1.txt dir=$OUT/capacity-$1 shm0 shm_now held=0
	local peak=0 shm_held=0 queued=- i n sent fails rej inn t_send t0 hpid
	local per left shm_end failed answered
	mkdir -p "$dir"
	if [ "$kind" = iwf ]; then
		kam_start BENCH_IWF cap-iwf CPM_MMS_RES_TIMEOUT="$CAP_RES_TIMEOUT" || return
		"$MM4BENCH" peer --listen "$PEER_IP:$MM4_PORT" --to "$MM4_LISTEN" \
			--drop-pct 100 $NO_CHUNKING --stats "$OUT/peer-cap.stats" > "$OUT/peer-cap.log" 2>&1 &
		PEERPID=$!
		pids+=("$PEERPID")
	else
		kam_start BENCH_HOLD cap-hold || return
		PEERPID=
	fi
	sleep 2
	shm0=$(shm_used)
	t_send=$(( (CAP_N + CAP_RATE - 1) / CAP_RATE ))
	t0=$(date +%s)
	$PY "$LIB" run --timeout $((t_send + CAP_RES_TIMEOUT + 60)) \
		--stdout "$dir/sipp.out" --cwd "$dir" -- \
		sipp -sf "$HERE/sipp/uac_hold.xml" -i "$SIP_IP" -p "$UAC_PORT" \
		-r "$CAP_RATE" -rp 1000 -m "$CAP_N" -l $((CAP_N + 1000)) -nr -nostdin \
		-buff_size 4194304 \
		-trace_stat -stf stat.csv -fd 1 -timeout $((t_send + CAP_RES_TIMEOUT + 50))s \
		"$SIP_IP:$SIP_PORT" &
	hpid=$!
	pids+=("$hpid")
	# every MESSAGE arrived (bounded by the send time + 10 s)
	for i in $(seq 1 $((t_send + 10))); do
		sleep 1
		if [ "$kind" = iwf ]; then
			inn=$(kam_val cpm_mms.stats messages_in)
			rej=$(kam_val cpm_mms.stats local_rejects)
			n=$(( ${inn:-0} + ${rej:-0} ))
		else
			n=$(kam_val tm.stats created)
		fi
		echo "t=$(( $(date +%s) - t0 )) arrived=$n shm=$(shm_used)" >> "$dir/progress.txt"
		[ "${n:-0}" -ge "$CAP_N" ] && break
	done
	if [ "$kind" = iwf ]; then
		# let the MM4 workers send what is queued, but measure before the
		# first res_timeout expiry (bounded)
		for i in $(seq 1 $((CAP_RES_TIMEOUT))); do
			[ $(( $(date +%s) - t0 )) -ge $((CAP_RES_TIMEOUT - 2)) ] && break
			inn=$(kam_val cpm_mms.stats messages_in)
			sent=$(kam_val cpm_mms.stats mm4_req_sent)
			fails=$(kam_val cpm_mms.stats smtp_failures)
			[ $(( ${sent:-0} + ${fails:-0} )) -ge "${inn:-0}" ] && break
			sleep 1
		done
		held=$(kam_val cpm_mms.stats pending)
		shm_held=$(shm_used)
		peak=$(kam_val cpm_mms.stats pending_peak)
		inn=$(kam_val cpm_mms.stats messages_in)
		sent=$(kam_val cpm_mms.stats mm4_req_sent)
		fails=$(kam_val cpm_mms.stats smtp_failures)
		queued=$(( ${inn:-0} - ${sent:-0} - ${fails:-0} ))
		kam cpm_mms.stats > "$dir/stats-held.txt"
	else
		held=$(kam_val tm.stats current)
		shm_held=$(shm_used)
		peak=-
		kam tm.stats > "$dir/stats-held.txt"
	fi
	log "capacity $kind: held=$held shm0=$shm0 shm_held=$shm_held (measured $(( $(date +%s) - t0 )) s after the first MESSAGE)"
	# drain: sipp ends when every MESSAGE got its 202/408 (bounded by its timeout)
	wait "$hpid"
	# tm's wait timer (5 s) frees the answered transactions
	for i in $(seq 1 20); do
		n=$(kam_val tm.stats current)
		[ "${n:-1}" = 0 ] && break
		sleep 1
	done
	sleep 1
	shm_end=$(shm_used)
	if [ "$kind" = iwf ]; then
		left=$(kam_val cpm_mms.stats pending)
		kam cpm_mms.stats > "$dir/stats-end.txt"
	else
		left=$(kam_val tm.stats current)
	fi
	kam tm.stats > "$dir/tm-end.txt"
	read -r answered failed < <($PY -c "
import sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
d = dict(zip(lines[0].strip().split(';'), lines[-1].strip().split(';')))
print(d.get('SuccessfulCall(C)', '-'), d.get('FailedCall(C)', '-'))" "$dir/stat.csv" 2>/dev/null)
	per=-
	[ "${held:-0}" -gt 0 ] && per=$(( (shm_held - shm0) / held ))
	{
		echo "method=Method: $CAP_N MESSAGEs at $CAP_RATE/s (sipp -nr, no retransmissions) to a Kamailio whose transactions stay open: the IWF with res_timeout $CAP_RES_TIMEOUT s and an MMSC (mm4bench peer --drop-pct 100) that accepts every MM4_forward.REQ but never sends the RES, and the baseline cfg (t_newtran + t_suspend, tm fr_timer 30 s). shm = real_used of kamcmd core.shmmem (allocator overhead included), measured once every MESSAGE arrived and (IWF) the MM4 workers sent their REQs, before the first expiry; per held transaction = (shm while held - shm before) / held. After the drain (202 at res_timeout / 408 at fr_timer, then tm's 5 s wait timer) shm is measured again."
		echo "offered=$CAP_N"
		echo "rate=$CAP_RATE"
		echo "answered=${answered:--}"
		echo "refused=${failed:--}"
		if [[ "${answered:-}" =~ ^[0-9]+$ && "${failed:-}" =~ ^[0-9]+$ ]]; then
			echo "unanswered=$(( CAP_N - answered - failed ))"
		fi
		echo "held=$held"
		echo "pending_peak=$peak"
		echo "queued=$queued"
		echo "shm0=$shm0"
		echo "shm_held=$shm_held"
		echo "per_txn=$per"
		echo "shm_end=$shm_end"
		echo "shm_leftover=$(( shm_end - shm0 ))"
		echo "left=$left"
		if [ "$kind" = iwf ] && [ "${held:-0}" -lt "$CAP_N" ]; then
			echo "note=Fewer than offered: $failed MESSAGEs were refused (503: MM4 worker queue full or pending table full - see build/bench/kamailio-cap-iwf.log); $queued REQs were still queued for the MM4 workers at the measurement."
		fi
	} > "$f"
	log "capacity $kind: $(grep -v '^method' "$f" | tr '\n' ' ')"
	[ -n "$PEERPID" ] && stop_pid "$PEERPID"
	kam_stop
}

scenario_capacity() {
	log "== capacity: $CAP_N held transactions, IWF vs t_suspend baseline"
	cap_run iwf
	over_budget && { log "capacity: time budget used up, baseline skipped"; return; }
	cap_run hold
}

# ---------------------------------------------------------------------------
log "scenarios: $SCENARIOS; rates: $RATES; $STEP_S s per step; p99 <= $P99_MS ms"
rate_scens=()
for s in $SCENARIOS; do
	case $s in
	reply|relay|iwf_cpm2mms|iwf_mms2cpm) rate_scens+=("$s") ;;
	capacity) ;;
	*) log "unknown scenario $s" ;;
	esac
done
[ ${#rate_scens[@]} -gt 0 ] && ladder "${rate_scens[@]}"
case " $SCENARIOS " in
*" capacity "*)
	if over_budget; then
		log "time budget ($BUDGET_S s) used up: capacity skipped"
		echo "- capacity: time budget used up, not run." >> "$OUT/incidents.txt"
	else
		scenario_capacity
	fi ;;
esac
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

{
	echo "## Configuration of this run"
	echo
	echo "- Kamailio: \`$KAMAILIO -DD -E -f bench/kamailio-bench.cfg -A <mode> -m $SHM_MB${KAM_ARGS:+ $KAM_ARGS}\`; global parameters as kamailio.cfg.sample (children=4, tm fr_timer 30 s) except debug=${BENCH_DEBUG:-1}."
	echo "- IWF module parameters: kamailio.cfg.sample's, with mm4_workers=${BENCH_MM4_WORKERS:-4}, max_pending=${BENCH_MAX_PENDING:-20000}, dedup_time=${BENCH_DEDUP_TIME:-5} s (sample: 3600), max_inbound=${BENCH_MAX_INBOUND:-100000} (sample: 20000), res_timeout 10 s (capacity: $CAP_RES_TIMEOUT s), ENUM server ldns-testns 127.0.0.1:53 (test/e2e/enum.data), MM4 port $MM4_PORT on 127.0.0.2."
	case $DB in
	sqlite) echo "- Report correlation DB: sqlite as in the sample, on a tmpfs (no disk fsync in the numbers)." ;;
	sqlite-disk) echo "- Report correlation DB: sqlite as in the sample, on disk ($OUT)." ;;
	none) echo "- Report correlation DB: none (db_url empty)." ;;
	esac
	echo "- Traffic: CPM -> MMS MESSAGEs are message/cpim asking for positive-delivery and display IMDNs (one DB row each); MMS -> CPM MM4_forward.REQs ask X-Mms-Delivery-Report: Yes and X-Mms-Ack-Request: Yes (one DB row each); one recipient, ~40-byte text."
	echo "- Generators: sipp $(sipp -v 2>&1 | grep -o 'v[0-9.]*' | head -1) (UDP, -rp 1000, retransmissions on except the capacity runs) and build/bench-bin/mm4bench gen (8 persistent pipelined SMTP connections); the MMSC is mm4bench peer (4 persistent pipelined connections for the RESs). $([ -n "$NO_CHUNKING" ] && echo "mm4bench neither offers nor uses CHUNKING (BENCH_CHUNKING=0): every mail goes with DATA." || echo "mm4bench offers CHUNKING and sends its mails as MAIL, RCPT, BDAT <n> LAST and the mail in one write; the IWF's listener offers it too, and libesmtp sends BDAT to the peer (MAIL, then RCPT with the BDATs: two round trips per mail).")"
} > "$OUT/config.md"

cmdline="$BENCH_CMD"
for v in BENCH_SCENARIOS BENCH_RATES BENCH_STEP_S BENCH_P99_MS BENCH_CAP_N \
		BENCH_CAP_RATE BENCH_CAP_RES_TIMEOUT BENCH_DB BENCH_REFINE BENCH_RETRIES BENCH_STEAL_RETRY BENCH_QUIET_MAX_S BENCH_SHM_MB \
		BENCH_KAM_ARGS BENCH_MM4_WORKERS CPM_MMS_MM4_BATCH CPM_MMS_MM4_BATCH_WAIT CPM_MMS_SMTP_SESSION_IDLE BENCH_DEBUG BENCH_PERF \
		BENCH_PERF_ARGS BENCH_PEER_DELAY_MS BENCH_BUDGET_S BENCH_CHUNKING; do
	[ -n "${!v:-}" ] && cmdline="$v=\"${!v}\" $cmdline"
done
$PY "$LIB" report --jsonl "$STEPS" --capdir "$OUT" --machine "$OUT/machine.txt" \
	--cmd "$cmdline" --out "$RESULTS" --rates "$(echo $RATES | tr ' ' ',')" \
	--step-s "$STEP_S" --p99-max "$P99_MS" --incidents "$OUT/incidents.txt" \
	--notes "$OUT/config.md" --steal-retry "$([ "$RETRIES" -gt 0 ] && echo "$STEAL_RETRY" || echo never)" --retries "$RETRIES"
log "done in $(elapsed) s: $RESULTS"
