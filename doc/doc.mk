# cpm_mms - module documentation (DocBook) -> modules/cpm_mms/README
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Included from the top Makefile (include doc/doc.mk), or used as
#   make -f Makefile -f doc/doc.mk docs docs-check
#
#   make docs         validate the DocBook (well-formed, XInclude, DTD with
#                     Debian's docbook-xml catalog, offline) and render
#                     modules/cpm_mms/README as plain text; any warning of
#                     xmllint, xsltproc or w3m fails the build
#   make docs-check   test/docs/check_docs.sh: the docs list exactly the
#                     parameters, functions, RPC commands, counters and
#                     $mm4() names of the code
#
# Tools (Debian packages, in scripts/deps.sh): libxml2-utils (xmllint),
# xsltproc, docbook-xml, docbook-xsl, w3m.

DOC_DIR := doc
DOC_BOOK := $(DOC_DIR)/cpm_mms.xml
DOC_SRC := $(DOC_BOOK) $(DOC_DIR)/cpm_mms_admin.xml $(DOC_DIR)/entities.xml
DOC_XSL := $(DOC_DIR)/readme.xsl
DOC_README := modules/cpm_mms/README
DOC_OUT := build/doc
# README width: the mapping tables need about 100 columns
DOC_COLS ?= 100
DOC_XMLLINT ?= xmllint
DOC_XSLTPROC ?= xsltproc
DOC_W3M ?= w3m

.PHONY: docs docs-validate docs-check docs-tools

docs: docs-validate $(DOC_README)

docs-tools:
	@for t in $(DOC_XMLLINT) $(DOC_XSLTPROC) $(DOC_W3M); do \
		command -v $$t >/dev/null 2>&1 || { \
			echo "docs: $$t is not installed (make deps)"; exit 1; }; \
	done; \
	test -f /usr/share/xml/docbook/stylesheet/docbook-xsl/html/docbook.xsl \
		|| { echo "docs: docbook-xsl is not installed (make deps)"; exit 1; }; \
	test -d /usr/share/xml/docbook/schema/dtd/4.4 \
		|| { echo "docs: docbook-xml (DTD 4.4) is not installed (make deps)"; exit 1; }

# --nonet: the DocBook DTD comes from the system catalog, never the network
docs-validate: docs-tools
	@mkdir -p $(DOC_OUT)
	@$(DOC_XMLLINT) --nonet --noout --xinclude --postvalid $(DOC_BOOK) \
		>$(DOC_OUT)/xmllint.log 2>&1; rc=$$?; \
	if [ $$rc -ne 0 ] || [ -s $(DOC_OUT)/xmllint.log ]; then \
		cat $(DOC_OUT)/xmllint.log; echo "docs: $(DOC_BOOK) is not valid DocBook"; \
		exit 1; fi
	@echo "docs: $(DOC_BOOK) is valid DocBook 4.4"

$(DOC_README): $(DOC_SRC) $(DOC_XSL) $(DOC_DIR)/doc.mk
	@mkdir -p $(DOC_OUT)
	@$(DOC_XSLTPROC) --nonet --xinclude -o $(DOC_OUT)/cpm_mms.html $(DOC_XSL) \
		$(DOC_BOOK) >$(DOC_OUT)/xsltproc.log 2>&1; rc=$$?; \
	if [ $$rc -ne 0 ] || [ -s $(DOC_OUT)/xsltproc.log ]; then \
		cat $(DOC_OUT)/xsltproc.log; echo "docs: xsltproc failed or warned"; \
		exit 1; fi
	@bad=$$(sed 's/\xc2\xa0/ /g' $(DOC_OUT)/cpm_mms.html \
		| LC_ALL=C grep -o '.\{0,30\}[^[:print:][:space:]][^[:print:][:space:]]*.\{0,30\}' \
		| head -5); \
	if [ -n "$$bad" ]; then echo "$$bad"; \
		echo "docs: non-ASCII characters would not survive the US-ASCII README"; \
		exit 1; fi
	@$(DOC_W3M) -dump -T text/html -cols $(DOC_COLS) -O US-ASCII \
		$(DOC_OUT)/cpm_mms.html 2>$(DOC_OUT)/w3m.log \
		| sed 's/[[:space:]]*$$//' >$(DOC_OUT)/README.tmp; \
	if [ -s $(DOC_OUT)/w3m.log ] || [ ! -s $(DOC_OUT)/README.tmp ]; then \
		cat $(DOC_OUT)/w3m.log; echo "docs: w3m failed"; exit 1; fi
	@mv $(DOC_OUT)/README.tmp $@
	@echo "docs: $@ rendered ($$(wc -l <$@) lines)"

docs-check:
	bash test/docs/check_docs.sh
