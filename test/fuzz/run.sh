#!/bin/bash
# cpm_mms - run the libFuzzer harnesses one after the other
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh SECONDS NAME...   fuzz each build/fuzz/fuzz_NAME for SECONDS on a
#                          copy of test/fuzz/corpus/NAME
# run.sh 0 NAME...         only replay the seed corpus
# One at a time on purpose: the build machines are small. The execs of
# each run go to build/fuzz/report.txt; any crash, leak, timeout or OOM
# makes the exit status non-zero and leaves the input as
# build/fuzz/NAME-crash-* (leak-, timeout-, oom-).
set -u
secs=$1
shift
out=build/fuzz
report=$out/report.txt
mkdir -p "$out"
: >"$report"
fail=0
for name in "$@"; do
	bin=$out/fuzz_$name
	seeds=test/fuzz/corpus/$name
	log=$out/$name.log
	opts=(-rss_limit_mb=2048 -timeout=10 -print_final_stats=1
		"-artifact_prefix=$out/$name-")
	if [ -f "test/fuzz/$name.dict" ]; then
		opts+=("-dict=test/fuzz/$name.dict")
	fi
	if [ "$secs" = 0 ]; then
		# replay only; a scratch copy so nothing is written next to the seeds
		work=$out/replay-$name
		rm -rf "$work"
		mkdir -p "$work"
		cp "$seeds"/* "$work"/
		opts+=(-runs=0)
	else
		# the work corpus keeps what earlier runs found; seeds are added
		work=$out/corpus-$name
		mkdir -p "$work"
		cp "$seeds"/* "$work"/
		opts+=("-max_total_time=$secs")
	fi
	"$bin" "${opts[@]}" "$work" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		status=ok
	else
		status="FAIL (exit $rc)"
		fail=1
	fi
	printf '%-8s %10s execs in %ss  %s\n' "$name" "${execs:-?}" "$secs" \
		"$status" | tee -a "$report"
	if [ $rc -ne 0 ]; then
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*property failed|artifact_prefix|Test unit written)' \
			"$log" | head -20
		echo "  full log: $log"
	fi
done
exit $fail
