# cpm_mms benchmark - included from the top Makefile:
#     include bench/bench.mk
# `make bench` builds the module and the MM4 peer/generator, runs
# bench/run.sh (as root: private network namespace) and writes
# bench/results.md. Knobs: see bench/run.sh (BENCH_* environment).

BENCH_BIN := build/bench-bin/mm4bench
BENCH_CFLAGS ?= -O2 -g

$(BENCH_BIN): bench/mm4bench.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -Wall -Wextra -o $@ $<

.PHONY: bench bench-tools
bench-tools: $(BENCH_BIN)

bench: $(MOD_SO) $(BENCH_BIN)
	BENCH_CMD="make bench" MM4BENCH=$(CURDIR)/$(BENCH_BIN) bash bench/run.sh
