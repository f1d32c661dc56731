# cpm_mms - CPM <-> MMS (MM4) interworking module for Kamailio
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   make            build modules/cpm_mms/cpm_mms.so against the installed
#                   Kamailio's own source headers (fetched by 'make deps')
#   make deps       install the Debian packages and the Kamailio source
#   make test       deps + build + check-flags + unit + e2e tests
#   make run        the IWF with kamailio.cfg.sample, demo MMS peer and ENUM
#   make layers     the module's layering: pure units, no glue cycles
#   make unit       unit tests of the pure layers under ASan/UBSan
#   make fuzz       libFuzzer harnesses of the pure layers, FUZZ_SECONDS (60) each
#   make fuzz-ci    the same for FUZZ_CI_SECONDS (20) each, for CI
#   make valgrind   Kamailio with the module under valgrind memcheck
#   make interop    the IWF with a real CPM client (linphone-daemon), pytest
#   make docs       validate the DocBook and render modules/cpm_mms/README

SHELL := /bin/bash
TOP := $(CURDIR)
MOD_DIR := modules/cpm_mms
MOD_SO := $(MOD_DIR)/cpm_mms.so
KSRC ?= $(TOP)/.kamailio-src
KAMAILIO ?= /usr/sbin/kamailio

# everything about the installed Kamailio comes from 'kamailio -V'
KAM_V := $(shell $(KAMAILIO) -V 2>/dev/null)
KAM_VERSION := $(word 3,$(KAM_V))
KAM_ARCH := $(shell $(KAMAILIO) -V 2>/dev/null | sed -n 1p | tr '(/)' '   ' | awk '{print $$4}')
KAM_OS := $(shell $(KAMAILIO) -V 2>/dev/null | sed -n 1p | tr '(/)' '   ' | awk '{print $$5}')
KAM_CC := $(shell $(KAMAILIO) -V 2>/dev/null | sed -n 's/^compiled with //p')
KAM_VERSIONVAL := $(shell echo $(KAM_VERSION) | awk -F. '{printf "%d%03d%03d", $$1, $$2, $$3}')

# defines that reproduce Debian's build flags (checked by check-flags)
KAM_DEFS := -DNAME='"kamailio"' -DVERSION='"$(KAM_VERSION)"' -DARCH='"$(KAM_ARCH)"' \
	-DOS='$(KAM_OS)_' -DOS_QUOTED='"$(KAM_OS)"' -DCOMPILER='"$(KAM_CC)"' \
	-D__CPU_$(KAM_ARCH) -D__OS_$(KAM_OS) -DVERSIONVAL=$(KAM_VERSIONVAL) \
	-DPKG_MALLOC -DSHM_MMAP -DDNS_IP_HACK -DUSE_MCAST -DUSE_TCP -DDISABLE_NAGLE \
	-DHAVE_RESOLV_RES -DUSE_DNS_CACHE -DUSE_DNS_FAILOVER -DUSE_DST_BLOCKLIST \
	-DUSE_NAPTR -DWITH_XAVP -DMEM_JOIN_FREE -DF_MALLOC -DQ_MALLOC -DTLSF_MALLOC \
	-DDBG_SR_MEMORY -DUSE_TLS -DTLS_HOOKS -DUSE_CORE_STATS -DSTATISTICS \
	-DMALLOC_STATS -DUSE_SCTP -DFAST_LOCK -DADAPTIVE_WAIT -DADAPTIVE_WAIT_LOOPS=1024 \
	-DCC_GCC_LIKE_ASM -DHAVE_GETHOSTBYNAME2 -DHAVE_UNION_SEMUN -DHAVE_SCHED_YIELD \
	-DHAVE_MSG_NOSIGNAL -DHAVE_MSGHDR_MSG_CONTROL -DHAVE_ALLOCA_H -DHAVE_TIMEGM \
	-DHAVE_SCHED_SETSCHEDULER -DHAVE_IP_MREQN -DUSE_RAW_SOCKS -DHAVE_EPOLL \
	-DHAVE_SIGIO_RT -DSIGINFO64_WORKARROUND -DUSE_FUTEX -DHAVE_SELECT \
	-DKSR_PTHREAD_MUTEX_SHARED -DMOD_NAME='"cpm_mms"'

WARN := -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers
# Kamailio's own headers do not build clean at -Wextra; ours must
KAM_WARN := -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
PURE_SRC := cm_str.c cpim.c mime.c xml_scan.c resource_lists.c mm4.c e164.c mapping.c rfcdate.c \
	smtp_server.c imdn.c charset.c msg_ids.c mm4_payload.c map_flat.c \
	content_coding.c
GLUE_SRC := cpm_mms_mod.c settings.c cpm_util.c pv.c forward.c completion.c \
	mm4_queue.c workers.c pending.c enum_resolve.c smtp_client.c \
	smtp_listener.c stats.c peers.c rpc.c inbound.c mm4_res.c sip_uac.c mm4_in.c \
	store.c report.c enum_cache.c sip_body.c timers.c
MOD_SRC := $(addprefix $(MOD_DIR)/,$(PURE_SRC) $(GLUE_SRC))
MOD_HDR := $(wildcard $(MOD_DIR)/*.h)
KAM_LIBDIR ?= $(dir $(shell dpkg -L kamailio 2>/dev/null | grep '/libsrdb1.so.1$$' | head -1))
MOD_LIBS := -lesmtp -lldns -lz -L$(KAM_LIBDIR) -lsrdb1 -Wl,-rpath,$(KAM_LIBDIR)

# compile one file alone: make build/obj/forward.o
build/obj/%.o: $(MOD_DIR)/%.c $(MOD_HDR)
	@mkdir -p build/obj
	$(CC) $(CFLAGS) $(WARN) -fPIC -pthread $(KAM_DEFS) -isystem $(KSRC)/src \
		-I$(MOD_DIR) -c -o $@ $<

.PHONY: all deps check-flags layers unit e2e interop valgrind test run clean distclean

all: $(MOD_SO)

$(KSRC)/src/core/sr_module.h:
	sh scripts/deps.sh

$(MOD_SO): $(MOD_SRC) $(MOD_HDR) $(KSRC)/src/core/sr_module.h Makefile
	@test -n "$(KAM_VERSION)" || { echo "kamailio not installed: run make deps"; exit 1; }
	$(CC) $(CFLAGS) $(WARN) -Werror=implicit-function-declaration -fPIC -shared \
		-pthread $(KAM_DEFS) -isystem $(KSRC)/src -I$(MOD_DIR) -o $@ $(MOD_SRC) $(MOD_LIBS)

deps:
	sh scripts/deps.sh

# the loader compares these two strings with the running binary's
check-flags: $(MOD_SO)
	@want_v="$$($(KAMAILIO) -V | sed -n '1s/^version: //p' | sed 's/ *$$//')"; \
	want_f="$$($(KAMAILIO) -V | sed -n '2s/^flags: //p')"; \
	got_v="$$(strings $(MOD_SO) | grep -x "$$want_v" | head -1)"; \
	got_f="$$(strings $(MOD_SO) | grep '^USE_TCP' | head -1)"; \
	if [ "$$got_v" = "$$want_v" ] && [ "$$got_f" = "$$want_f" ]; then \
		echo "check-flags: ok ($$want_v)"; \
	else echo "check-flags: MISMATCH"; echo " want: $$want_v / $$want_f"; \
		echo " got:  $$got_v / $$got_f"; exit 1; fi

# ---- unit tests: pure layers, no Kamailio, ASan + UBSan ----
UNIT_CC ?= gcc
UNIT_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined $(WARN) -Werror -I$(MOD_DIR)
UNIT_BUILD ?= build/unit
UNIT_TESTS := $(patsubst test/unit/%.c,$(UNIT_BUILD)/%,$(wildcard test/unit/test_*.c))
UNIT_PURE := $(addprefix $(MOD_DIR)/,$(PURE_SRC))

$(UNIT_BUILD)/%: test/unit/%.c $(UNIT_PURE) $(MOD_HDR) $(wildcard test/unit/*.h)
	@mkdir -p $(UNIT_BUILD)
	$(UNIT_CC) $(UNIT_FLAGS) -o $@ $< $(UNIT_PURE) -lcmocka -lz

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; \
		ASAN_OPTIONS=detect_leaks=1 $$t; done

# pure units free of Kamailio, no dependency cycle among the glue units
layers:
	python3 test/layers/check_layers.py

# real Kamailio + sipp + ldns-testns + the MM4 peer, pytest; it enters its
# own network namespace (root)
e2e: $(MOD_SO)
	/usr/bin/python3 -m pytest -p no:cacheprovider -o console_output_style=classic \
		-rfE test/e2e

# linphone-daemon (Debian's liblinphone) <-> CPM core <-> IWF <-> MM4 peer;
# pytest enters its own network namespace (root)
interop: $(MOD_SO)
	/usr/bin/python3 -m pytest -p no:cacheprovider -o console_output_style=classic \
		-rfE test/interop

# the module driven in both directions under valgrind memcheck
valgrind: $(MOD_SO)
	bash test/valgrind/run.sh

test: deps
	$(MAKE) all
	$(MAKE) check-flags
	$(MAKE) layers
	$(MAKE) unit
	$(MAKE) unit UNIT_CC=clang UNIT_BUILD=build/unit-clang
	$(MAKE) fuzz-ci
	$(MAKE) docs-check
	$(MAKE) e2e
	$(MAKE) interop
	$(MAKE) valgrind

run: deps
	$(MAKE) all
	bash scripts/run-demo.sh

clean:
	rm -rf build $(MOD_SO)

distclean: clean
	rm -rf $(KSRC)

include doc/doc.mk

# ---- fuzzing: libFuzzer harnesses of the pure layers (needs clang) ----
include test/fuzz/fuzz.mk

# ---- benchmark (not part of make test) ----
include bench/bench.mk
