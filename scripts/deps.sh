#!/bin/sh
# Install the Debian packages cpm_mms needs to build and test, and fetch the
# Kamailio source matching the installed kamailio package (headers only).
# Idempotent: does nothing slow when everything is already present.
set -eu
PKGS="kamailio kamailio-utils-modules kamailio-sqlite-modules kamailio-lua-modules \
libesmtp-dev libldns-dev zlib1g-dev ldnsutils sip-tester sipsak swaks python3-aiosmtpd \
dpkg-dev build-essential pkg-config libcmocka-dev iproute2 valgrind clang \
libclang-rt-14-dev xsltproc docbook-xsl docbook-xml libxml2-utils w3m sqlite3 \
procps util-linux binutils linphone-cli python3-pytest"
SRCDIR=${KAMAILIO_SRC:-$(cd "$(dirname "$0")/.." && pwd)/.kamailio-src}

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' \
		|| missing="$missing $p"
done
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
updated=0
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	$SUDO apt-get update -qq || true
	updated=1
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# kamailio is installed but never started as a system service by us.
if command -v systemctl >/dev/null 2>&1; then
	$SUDO systemctl stop kamailio >/dev/null 2>&1 || true
fi

kver=$(dpkg-query -W -f='${Version}' kamailio)
upver=${kver%%-*}
upver=${upver#*:}
if [ -f "$SRCDIR/.version" ] && [ "$(cat "$SRCDIR/.version")" = "$kver" ] \
		&& [ -f "$SRCDIR/src/core/sr_module.h" ]; then
	exit 0
fi
if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "deps: adding a bookworm deb-src entry"
	cat <<'SRC' | $SUDO tee /etc/apt/sources.list.d/cpm-mms-deb-src.sources >/dev/null
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	updated=0
fi
[ "$updated" = 1 ] || $SUDO apt-get update -qq || true
tmp=$(mktemp -d)
(cd "$tmp" && apt-get source --download-only "kamailio=$kver" >/dev/null)
rm -rf "$SRCDIR"
mkdir -p "$SRCDIR"
tar -xf "$tmp"/kamailio_"$upver"*.orig.tar.* -C "$SRCDIR" --strip-components=1
rm -rf "$tmp"
echo "$kver" > "$SRCDIR/.version"
echo "deps: kamailio $kver source in $SRCDIR"
