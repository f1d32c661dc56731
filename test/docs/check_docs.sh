#!/bin/bash
# cpm_mms - check that doc/cpm_mms_admin.xml documents exactly what the code
# exports: modparams (params[]), script functions (cmds[]), KEMI functions,
# RPC commands (rpc.c), counters (stats.c), $mm4() names
# (pv_parse_mm4_name), the return codes of forward.h and the event route
# name; each in its own section, and nothing the code lacks. Return codes
# of forward.h and report.h must be in their functions' tables. Also checks the
# documented default of every parameter against its C initialiser, and that
# the section of the cpm_mms.config RPC command names every field it shows;
# every variable of the cfg group (settings.c) is a parameter whose section
# says how to change it at runtime, or that it is fixed at start-up.
#
# Usage: test/docs/check_docs.sh   (from anywhere; needs xmllint)
# Last line: "N passed, M failed"; exit status 1 on any failure.
#
# Copyright (C) 2026 cpm_mms authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
MOD="$TOP/modules/cpm_mms"
DOC="$TOP/doc/cpm_mms_admin.xml"
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

for f in "$MOD/cpm_mms_mod.c" "$MOD/settings.c" "$MOD/pv.c" "$MOD/rpc.c" \
		"$MOD/stats.c" "$MOD/forward.h" "$MOD/mm4_in.c" "$DOC"; do
	[ -r "$f" ] || { bad "missing file $f"; echo "$pass passed, $fail failed"; exit 1; }
done
command -v xmllint >/dev/null || { bad "xmllint not installed"; echo "$pass passed, $fail failed"; exit 1; }

# ---- the code ----

# body of a C array: from the line matching $2 to the next line "};"
c_block() {
	awk -v start="$2" 'index($0, start) { on = 1; next } on && /^};/ { exit } on' "$1"
}
# one line per "{...}," entry of a block (entries may be wrapped)
join_entries() {
	awk '/^[[:space:]]*\/\*.*\*\/[[:space:]]*$/ { next }
		/^[[:space:]]*\{/ { if (e != "") print e; e = $0; next }
		e != "" { sub(/^[[:space:]]+/, " "); e = e $0; next }
		{ print }
		END { if (e != "") print e }'
}
# first string literal of each "{"..." line of a block
c_names() {
	sed -n 's/^[[:space:]]*{[[:space:]]*"\([^"]*\)".*/\1/p' | sort -u
}

code_params=$(c_block "$MOD/cpm_mms_mod.c" "param_export_t params[]" | c_names)
code_cmds=$(c_block "$MOD/cpm_mms_mod.c" "cmd_export_t cmds[]" | c_names)
# RPC commands are documented by their name without the "cpm_mms." prefix
code_rpcs=$(c_block "$MOD/rpc.c" "rpc_export_t cpm_mms_rpc_cmds[]" | c_names \
	| sed 's/^cpm_mms\.//')
code_stats=$( { c_block "$MOD/stats.c" "cpm_cnt_def[CPM_ST_COUNT]" | c_names;
	grep -o 'counter_register([^,]*, *"cpm_mms", *"[A-Za-z0-9_]*"' "$MOD/stats.c" \
		| sed 's/.*"cpm_mms", *"\([^"]*\)"$/\1/'; } | sort -u)
code_pvs=$(awk '/^int pv_parse_mm4_name\(/ && !/;/ { on = 1 } on && /^}/ { exit } on' \
	"$MOD/pv.c" | sed -n 's/^[[:space:]]*{"\([a-z_]*\)", MM4_PV_.*/\1/p' | sort -u)
code_kemi=$(c_block "$MOD/cpm_mms_mod.c" "sr_kemi_t sr_kemi_cpm_mms_exports[]" \
	| sed -n 's/.*str_init("cpm_mms"), *str_init("\([^"]*\)").*/\1/p' | sort -u)
code_event=$(sed -n 's/^#define MM4_IN_EVENT "\(.*\)"/\1/p' "$MOD/mm4_in.c")
# the cfg group: "name READONLY" or "name ATOMIC" per variable
code_cfgvars=$(c_block "$MOD/settings.c" "cfg_def_t cpm_mms_cfg_def[]" \
	| sed -n 's/^[[:space:]]*{"\([a-z0-9_]*\)", *CFG_VAR_INT | CFG_\([A-Z]*\).*/\1 \2/p')

for v in code_params code_cmds code_rpcs code_stats code_pvs code_kemi code_event \
		code_cfgvars; do
	if [ -z "${!v}" ]; then
		bad "nothing extracted for $v: has the C source changed shape?"
	fi
done

# ---- the documentation ----

xp() {
	xmllint --nonet --loaddtd --noent --xpath "$1" "$DOC" 2>/dev/null
}
# ids starting with a prefix (a fixed string), without it: anywhere in the
# document / inside one section
ids_with() {
	grep -o 'id="[^"]*"' | sed 's/^id="//; s/"$//' \
		| awk -v p="$1" 'index($0, p) == 1 { print substr($0, length(p) + 1) }' | sort -u
}
ids_all() { xp "//@id" | ids_with "$1"; }
ids_in() { xp "//section[@id='$1']//@id" | ids_with "$2"; }

if ! xmllint --nonet --loaddtd --noent --noout "$DOC" 2>/dev/null; then
	bad "$DOC does not parse (xmllint --noout)"
	echo "$pass passed, $fail failed"
	exit 1
fi

# compare: kind, code list, section id, id prefix
compare() {
	local kind=$1 code=$2 sect=$3 prefix=$4 doc all n
	doc=$(ids_in "$sect" "$prefix")
	all=$(ids_all "$prefix")
	for n in $code; do
		if grep -qxF -- "$n" <<<"$doc"; then
			ok "$kind $n documented in section $sect"
		elif grep -qxF -- "$n" <<<"$all"; then
			bad "$kind $n documented outside section $sect"
		else
			bad "$kind $n is in the code but not documented (id $prefix$n)"
		fi
	done
	for n in $all; do
		case "$n" in *.*) continue ;; esac   # sub-ids such as cpm_mms.f.x.rc
		if ! grep -qxF -- "$n" <<<"$code"; then
			bad "$kind $n is documented but the code has no such $kind"
		fi
	done
}

compare parameter "$code_params" cpm_mms.parameters cpm_mms.p.
compare function "$code_cmds" cpm_mms.functions cpm_mms.f.
compare kemi "$code_kemi" cpm_mms.kemi cpm_mms.k.
compare rpc "$code_rpcs" cpm_mms.rpc cpm_mms.r.
compare counter "$code_stats" cpm_mms.statistics cpm_mms.s.
compare pv "$code_pvs" cpm_mms.pvs cpm_mms.pv.

# the visible title / term must name the same thing as the id (only for
# what is documented: the rest has failed above already)
has_id() { [ "$(xp "count(//*[@id='$1'])")" != 0 ]; }
title_of() { xp "normalize-space(//*[@id='$1']/$2)"; }
for n in $code_params; do
	has_id "cpm_mms.p.$n" || continue
	t=$(title_of "cpm_mms.p.$n" "title/varname")
	[ "$t" = "$n" ] && ok "parameter $n title" || bad "parameter $n: section title names '$t'"
done
for n in $code_rpcs; do
	has_id "cpm_mms.r.$n" || continue
	t=$(title_of "cpm_mms.r.$n" "title/function")
	[ "$t" = "cpm_mms.$n" ] && ok "rpc cpm_mms.$n title" || bad "rpc cpm_mms.$n: section title names '$t'"
done
for n in $code_stats; do
	has_id "cpm_mms.s.$n" || continue
	t=$(title_of "cpm_mms.s.$n" "term")
	[ "$t" = "$n" ] && ok "counter $n term" || bad "counter $n: entry names '$t'"
done
for n in $code_pvs; do
	has_id "cpm_mms.pv.$n" || continue
	t=$(title_of "cpm_mms.pv.$n" "term")
	[ "$t" = "\$mm4($n)" ] && ok "pv $n term" || bad "pv $n: entry names '$t'"
done
for n in $code_cmds; do
	has_id "cpm_mms.f.$n" || continue
	t=$(title_of "cpm_mms.f.$n" "title/function")
	case "$t" in "$n("*) ok "function $n title" ;; *) bad "function $n: section title names '$t'" ;; esac
done
for n in $code_kemi; do
	has_id "cpm_mms.k.$n" || continue
	t=$(title_of "cpm_mms.k.$n" "title/function")
	case "$t" in "KSR.cpm_mms.$n("*) ok "kemi $n title" ;; *) bad "kemi $n: section title names '$t'" ;; esac
done

# ---- parameter types and defaults against the C initialisers ----
# (a modparam of another type beside a typed one, such as timeout_reply's
# quoted form, is an alias: the typed entry is the documented one)
typed_params=$(c_block "$MOD/cpm_mms_mod.c" "param_export_t params[]" | join_entries \
	| sed -n 's/^[[:space:]]*{"\([^"]*\)", *PARAM_\(INT\|STRING\), *&.*/\1/p')
while read -r name type var; do
	[ -n "$name" ] || continue
	case "$type" in *USE_FUNC*)
		grep -qxF -- "$name" <<<"$typed_params" && continue ;;
	esac
	has_id "cpm_mms.p.$name" || continue
	dtitle=$(title_of "cpm_mms.p.$name" "title")
	dtype=$(sed -n 's/.*(\(int\|str\))$/\1/p' <<<"$dtitle")
	case "$type" in
	*PARAM_INT*) want=int ;;
	*) want=str ;;
	esac
	[ "$dtype" = "$want" ] && ok "parameter $name type $want" \
		|| bad "parameter $name: documented type '$dtype', code says $want"
	def=$(xp "normalize-space(//section[@id='cpm_mms.p.$name']/para[starts-with(normalize-space(.), 'Default value is')])")
	case "$var" in
	'&default_cpm_mms_cfg.'*|'&cpm_fixed.'*)
		var=${var#*.}
		# the designated initialiser ".name = value," in settings.c
		init=$(awk -v v="$var" '/^(struct cfg_group_cpm_mms default_cpm_mms_cfg|cpm_fixed_settings cpm_fixed) = \{/ { on = 1; next }
				on && /^};/ { on = 0 }
				on { l = $0; sub(/^[[:space:]]*/, "", l)
					if (index(l, "." v " = ") == 1) { sub(/^[^=]*= /, "", l); sub(/,$/, "", l); print l } }' \
				"$MOD/settings.c")
		if [ -z "$init" ]; then
			bad "parameter $name: no initialiser of $var found"
		elif [ "$init" = '""' ]; then
			case "$def" in "Default value is empty"*) ok "parameter $name default empty" ;;
			*) bad "parameter $name: code default is empty, doc says '$def'" ;; esac
		else
			case "$want" in
			int) expect="Default value is $init" ;;
			*) expect="Default value is $init" ;;
			esac
			case "$def" in "$expect"[\ .]*|"$expect") ok "parameter $name default $init" ;;
			*) bad "parameter $name: code default $init, doc says '$def'" ;; esac
		fi
		;;
	*)	# function parameter (static_route): no initialiser to compare
		case "$def" in "Default value is"*) ok "parameter $name default stated" ;;
		*) bad "parameter $name: no default stated" ;; esac
		;;
	esac
done < <(c_block "$MOD/cpm_mms_mod.c" "param_export_t params[]" | join_entries \
	| sed -n 's/^[[:space:]]*{"\([^"]*\)", *\([^,]*\), *\(.*\)},[[:space:]]*$/\1 \2 \3/p' \
	| sed 's/ (void \*)/ /; s/ | /|/g' | awk '{ print $1, $2, $3 }')

# ---- return codes: forward.h (cpm_mms_forward), report.h (cpm_mms_report) ----
check_rc() {
	local hdr=$1 pfx=$2 table=$3 rc_doc sym val
	if [ ! -r "$MOD/$hdr" ]; then
		bad "missing $MOD/$hdr"
		return
	fi
	rc_doc=$(xp "string(//table[@id='$table'])")
	while read -r sym val; do
		[ -n "$sym" ] || continue
		if grep -qF -- "$val ($sym)" <<<"$rc_doc"; then
			ok "return code $val ($sym) documented"
		else
			bad "return code $val ($sym) of $hdr missing from table $table"
		fi
	done < <(sed -n "s/^#define \(${pfx}[A-Z0-9_]*\) \(-\{0,1\}[0-9][0-9]*\).*/\1 \2/p" "$MOD/$hdr")
	for sym in $(grep -o "${pfx}[A-Z0-9_]*" <<<"$rc_doc" | sort -u); do
		grep -q "^#define $sym " "$MOD/$hdr" \
			|| bad "return code $sym is documented but $hdr has no such code"
	done
}
check_rc forward.h CPM_FWD_ cpm_mms.f.cpm_mms_forward.rc
check_rc report.h CPM_RPT_ cpm_mms.f.cpm_mms_report.rc

# ---- cpm_mms.config: every field the RPC shows is named in its section ----
# (the names of rpc_config(): a line that starts with "name", and the
# arrays added as struct_add(h, "[", "name", ...))
cfg_fields=$(awk '/^static void rpc_config\(/ { on = 1 } on && /^}/ { exit } on' \
	"$MOD/rpc.c" | sed -n -e 's/^[[:space:]]*"\([a-z][a-z0-9_]*\)",.*/\1/p' \
		-e 's/.*struct_add([^,]*, *"\[", *"\([a-z][a-z0-9_]*\)".*/\1/p' | sort -u)
if [ -z "$cfg_fields" ]; then
	bad "nothing extracted from rpc_config(): has the C source changed shape?"
fi
cfg_doc=$(xp "string(//section[@id='cpm_mms.r.config'])")
for n in $cfg_fields; do
	if grep -qw -- "$n" <<<"$cfg_doc"; then
		ok "cpm_mms.config field $n documented"
	else
		bad "cpm_mms.config shows $n but section cpm_mms.r.config does not name it"
	fi
done

# ---- the cfg group: each variable a parameter; its section says how it
# changes at runtime (cfg.set cpm_mms NAME) or that it is fixed ----
while read -r n mode; do
	[ -n "$n" ] || continue
	if ! grep -qxF -- "$n" <<<"$code_params"; then
		bad "cfg variable $n is not a module parameter"
		continue
	fi
	has_id "cpm_mms.p.$n" || continue
	text=$(xp "normalize-space(//section[@id='cpm_mms.p.$n'])")
	case "$mode" in
	ATOMIC)
		grep -qF "cfg.set cpm_mms $n " <<<"$text" && ok "cfg $n: runtime change documented" \
			|| bad "cfg $n can change at runtime but its section has no 'cfg.set cpm_mms $n ...'" ;;
	READONLY)
		grep -qi "fixed at start-up" <<<"$text" && ok "cfg $n: read-only documented" \
			|| bad "cfg $n is read-only but its section does not say 'fixed at start-up'" ;;
	*) bad "cfg $n: unknown mode $mode" ;;
	esac
done <<<"$code_cfgvars"
cfg_runtime_doc=$(xp "string(//section[@id='cpm_mms.runtime'])")
[ -n "$cfg_runtime_doc" ] && ok "section cpm_mms.runtime present" \
	|| bad "no section cpm_mms.runtime (settings at runtime)"

# ---- event route ----
ev=$(xp "string(//section[@id='cpm_mms.events'])")
if [ -n "$code_event" ] && grep -qF "event_route[$code_event]" <<<"$ev"; then
	ok "event route $code_event documented in section cpm_mms.events"
else
	bad "event route '$code_event' not documented in section cpm_mms.events"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
