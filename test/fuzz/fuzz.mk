# cpm_mms - libFuzzer harnesses of the pure layers
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Included by the top Makefile (uses its MOD_DIR, PURE_SRC, MOD_HDR).
#   make fuzz-build     build build/fuzz/fuzz_<name>
#   make fuzz           run each harness FUZZ_SECONDS (60) in turn
#   make fuzz-ci        run each harness FUZZ_CI_SECONDS (20) in turn
#   make fuzz-corpus    replay the seed corpora only (a few seconds)
# Runs work on a copy of the corpus in build/fuzz/corpus-<name>: new
# inputs never land in the repository by themselves. Crashes, leaks and
# timeouts are kept as build/fuzz/<name>-crash-* (etc.) and fail the run;
# execs per harness go to build/fuzz/report.txt.
# Replay one input:  build/fuzz/fuzz_NAME FILE
# Minimise it:       build/fuzz/fuzz_NAME -minimize_crash=1 -runs=20000 FILE
# Seeds (rewrite):   python3 test/fuzz/mkcorpus.py

FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -I$(MOD_DIR)
FUZZ_NAMES := cpim mm4 smtp e164 mapping imdn mm4_in content_coding xml_scan
FUZZ_BINS := $(addprefix build/fuzz/fuzz_,$(FUZZ_NAMES))
FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 20

build/fuzz/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/fuzz_common.h \
		$(addprefix $(MOD_DIR)/,$(PURE_SRC)) $(MOD_HDR)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(addprefix $(MOD_DIR)/,$(PURE_SRC)) -lz

.PHONY: fuzz-build fuzz fuzz-ci fuzz-corpus

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	bash test/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-ci: $(FUZZ_BINS)
	bash test/fuzz/run.sh $(FUZZ_CI_SECONDS) $(FUZZ_NAMES)

fuzz-corpus: $(FUZZ_BINS)
	bash test/fuzz/run.sh 0 $(FUZZ_NAMES)
