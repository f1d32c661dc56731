#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Independent MM4 peer MMSC for the cpm_mms end-to-end tests.

Written from the specs only (3GPP TS 23.140 MM4 digest in the project's spec
folder), with the Python standard library ``email`` package and aiosmtpd.  It
shares no code with the module under test.

Server mode (default)
    mm4_peer.py --listen 127.0.0.2:25 --res-to 127.0.0.1:2526 \
                --domain mms.peer.test [--iwf-domain mms.iwf.test] \
                --log peer.jsonl [--behaviour behaviour.json] [--pidfile F]

    Accepts MM4 mails by SMTP.  Every received mail is checked against
    MM4_forward.REQ rules (Table 1 of CPM_MMS_MAPPING.md, MM4.md §3.1) and
    logged as one JSON object per line ({"event": "mail", ...}).  Check
    failures are recorded in the log ("failures"), never fatal.  If the mail
    asks for it (X-Mms-Ack-Request: Yes) an MM4_forward.RES is sent as a
    separate SMTP mail to --res-to; the outcome is logged as a second line
    ({"event": "res", "seq": <mail seq>, ...}).

    The behaviour file (JSON, re-read whenever it changes) maps a recipient
    E.164 number ("+4710000002") to an action; "*" is the default:
        {"status": "Error-service-denied", "status_text": "..."}
        {"no_res": true}                  accept, never answer
        {"delay": 4.5}                    answer (default Ok) after 4.5 s
        {"repeat": 2}                     send the same RES twice
        {"smtp": "rcpt", "code": 550}     reject that RCPT TO
        {"smtp": "data", "code": 554}     reject at the end of DATA
        {"data_delay": 1.5}               a slow MMSC: wait 1.5 s before
                                          answering the end of DATA
        {"close_after": true}             close the connection right after
                                          the 250 to the end of DATA (an MMSC
                                          with a short idle limit)
        {"res_message_id": "\"id@peer\""} the MM4_forward.RES carries this
                                          X-Mms-Message-ID (verbatim) instead
                                          of the REQ's: an MMSC that assigns
                                          its own id (send-report --message-id
                                          then reports with it)
        {"smtp": "mail", "code": 421}     reject MAIL FROM; for this stage the
                                          key is the *originator's* number
                                          (MAIL FROM), since no recipient is
                                          known yet
    --chunking offers CHUNKING (RFC 3030) in the EHLO reply and takes BDAT
    (the mail's log record then has "chunks": how many BDAT commands it came
    in; aiosmtpd has no BDAT of its own, smtp_BDAT below is ours).

    Keys can be combined ({"status": ..., "delay": ...}); "text" sets the
    SMTP reply text.  Default: {"status": "Ok"}.  With several recipients the
    first recipient with a non-default behaviour decides.

    Mails that are not MM4_forward.REQs are logged under their own event:
    {"event": "rx_res", ...} for a received MM4_forward.RES /
    MM4_delivery_report.RES / MM4_read_reply_report.RES and
    {"event": "rx_report", ...} for a received MM4_delivery_report.REQ /
    MM4_read_reply_report.REQ, with the same fields as "mail" (headers, hdr,
    raw, failures from the checks of MM4.md 3.2-3.6) plus "tid_raw", the
    X-Mms-Transaction-ID value exactly as it was on the wire.  A report REQ
    with X-Mms-Ack-Request: Yes is answered with its RES (status Ok, or the
    "report_status" of the behaviour of its recipient number) like a
    forward REQ.

send-req / send-report mode (the peer as the requester)
    mm4_peer.py send-req --to 127.0.0.1:2526 --rcpt +4730000001/TYPE=PLMN@mms.iwf.test \
                [--from ADDR] [--tid RAW] [--message-id RAW] [--subject TEXT] ...
    mm4_peer.py send-report --type dr|rr --to 127.0.0.1:2526 --message-id RAW \
                --from RECIPIENT --to-hdr ORIGINATOR [--status Retrieved] ...
    Builds an MM4_forward.REQ (resp. MM4_delivery_report.REQ /
    MM4_read_reply_report.REQ) with the email package and sends it by SMTP
    (optionally from --bind IP).  --raw FILE sends the bytes of FILE as they
    are (quirk vectors; envelope from --mail-from / --rcpt, else from the
    file's From / To).  See --help of each for the options.  Prints one JSON
    line per mail ({"ok", "stage", "code", "reply", "rcpt_replies", "tid",
    "message_id", ...}); exit status 0 only if every mail was accepted (250
    after DATA).

send-res mode
    mm4_peer.py send-res --to 127.0.0.1:2526 --tid '"abc"' --status Ok \
                [--message-id X] [--status-text T] [--rcpt ADDR] [--domain D]
    Sends one MM4_forward.RES (for forged/unknown transaction ids).  The tid
    is used byte for byte.  Exit status 0 if the SMTP server accepted it.

BDAT as the requester
    With MM4_PEER_BDAT=N in the environment every mail this program sends
    (send-req, send-report, send-res and the server's RESs) goes in BDAT
    chunks of N bytes where the server offers CHUNKING (the result or log
    line then has "bdat": true), else with DATA ("bdat": false).
"""

import argparse
import asyncio
import base64
import binascii
import datetime
import email
import email.header
import email.message
import email.policy
import email.utils
import hashlib
import json
import os
import quopri
import random
import re
import signal
import smtplib
import string
import sys
import threading
import time
import traceback

MMS_VERSION = "6.16.0"

PLMN_RE = re.compile(r"^\+(\d{1,15})/TYPE=PLMN@([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
                     r"|\[(?:IPv6:)?[0-9A-Fa-f:.]+\])$")
NUMBER_RE = re.compile(r"(\+?\d{3,20})/TYPE=PLMN", re.I)
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
MSGID_RE = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")

SINGLETON_HEADERS = (
    "from", "to", "cc", "date", "subject", "message-id", "sender",
    "mime-version", "content-type", "content-transfer-encoding",
    "x-mms-3gpp-mms-version", "x-mms-message-type", "x-mms-transaction-id",
    "x-mms-message-id", "x-mms-ack-request", "x-mms-originator-system",
    "x-mms-expiry", "x-mms-delivery-report", "x-mms-read-reply",
    "x-mms-priority", "x-mms-sender-visibility", "x-mms-forward-counter",
    "x-mms-message-class",
)

ENUM_VALUES = {
    "x-mms-priority": ("Low", "Normal", "High"),
    "x-mms-sender-visibility": ("Hide", "Show"),
    "x-mms-message-class": ("Personal", "Advertisement", "Informational", "Auto"),
    "x-mms-delivery-report": ("Yes", "No"),
    "x-mms-read-reply": ("Yes", "No"),
    "x-mms-originator-r/s-delivery-report": ("Yes", "No"),
}

RES_TYPES = ["MM4_forward.RES", "MM4_delivery_report.RES", "MM4_read_reply_report.RES"]
REPORT_TYPES = ["MM4_delivery_report.REQ", "MM4_read_reply_report.REQ"]
RES_TYPES_L = [t.lower() for t in RES_TYPES]
REPORT_TYPES_L = [t.lower() for t in REPORT_TYPES]
REQUEST_STATUS = (
    "Ok", "Error-unspecified", "Error-service-denied", "Error-message-format-corrupt",
    "Error-sending-address-unresolved", "Error-message-not-found", "Error-network-problem",
    "Error-content-not-accepted", "Error-unsupported-message",
    "Error-transient-failure", "Error-transient-sending-address-unresolved",
    "Error-transient-message-not-found", "Error-transient-network-problem",
    "Error-transient-partial-success", "Error-permanent-failure",
    "Error-permanent-service-denied", "Error-permanent-message-format-corrupt",
    "Error-permanent-sending-address-unresolved", "Error-permanent-message-not-found",
    "Error-permanent-content-not-accepted",
    "Error-permanent-reply-charging-limitations-not-met",
    "Error-permanent-reply-charging-request-not-accepted",
    "Error-permanent-reply-charging-forwarding-denied",
    "Error-permanent-reply-charging-not-supported",
    "Error-permanent-address-hiding-not-supported", "Error-permanent-lack-of-prepaid",
)
MM_STATUS = ("Expired", "Retrieved", "Rejected", "Deferred", "Unrecognised",
             "Indeterminate", "Forwarded", "Unreachable")
READ_STATUS = ("Read", "Deleted without being read")

RES_TYPE = {
    "mm4_forward.req": "MM4_forward.RES",
    "mm4_delivery_report.req": "MM4_delivery_report.RES",
    "mm4_read_reply_report.req": "MM4_read_reply_report.RES",
}


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def hostport(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected ip:port, got %r" % s)
    return host.strip("[]"), int(port)


def strip_angle(addr):
    addr = (addr or "").strip()
    if addr.startswith("<") and addr.endswith(">"):
        addr = addr[1:-1]
    return addr


def number_of(addr):
    """'+4710000002/TYPE=PLMN@x' -> '+4710000002' (None if not PLMN)."""
    m = NUMBER_RE.search(addr or "")
    if not m:
        return None
    n = m.group(1)
    return n if n.startswith("+") else "+" + n


def unfold(value):
    return re.sub(r"\r?\n(?=[ \t])", "", value or "")


def decode_rfc2047(value):
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except Exception as e:  # noqa: BLE001
        return "<undecodable: %s>" % e


def safe_text(b, limit=65536):
    """bytes -> str for the JSON log (lossless for UTF-8, else escaped)."""
    if b is None:
        return None
    b = b[:limit]
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("utf-8", "backslashreplace")


class JsonLog:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.fh = open(path, "a", encoding="utf-8") if path else None

    def write(self, obj):
        obj.setdefault("ts", now_iso())
        line = json.dumps(obj, ensure_ascii=False, default=repr)
        with self.lock:
            if self.fh:
                self.fh.write(line + "\n")
                self.fh.flush()
            else:
                print(line, flush=True)


class Behaviours:
    """Behaviour file, re-read when its mtime/size changes."""

    def __init__(self, path, log):
        self.path = path
        self.log = log
        self.stamp = None
        self.table = {}

    def _reload(self):
        if not self.path:
            return
        try:
            st = os.stat(self.path)
        except OSError:
            if self.stamp is not None:
                self.table, self.stamp = {}, None
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self.stamp:
            return
        try:
            with open(self.path, encoding="utf-8") as f:
                table = json.load(f)
            if not isinstance(table, dict):
                raise ValueError("behaviour file must hold a JSON object")
            self.table = {k: v for k, v in table.items() if isinstance(v, dict)}
            self.stamp = stamp
        except Exception as e:  # noqa: BLE001
            self.log.write({"event": "error", "where": "behaviour", "error": str(e)})

    def get(self, number):
        """Behaviour for a number; (dict, is_default)."""
        self._reload()
        if number and number in self.table:
            return self.table[number], False
        if number and number.lstrip("+") in self.table:
            return self.table[number.lstrip("+")], False
        return self.table.get("*", {"status": "Ok"}), True


def get_addresses(value):
    addrs = [a for _, a in email.utils.getaddresses([value])] if value else []
    if any(not a for a in addrs):
        # Debian's Python 3.11 getaddresses() gives '' for a domain literal
        # ("x@[192.0.2.1]", RFC 5322 3.4.1): take those apart by hand
        addrs = [m.group(1) or m.group(2) for m in
                 re.finditer(r'<([^<>]*)>|([^\s,<>"]+@\[[^\]\s]*\])', str(value))]
    return addrs


EMPTY_GROUP_RE = re.compile(r'^\s*[^:<>@",;]+:\s*;\s*$')


def check_address_list(name, value, failures, want_domain=None):
    addrs = get_addresses(value)
    # RFC 5322 3.6.3: an empty group ("undisclosed-recipients:;") when
    # every recipient is Bcc
    if not addrs and not (name == "To" and EMPTY_GROUP_RE.match(value or "")):
        failures.append("%s: no address in %r" % (name, value))
    for a in addrs:
        m = PLMN_RE.match(a)
        if not m:
            failures.append("%s: address %r is not +E164/TYPE=PLMN@domain" % (name, a))
        elif want_domain and m.group(2).lower() != want_domain.lower():
            failures.append("%s: domain %r != %r" % (name, m.group(2), want_domain))
    return addrs


def decode_part_body(part, failures, where):
    """Decode one leaf part according to its Content-Transfer-Encoding."""
    cte = (part.get("Content-Transfer-Encoding") or "7bit").strip().lower()
    raw = part.get_payload(decode=False)
    if isinstance(raw, list):
        return b""
    if isinstance(raw, str):
        raw_b = raw.encode("utf-8", "surrogateescape")
    else:
        raw_b = raw or b""
    if cte == "base64":
        compact = re.sub(rb"[ \t\r\n]", b"", raw_b)
        try:
            return base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError) as e:
            failures.append("%s: invalid base64 body (%s)" % (where, e))
            return raw_b
    if cte == "quoted-printable":
        for ln in raw_b.split(b"\n"):
            if re.search(rb"=(?![0-9A-Fa-f]{2}|\r?$)", ln):
                failures.append("%s: invalid quoted-printable escape" % where)
                break
        return quopri.decodestring(raw_b)
    if cte == "7bit":
        if any(c > 127 for c in raw_b):
            failures.append("%s: 8-bit data in a 7bit body" % where)
        return raw_b
    if cte in ("8bit", "binary"):
        return raw_b
    failures.append("%s: unknown Content-Transfer-Encoding %r" % (where, cte))
    return raw_b


def analyse(data, mail_from, rcpt_tos, iwf_domain):
    """Parse and check one mail.  Returns the log record (without event)."""
    failures = []
    rec = {}
    # ---- raw line checks (before parsing) ----
    head, sep, _ = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, _ = data.partition(b"\n\n")
    for i, ln in enumerate(data.split(b"\n")):
        ln = ln.rstrip(b"\r")
        if len(ln) > 998:
            failures.append("line %d longer than 998 octets (%d)" % (i + 1, len(ln)))
            break
    if any(c > 127 for c in head):
        failures.append("non-ASCII octets in the header section")
    if b"\r\n" in data and re.search(rb"(?<!\r)\n", data):
        failures.append("mixed bare LF and CRLF line endings")

    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    headers = []
    hdict = {}
    counts = {}
    for name, value in msg.items():
        if isinstance(value, email.header.Header):
            value = str(value)
        value = unfold(value)
        headers.append([name, value])
        key = name.lower()
        counts[key] = counts.get(key, 0) + 1
        hdict.setdefault(key, value)
    rec["headers"] = headers
    rec["hdr"] = hdict
    dups = [k for k, n in counts.items() if n > 1]
    rec["dup_headers"] = dups
    for k in dups:
        if k in SINGLETON_HEADERS:
            failures.append("header %s appears %d times" % (k, counts[k]))
    if msg.defects:
        failures.append("parser defects: %s" % ", ".join(type(d).__name__ for d in msg.defects))

    h = hdict.get
    mtype = (h("x-mms-message-type") or "").strip()
    rec["message_type"] = mtype
    rec["is_forward_req"] = mtype.lower() == "mm4_forward.req"
    if "subject" in hdict:
        rec["subject_decoded"] = decode_rfc2047(hdict["subject"])

    # ---- MM4_forward.REQ header checks ----
    if rec["is_forward_req"] and not iwf_domain:
        # no --iwf-domain: the requester's system address names its domain
        sysaddr = email.utils.parseaddr(h("x-mms-originator-system") or h("sender") or "")[1]
        iwf_domain = sysaddr.rpartition("@")[2] or None
    if rec["is_forward_req"]:
        if mtype != "MM4_forward.REQ":
            failures.append("X-Mms-Message-Type %r not spelled MM4_forward.REQ" % mtype)
        v = h("x-mms-3gpp-mms-version")
        if v is None:
            failures.append("missing X-Mms-3GPP-MMS-Version")
        elif not VERSION_RE.match(v.strip()):
            failures.append("X-Mms-3GPP-MMS-Version %r is not n.n.n" % v)
        for k, label in (("x-mms-transaction-id", "X-Mms-Transaction-ID"),
                         ("x-mms-message-id", "X-Mms-Message-ID"),
                         ("x-mms-originator-system", "X-Mms-Originator-System"),
                         ("sender", "Sender"), ("content-type", "Content-Type")):
            if not (h(k) or "").strip():
                failures.append("missing %s" % label)
        for k in ("x-mms-transaction-id", "x-mms-message-id"):
            v = (h(k) or "").strip()
            if v.startswith('"') != v.endswith('"') or (v.startswith('"') and len(v) < 3):
                failures.append("%s badly quoted: %r" % (k, v))
        if (h("x-mms-ack-request") or "").strip() != "Yes":
            failures.append("X-Mms-Ack-Request is %r, want Yes" % h("x-mms-ack-request"))
        to_addrs = []
        if h("to") is None:
            failures.append("missing To")
        else:
            to_addrs += check_address_list("To", h("to"), failures)
        if h("cc") is not None:
            to_addrs += check_address_list("Cc", h("cc"), failures)
        if h("from") is None:
            failures.append("missing From")
        else:
            check_address_list("From", h("from"), failures, iwf_domain)
        d = h("date")
        if d is None:
            failures.append("missing Date")
        else:
            try:
                dt = email.utils.parsedate_to_datetime(d)
                rec["date_epoch"] = dt.timestamp()
            except Exception:  # noqa: BLE001
                failures.append("Date %r not parseable" % d)
        exp = h("x-mms-expiry")
        if exp is not None:
            try:
                rec["expiry_epoch"] = email.utils.parsedate_to_datetime(exp).timestamp()
            except Exception:  # noqa: BLE001
                failures.append("X-Mms-Expiry %r is not an RFC 2822 date" % exp)
        for k, allowed in ENUM_VALUES.items():
            v = h(k)
            if v is not None and v.strip() not in allowed:
                failures.append("%s: %r not in %s" % (k, v, "/".join(allowed)))
        fc = h("x-mms-forward-counter")
        if fc is not None and not fc.strip().isdigit():
            failures.append("X-Mms-Forward-Counter %r is not an integer" % fc)
        for k in ("x-mms-originator-system", "sender"):
            v = h(k)
            if v:
                a = email.utils.parseaddr(v)[1]
                if "@" not in a:
                    failures.append("%s %r is not an address" % (k, v))
                elif iwf_domain and a.split("@", 1)[1].lower() != iwf_domain.lower():
                    failures.append("%s %r not in the IWF domain %s" % (k, v, iwf_domain))
        mid = h("message-id")
        if mid is None:
            failures.append("missing Message-ID")
        elif not MSGID_RE.match(mid.strip()):
            failures.append("Message-ID %r is not <left@right>" % mid)
        if (h("mime-version") or "").strip() != "1.0":
            failures.append("MIME-Version is %r, want 1.0" % h("mime-version"))
        # MM4.md 2.3: Bcc recipients are only in the envelope; logged as
        # "bcc" for the tests to check
        hdr_rcpts = {a.lower() for a in to_addrs}
        rec["bcc"] = [strip_angle(r) for r in rcpt_tos
                      if strip_angle(r).lower() not in hdr_rcpts]
        if mail_from and h("from"):
            fa = email.utils.parseaddr(h("from"))[1]
            if strip_angle(mail_from).lower() != fa.lower():
                # MM4.md 2.3: MAIL FROM is the From value (some peers use the
                # system address); record, do not fail on the system address.
                sysaddr = email.utils.parseaddr(h("sender") or "")[1]
                if strip_angle(mail_from).lower() != sysaddr.lower():
                    failures.append("MAIL FROM %r is neither From nor Sender" % mail_from)
        for k in ("x-mms-transaction-id", "x-mms-message-id", "subject"):
            v = h(k)
            if v and any(ord(c) > 127 for c in v):
                failures.append("%s not ASCII / not RFC 2047 encoded" % k)

    # ---- MM4.md 3.2-3.6: the RESs and the report REQs ----
    mt = mtype.lower()
    if mt in RES_TYPES_L or mt in REPORT_TYPES_L:
        want = (RES_TYPES + REPORT_TYPES)[(RES_TYPES_L + REPORT_TYPES_L).index(mt)]
        if mtype != want:
            failures.append("X-Mms-Message-Type %r not spelled %s" % (mtype, want))
        v = h("x-mms-3gpp-mms-version")
        if v is None or not VERSION_RE.match(v.strip()):
            failures.append("X-Mms-3GPP-MMS-Version %r is not n.n.n" % v)
        need = ["x-mms-transaction-id", "sender", "message-id", "date"]
        if mt in RES_TYPES_L:
            need += ["x-mms-request-status-code", "to"]
            if mt != "mm4_read_reply_report.res":
                need.append("x-mms-message-id")
            st = (h("x-mms-request-status-code") or "").strip()
            if st and st not in REQUEST_STATUS:
                failures.append("X-Mms-Request-Status-Code %r is not a 23.140 token" % st)
        else:
            need += ["x-mms-message-id", "to", "from"]
            if mt == "mm4_delivery_report.req":
                need.append("x-mms-mm-status-code")
                st = (h("x-mms-mm-status-code") or "").strip()
                if st and st not in MM_STATUS:
                    failures.append("X-Mms-MM-Status-Code %r unknown" % st)
            else:
                need.append("x-mms-read-status")
                st = (h("x-mms-read-status") or "").strip()
                if st and st not in READ_STATUS:
                    failures.append("X-Mms-Read-Status %r unknown" % st)
            ack = (h("x-mms-ack-request") or "").strip()
            if ack not in ("", "Yes", "No"):
                failures.append("X-Mms-Ack-Request %r not Yes/No" % ack)
            if ack == "Yes":
                need.append("x-mms-originator-system")
            for k in ("to", "from"):
                if h(k):
                    check_address_list(k.capitalize(), h(k), failures)
        for k in need:
            if not (h(k) or "").strip():
                failures.append("missing %s" % k)
        if h("date"):
            try:
                rec["date_epoch"] = email.utils.parsedate_to_datetime(h("date")).timestamp()
            except Exception:  # noqa: BLE001
                failures.append("Date %r not parseable" % h("date"))
        mid = h("message-id")
        if mid and not MSGID_RE.match(mid.strip()):
            failures.append("Message-ID %r is not <left@right>" % mid)
        for k in ("x-mms-transaction-id", "x-mms-message-id"):
            v = (h(k) or "").strip()
            if v.startswith('"') != v.endswith('"') or (v.startswith('"') and len(v) < 3):
                failures.append("%s badly quoted: %r" % (k, v))
        if data[len(head) + len(sep):].strip():
            failures.append("%s with a body" % mtype)
    # the transaction id exactly as on the wire (byte-for-byte echo checks)
    mo = re.search(rb"(?im)^X-Mms-Transaction-ID:[ \t]*((?:[^\r\n]|\r?\n[ \t])*)", head)
    rec["tid_raw"] = (mo.group(1).rstrip(b" \t\r").decode("utf-8", "backslashreplace")
                      if mo else None)

    # ---- body ----
    rec["content_type"] = h("content-type")
    rec["mime_type"] = msg.get_content_type()
    parts = []
    text_chunks = []
    for idx, part in enumerate(msg.walk()):
        ctype = part.get_content_type()
        if ctype.lower() == "message/cpim":
            failures.append("message/cpim content on MM4 (part %d)" % idx)
        if part.is_multipart():
            if ctype.startswith("multipart/") and not part.get_boundary():
                failures.append("multipart part %d without boundary" % idx)
            continue
        where = "part %d (%s)" % (idx, ctype)
        body = decode_part_body(part, failures, where)
        p = {"content_type": part.get("Content-Type"), "mime_type": ctype,
             "cte": part.get("Content-Transfer-Encoding"), "len": len(body),
             "sha256": hashlib.sha256(body).hexdigest()}
        if ctype.startswith("text/"):
            cs = part.get_content_charset() or "us-ascii"
            try:
                txt = body.decode(cs)
            except (LookupError, UnicodeDecodeError) as e:
                failures.append("%s: body does not decode as %s (%s)" % (where, cs, e))
                txt = body.decode("utf-8", "backslashreplace")
            p["charset"] = cs
            p["text"] = txt[:65536]
            text_chunks.append(txt)
            if re.search(r"(?m)^NS:\s*imdn\s*<urn:ietf:params:imdn>", txt) or \
               re.search(r"(?m)^imdn\.Message-ID:", txt):
                failures.append("%s: CPIM header block left inside the MM body" % where)
        else:
            p["bytes_b64"] = base64.b64encode(body[:4096]).decode()
        parts.append(p)
    rec["parts"] = parts
    rec["body_text"] = "\n".join(text_chunks) if text_chunks else None
    rec["body_len"] = len(data) - len(head) - len(sep)
    rec["failures"] = failures
    return rec, msg


def build_res(res_type, tid, message_id, status, status_text, sender, to):
    lines = [
        "X-Mms-3GPP-MMS-Version: %s" % MMS_VERSION,
        "X-Mms-Message-Type: %s" % res_type,
        "X-Mms-Transaction-ID: %s" % tid,
    ]
    if message_id is not None:
        lines.append("X-Mms-Message-ID: %s" % message_id)
    lines.append("X-Mms-Request-Status-Code: %s" % status)
    if status_text:
        if all(ord(c) < 128 for c in status_text):
            lines.append("X-Mms-Status-Text: %s" % status_text)
        else:
            lines.append("X-Mms-Status-Text: %s" %
                         email.header.Header(status_text, "utf-8").encode())
    domain = sender.rpartition("@")[2] or "localhost"
    rnd = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(12))
    lines += [
        "Sender: %s" % sender,
        "To: %s" % to,
        "Message-ID: <res-%d-%s@%s>" % (int(time.time()), rnd, domain),
        "Date: %s" % email.utils.formatdate(localtime=False, usegmt=True),
        "",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


def bdat_chunk_size():
    try:
        return max(0, int(os.environ.get("MM4_PEER_BDAT") or 0))
    except ValueError:
        return 0


def smtp_bdat(s, data, size):
    """The mail data in BDAT chunks of `size` bytes (RFC 3030: raw, no
    dot-stuffing); (code, text) of the first reply that is not 250, else of
    the LAST chunk."""
    chunks = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
    for i, c in enumerate(chunks):
        last = i == len(chunks) - 1
        s.putcmd("BDAT", "%d%s" % (len(c), " LAST" if last else ""))
        s.send(c)
        code, msg = s.getreply()
        if code != 250 or last:
            return code, msg
    return 0, b""


def smtp_send(host, port, helo, mail_from, rcpt, data, timeout=10.0):
    """One mail; True if it went by BDAT."""
    with smtplib.SMTP(host, port, local_hostname=helo, timeout=timeout) as s:
        size = bdat_chunk_size()
        s.ehlo()
        if size and s.has_extn("chunking"):
            code, msg = s.mail(mail_from)
            if code == 250:
                code, msg = s.rcpt(rcpt)
            if code in (250, 251):
                code, msg = smtp_bdat(s, data, size)
            if code != 250:
                raise smtplib.SMTPResponseException(code, msg)
            return True
        refused = s.sendmail(mail_from, [rcpt], data)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
        return False


class PeerHandler:
    def __init__(self, args, log, behaviours):
        self.args = args
        self.log = log
        self.beh = behaviours
        self.seq = 0
        self.tasks = set()

    def _reply(self, b, default):
        code = int(b.get("code", default))
        text = b.get("text") or {421: "Service not available", 450: "Mailbox busy",
                                 451: "Local error", 452: "Insufficient storage",
                                 550: "No such user", 551: "User not local",
                                 552: "Message size exceeds limit",
                                 553: "Mailbox name not allowed",
                                 554: "Transaction failed (policy)"}.get(code, "Rejected")
        return "%d %s" % (code, text)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        try:
            b, _ = self.beh.get(number_of(address))
            if b.get("smtp") == "mail":
                r = self._reply(b, 451)
                self.log.write({"event": "smtp_reject", "stage": "mail",
                                "mail_from": address, "reply": r})
                return r
        except Exception as e:  # noqa: BLE001
            self.log.write({"event": "error", "where": "MAIL", "error": repr(e)})
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        try:
            b, _ = self.beh.get(number_of(address))
            if b.get("smtp") == "rcpt":
                r = self._reply(b, 550)
                self.log.write({"event": "smtp_reject", "stage": "rcpt",
                                "mail_from": envelope.mail_from, "rcpt": address,
                                "reply": r})
                return r
        except Exception as e:  # noqa: BLE001
            self.log.write({"event": "error", "where": "RCPT", "error": repr(e)})
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.args.chunking:
            responses.insert(len(responses) - 1, "250-CHUNKING")
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.seq += 1
        seq = self.seq
        rec = {"event": "mail", "seq": seq,
               "remote": list(session.peer) if session.peer else None,
               "helo": session.host_name, "mail_from": envelope.mail_from,
               "rcpt_tos": list(envelope.rcpt_tos),
               "mail_options": list(envelope.mail_options or [])}
        if getattr(envelope, "bdat_chunks", 0):
            rec["chunks"] = envelope.bdat_chunks
        try:
            data = envelope.original_content
            if data is None:
                data = envelope.content
            if isinstance(data, str):
                data = data.encode("utf-8", "surrogateescape")
            rec["size"] = len(data)
            info, msg = analyse(data, envelope.mail_from, envelope.rcpt_tos,
                                self.args.iwf_domain)
            rec.update(info)
            # RFC 6152 3: 8-bit data only with BODY=8BITMIME (offered here)
            opts = [o.upper() for o in (envelope.mail_options or [])]
            if any(c > 127 for c in data) and "BODY=8BITMIME" not in opts:
                rec.setdefault("failures", []).append(
                    "8-bit data without BODY=8BITMIME (RFC 6152 3)")
            if len(data) <= 262144:
                rec["raw"] = safe_text(data, 262144)
        except Exception as e:  # noqa: BLE001
            rec.setdefault("failures", []).append("peer could not analyse mail: %r" % e)
            rec["traceback"] = traceback.format_exc()
            msg = None

        # which behaviour applies: first recipient with a non-default one
        beh, beh_key = None, None
        try:
            for r in envelope.rcpt_tos:
                n = number_of(r)
                b, is_default = self.beh.get(n)
                if not is_default:
                    beh, beh_key = b, n
                    break
            if beh is None:
                beh, _ = self.beh.get(None)
        except Exception as e:  # noqa: BLE001
            beh = {"status": "Ok"}
            rec.setdefault("failures", []).append("behaviour lookup failed: %r" % e)
        rec["behaviour"] = beh
        rec["behaviour_key"] = beh_key

        mt = (rec.get("message_type") or "").lower()
        if mt in RES_TYPES_L:
            rec["event"] = "rx_res"
        elif mt in REPORT_TYPES_L:
            rec["event"] = "rx_report"

        if beh.get("smtp") == "data":
            r = self._reply(beh, 554)
            rec["smtp_reply"] = r
            rec["res"] = None
            self.log.write(rec)
            return r

        plan = None
        try:
            plan = self._plan_res(msg, beh)
        except Exception as e:  # noqa: BLE001
            rec.setdefault("failures", []).append("cannot build RES: %r" % e)
        rec["res"] = plan and {k: v for k, v in plan.items() if k != "data"}
        rec["smtp_reply"] = "250 OK"
        if beh.get("data_delay"):
            await asyncio.sleep(float(beh["data_delay"]))
        if beh.get("close_after") and server.transport is not None:
            rec["closed_after"] = True
            # after the 250 is written: close() flushes it first
            asyncio.get_running_loop().call_soon(server.transport.close)
        self.log.write(rec)
        if plan:
            t = asyncio.get_running_loop().create_task(self._send_res(seq, plan))
            self.tasks.add(t)
            t.add_done_callback(self.tasks.discard)
        return "250 OK"

    def _plan_res(self, msg, beh):
        if msg is None:
            return None
        mtype = (msg.get("X-Mms-Message-Type") or "").strip().lower()
        res_type = RES_TYPE.get(mtype)
        if res_type is None:
            return None
        if (msg.get("X-Mms-Ack-Request") or "").strip().lower() != "yes":
            return None
        if beh.get("no_res"):
            return None
        tid = msg.get("X-Mms-Transaction-ID")
        if tid is None:
            return None
        tid = unfold(str(tid))
        mid = msg.get("X-Mms-Message-ID")
        mid = unfold(str(mid)) if mid is not None else None
        to = msg.get("X-Mms-Originator-System") or msg.get("Sender")
        to_addr = email.utils.parseaddr(unfold(str(to or "")))[1]
        if not to_addr:
            return None
        if res_type == "MM4_forward.RES":
            status = beh.get("status", "Ok")
            if beh.get("res_message_id"):
                mid = str(beh["res_message_id"])
        else:
            status = beh.get("report_status", "Ok")
        sender = "system-user@%s" % self.args.domain
        data = build_res(res_type, tid, mid, status, beh.get("status_text"),
                         sender, to_addr)
        return {"type": res_type, "tid": tid, "message_id": mid, "status": status,
                "status_text": beh.get("status_text"), "mail_from": sender,
                "rcpt": to_addr, "delay": float(beh.get("delay", 0) or 0),
                "repeat": int(beh.get("repeat", 1) or 1), "data": data}

    async def _send_res(self, seq, plan):
        loop = asyncio.get_running_loop()
        # let the 250 reach the requester before its answer starts
        await asyncio.sleep(max(plan["delay"], 0.02))
        host, port = self.args.res_to
        for i in range(max(1, plan["repeat"])):
            out = {"event": "res", "seq": seq, "n": i + 1, "type": plan["type"],
                   "tid": plan["tid"], "message_id": plan["message_id"],
                   "status": plan["status"], "to": "%s:%d" % (host, port)}
            t0 = time.monotonic()
            try:
                out["bdat"] = await loop.run_in_executor(
                    None, smtp_send, host, port, self.args.domain,
                    plan["mail_from"], plan["rcpt"], plan["data"])
                out["sent"] = True
            except Exception as e:  # noqa: BLE001
                out["sent"] = False
                out["error"] = repr(e)
            out["elapsed"] = round(time.monotonic() - t0, 3)
            self.log.write(out)


async def serve(args):
    from aiosmtpd.smtp import SMTP, MISSING  # imported late: send-res needs only smtplib

    log = JsonLog(args.log)
    beh = Behaviours(args.behaviour, log)
    handler = PeerHandler(args, log, beh)
    loop = asyncio.get_running_loop()

    def exc_handler(loop_, ctx):
        log.write({"event": "error", "where": "asyncio",
                   "error": str(ctx.get("message")), "exc": repr(ctx.get("exception"))})
    loop.set_exception_handler(exc_handler)

    class LenientSMTP(SMTP):
        # accept over-long lines so that the 998-octet check can log them
        # instead of the SMTP layer answering 500
        line_length_limit = 65536

        async def smtp_BDAT(self, arg):
            # RFC 3030; offered only with --chunking (handle_EHLO)
            if not args.chunking:
                await self.push('500 Error: command "BDAT" not recognized')
                return
            m = re.fullmatch(r"(\d{1,9})(?: +(LAST))?", (arg or "").strip(), re.I)
            if not m:
                # the chunk's end is unknown: nothing after it can be read
                await self.push("501 5.5.4 Syntax: BDAT size [LAST]")
                self.transport.close()
                return
            chunk = await self._reader.readexactly(int(m.group(1)))
            env = self.envelope
            if not env.rcpt_tos:
                await self.push("503 5.5.1 Error: need RCPT command")
                return
            env.bdat_chunks = getattr(env, "bdat_chunks", 0) + 1
            env.bdat_data = getattr(env, "bdat_data", b"") + chunk
            if len(env.bdat_data) > args.max_size:
                self._set_post_data_state()
                await self.push("552 5.3.4 Error: Too much mail data")
                return
            if not m.group(2):
                await self.push("250 2.0.0 %d octets received" % len(env.bdat_data))
                return
            env.content = env.original_content = env.bdat_data
            status = await self._call_handler_hook("DATA")
            self._set_post_data_state()
            await self.push("250 OK" if status is MISSING else status)

    def factory():
        return LenientSMTP(handler, hostname=args.domain, ident="mm4_peer (test MMSC)",
                    decode_data=False, enable_SMTPUTF8=True,
                    data_size_limit=args.max_size, timeout=60)

    host, port = args.listen
    server = await loop.create_server(factory, host=host, port=port, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    log.write({"event": "start", "listen": "%s:%d" % (host, port),
               "res_to": "%s:%d" % args.res_to, "domain": args.domain, "pid": os.getpid()})
    await stop.wait()
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), 2)
    except Exception:  # noqa: BLE001
        pass
    pending = list(handler.tasks)
    for t in pending:
        t.cancel()
    log.write({"event": "stop", "mails": handler.seq, "cancelled_res": len(pending)})
    if args.pidfile:
        try:
            os.unlink(args.pidfile)
        except OSError:
            pass


def cmd_send_res(argv):
    p = argparse.ArgumentParser(prog="mm4_peer.py send-res")
    p.add_argument("--to", type=hostport, required=True, help="ip:port of the IWF listener")
    p.add_argument("--tid", required=True, help="X-Mms-Transaction-ID value, used verbatim")
    p.add_argument("--status", default="Ok")
    p.add_argument("--status-text")
    p.add_argument("--message-id", help="X-Mms-Message-ID value (verbatim)")
    p.add_argument("--type", default="MM4_forward.RES")
    p.add_argument("--domain", default="mms.peer.test", help="own system domain")
    p.add_argument("--rcpt", default="system-user@mms.iwf.test", help="RCPT TO / To")
    a = p.parse_args(argv)
    sender = "system-user@%s" % a.domain
    mid = a.message_id if a.message_id is not None else '"forged-%d@%s"' % (time.time(), a.domain)
    data = build_res(a.type, a.tid, mid, a.status, a.status_text, sender, a.rcpt)
    try:
        smtp_send(a.to[0], a.to[1], a.domain, sender, a.rcpt, data)
    except Exception as e:  # noqa: BLE001
        print("send-res failed: %r" % e, file=sys.stderr)
        return 1
    print("send-res: sent %s tid=%s status=%s" % (a.type, a.tid, a.status))
    return 0


# ---------------------------------------------------------------------------
# the peer as the requester: send-req / send-report
# ---------------------------------------------------------------------------
def rand_token(n=12):
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def fake_jpeg(size, seed):
    """size bytes that look like a baseline JPEG (SOI, APP0 JFIF, ..., EOI)."""
    rnd = random.Random(seed)
    head = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
            b"\xff\xdb\x00\x43\x00" + bytes(rnd.randrange(1, 100) for _ in range(64)))
    size = max(size, len(head) + 4)
    return head + bytes(rnd.randrange(256) for _ in range(size - len(head) - 2)) + b"\xff\xd9"


SMIL = ('<smil><head><layout><root-layout/><region id="Image" top="0" height="70%"/>'
        '<region id="Text" top="70%" height="30%"/></layout></head><body><par dur="5000ms">'
        '@IMG@<text src="cid:text1" region="Text"/></par></body></smil>')


def build_body(msg, a):
    """MIME body of an MM4_forward.REQ (email package), by --body."""
    text = a.text
    kind = a.body
    if kind == "none":
        return
    if kind == "text":
        msg.set_content(text, subtype="plain", charset="utf-8", cte="8bit")
    elif kind == "qp":
        msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    elif kind == "base64":
        msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    elif kind in ("related", "related-image"):
        img = '<img src="cid:image1" region="Image"/>' if kind == "related-image" else ""
        msg.set_content(SMIL.replace("@IMG@", img).encode(), "application", "smil", cid="<smil1>",
                        disposition="inline", filename="pres.smil")
        msg.make_related()
        txt = email.message.EmailMessage(policy=msg.policy)
        txt.set_content(text, subtype="plain", charset="utf-8", cte="8bit")
        txt["Content-ID"] = "<text1>"
        msg.attach(txt)
        if kind == "related-image":
            msg.add_related(fake_jpeg(a.image_size, a.seed), "image", "jpeg", cid="<image1>",
                            filename="photo.jpg")
        msg.set_param("type", "application/smil")
        msg.set_param("start", "<smil1>")
        for part in msg.iter_parts():
            del part["MIME-Version"]
    elif kind in ("mixed", "oversize"):
        size = a.oversize if kind == "oversize" else a.image_size
        msg.set_content(text, subtype="plain", charset="utf-8", cte="8bit")
        msg.add_attachment(fake_jpeg(size, a.seed), "image", "jpeg", filename="photo.jpg")
        for part in msg.iter_parts():
            del part["MIME-Version"]
    elif kind == "image":
        msg.set_content(fake_jpeg(a.image_size, a.seed), "image", "jpeg", filename="photo.jpg")
    else:
        raise SystemExit("unknown --body %r" % kind)


# broken MIME, written by hand (the email package would not produce it)
BAD_BODIES = {
    "bad-noclose": ('multipart/mixed; boundary="e2e-open"',
                    "--e2e-open\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                    "no closing delimiter\r\n"),
    "bad-noboundary": ("multipart/mixed",
                       "--x\r\nContent-Type: text/plain\r\n\r\nmultipart without boundary\r\n--x--\r\n"),
    "bad-base64": ("image/jpeg", "this is *not* base64 !!!\r\n"),
}


def add_common(p):
    p.add_argument("--to", type=hostport, required=True, help="ip:port of the MM4 listener")
    p.add_argument("--bind", help="source IP address of the SMTP connection")
    p.add_argument("--helo", default="mms.peer.test")
    p.add_argument("--rcpt", action="append", default=[], help="envelope recipient (repeat)")
    p.add_argument("--mail-from", help="envelope sender (default: From address)")
    p.add_argument("--to-hdr", help="To header (default: the --rcpt addresses)")
    p.add_argument("--no-to", action="store_true", help="no To header")
    p.add_argument("--from", dest="from_", default="+4730000100/TYPE=PLMN@mms.peer.test",
                   help="From header")
    p.add_argument("--no-from", action="store_true", help="no From header")
    p.add_argument("--tid", help="X-Mms-Transaction-ID, verbatim (quotes included)")
    p.add_argument("--no-tid", action="store_true")
    p.add_argument("--message-id", help="X-Mms-Message-ID, verbatim")
    p.add_argument("--no-message-id", action="store_true")
    p.add_argument("--version", default=MMS_VERSION, help="X-Mms-3GPP-MMS-Version")
    p.add_argument("--date", help="Date header, verbatim (default now)")
    p.add_argument("--ack", default="Yes", help="X-Mms-Ack-Request value, or none")
    p.add_argument("--originator-system", default="system-user@mms.peer.test",
                   help="X-Mms-Originator-System, or none")
    p.add_argument("--sender", default="system-user@mms.peer.test", help="Sender, or none")
    p.add_argument("--header", action="append", default=[], help='extra "Name: value" (repeat)')
    p.add_argument("--raw", help="send this file byte for byte instead of building a mail")
    p.add_argument("--count", type=int, default=1, help="send the same mail N times")
    p.add_argument("--gap", type=float, default=0.0, help="seconds between the copies")
    p.add_argument("--save", help="also write the mail to this file")
    p.add_argument("--timeout", type=float, default=10.0)


def set_hdr(msg, name, value):
    if value is not None and value.lower() != "none":
        msg[name] = value


def build_mail(a, kind):
    """EmailMessage of an MM4_forward.REQ (kind "req") or a report REQ."""
    pol = email.policy.SMTP.clone(max_line_length=78)
    msg = email.message.EmailMessage(policy=pol)
    mtype = {"req": "MM4_forward.REQ", "dr": "MM4_delivery_report.REQ",
             "rr": "MM4_read_reply_report.REQ"}[kind]
    msg["X-Mms-3GPP-MMS-Version"] = a.version
    msg["X-Mms-Message-Type"] = mtype
    if not a.no_tid:
        msg["X-Mms-Transaction-ID"] = a.tid
    if not a.no_message_id:
        msg["X-Mms-Message-ID"] = a.message_id
    if not a.no_to:
        msg["To"] = a.to_hdr if a.to_hdr is not None else ", ".join(a.rcpt)
    if getattr(a, "cc", None):
        msg["Cc"] = a.cc
    if not a.no_from:
        msg["From"] = a.from_
    msg["Date"] = a.date or email.utils.formatdate(usegmt=True)
    if kind == "req":
        if a.subject_raw is not None:
            msg["Subject"] = a.subject_raw
        elif a.subject is not None:
            msg["Subject"] = a.subject  # RFC 2047 encoded and folded by the package
        set_hdr(msg, "X-Mms-Message-Class", a.message_class)
        set_hdr(msg, "X-Mms-Priority", a.priority)
        if a.expiry_in is not None:
            msg["X-Mms-Expiry"] = email.utils.formatdate(time.time() + a.expiry_in, usegmt=True)
        set_hdr(msg, "X-Mms-Expiry", a.expiry)
        set_hdr(msg, "X-Mms-Delivery-Report", a.dr)
        set_hdr(msg, "X-Mms-Originator-R/S-Delivery-Report", a.rs_dr)
        set_hdr(msg, "X-Mms-Read-Reply", a.rr)
        set_hdr(msg, "X-Mms-Read-Report", a.read_report)
        set_hdr(msg, "X-Mms-Sender-Visibility", a.visibility)
        set_hdr(msg, "X-Mms-Forward-Counter", a.forward_counter)
    elif kind == "dr":
        set_hdr(msg, "X-Mms-MM-Status-Code", a.status)
        set_hdr(msg, "X-Mms-Forward-To-Originator-UA", a.forward_to_ua)
    else:
        set_hdr(msg, "X-Mms-Read-Status", a.status)
    if kind != "req":
        set_hdr(msg, "X-Mms-Status-Text", a.status_text)
    set_hdr(msg, "X-Mms-Ack-Request", a.ack)
    set_hdr(msg, "X-Mms-Originator-System", a.originator_system)
    set_hdr(msg, "Sender", a.sender)
    msg["Message-ID"] = "<%s-%s@%s>" % (kind, rand_token(), a.helo)
    for h in a.header:
        name, _, value = h.partition(":")
        msg[name.strip()] = value.strip()
    if kind == "req":
        if a.body in BAD_BODIES:
            ct, body = BAD_BODIES[a.body]
            msg["MIME-Version"] = "1.0"
            head = msg.as_bytes().rstrip(b"\r\n") + b"\r\nContent-Type: " + ct.encode()
            if a.body == "bad-base64":
                head += b"\r\nContent-Transfer-Encoding: base64"
            return head + b"\r\n\r\n" + body.encode()
        build_body(msg, a)
        if "MIME-Version" not in msg:
            msg["MIME-Version"] = "1.0"
    return msg.as_bytes()


def envelope_from_headers(data):
    m = email.message_from_bytes(data, policy=email.policy.compat32)
    frm = email.utils.parseaddr(unfold(str(m.get("From") or "")))[1]
    rcpts = [a for _, a in email.utils.getaddresses(
        [unfold(str(v)) for v in (m.get_all("To") or []) + (m.get_all("Cc") or [])]) if a]
    return frm, rcpts


def smtp_session(a, mail_from, rcpts, data):
    """One SMTP session; a result dict (stage / code / reply of the last step)."""
    out = {"ok": False, "stage": "connect", "code": None, "reply": None, "rcpt_replies": {}}
    src = (a.bind, 0) if a.bind else None
    s = smtplib.SMTP(timeout=a.timeout, local_hostname=a.helo, source_address=src)
    try:
        try:
            code, msg = s.connect(a.to[0], a.to[1])
        except (OSError, smtplib.SMTPException) as e:
            out.update(reply=repr(e))
            return out
        out.update(code=code, reply=safe_text(msg))
        if code != 220:   # e.g. 554 for a client that is not an MM4 peer
            return out
        out["stage"] = "ehlo"
        code, msg = s.ehlo()
        if code != 250:
            code, msg = s.helo()
        out.update(code=code, reply=safe_text(msg))
        if code != 250:
            return out
        out["stage"] = "mail"
        code, msg = s.mail(mail_from)
        out.update(code=code, reply=safe_text(msg))
        if code != 250:
            return out
        out["stage"] = "rcpt"
        good = 0
        for r in rcpts:
            code, msg = s.rcpt(r)
            out["rcpt_replies"][r] = [code, safe_text(msg)]
            out.update(code=code, reply=safe_text(msg))
            if code in (250, 251):
                good += 1
        if good == 0:
            return out
        out["stage"] = "data"
        size = bdat_chunk_size()
        out["bdat"] = bool(size and s.has_extn("chunking"))
        if out["bdat"]:
            code, msg = smtp_bdat(s, data, size)
        else:
            code, msg = s.data(data)
        out.update(code=code, reply=safe_text(msg), ok=(code == 250))
        return out
    except (OSError, smtplib.SMTPException) as e:
        out["error"] = repr(e)
        return out
    finally:
        try:
            s.quit()
        except Exception:  # noqa: BLE001
            try:
                s.close()
            except Exception:  # noqa: BLE001
                pass


def send_mails(a, data, kind):
    if a.raw:
        with open(a.raw, "rb") as f:
            data = f.read()
    hfrom, hrcpts = envelope_from_headers(data)
    mail_from = a.mail_from if a.mail_from is not None else hfrom
    rcpts = a.rcpt or hrcpts
    if a.save:
        with open(a.save, "wb") as f:
            f.write(data)
    m = email.message_from_bytes(data, policy=email.policy.compat32)
    parts = []
    for part in m.walk():
        if not part.is_multipart():
            body = part.get_payload(decode=True) or b""
            parts.append([part.get_content_type(), hashlib.sha256(body).hexdigest(), len(body)])
    ok = True
    for i in range(max(1, a.count)):
        if i and a.gap:
            time.sleep(a.gap)
        res = smtp_session(a, mail_from, rcpts, data)
        res.update(kind=kind, n=i + 1, mail_from=mail_from, rcpts=rcpts, size=len(data),
                   tid=unfold(str(m.get("X-Mms-Transaction-ID"))) if m.get("X-Mms-Transaction-ID") else None,
                   message_id=unfold(str(m.get("X-Mms-Message-ID"))) if m.get("X-Mms-Message-ID") else None,
                   sha256=hashlib.sha256(data).hexdigest(), parts=parts)
        print(json.dumps(res, ensure_ascii=False), flush=True)
        ok = ok and res["ok"]
    return 0 if ok else 1


def cmd_send_req(argv):
    p = argparse.ArgumentParser(prog="mm4_peer.py send-req",
                                description="send one MM4_forward.REQ (or a raw .eml)")
    add_common(p)
    p.add_argument("--cc", help="Cc header")
    p.add_argument("--subject", help="Subject (RFC 2047 encoded/folded when needed)")
    p.add_argument("--subject-raw", help="Subject header value, verbatim")
    p.add_argument("--dr", help="X-Mms-Delivery-Report (Yes/No)")
    p.add_argument("--rs-dr", help="X-Mms-Originator-R/S-Delivery-Report (Yes/No)")
    p.add_argument("--rr", help="X-Mms-Read-Reply (Yes/No)")
    p.add_argument("--read-report", help="X-Mms-Read-Report (the MM1 spelling; Yes/No)")
    p.add_argument("--visibility", help="X-Mms-Sender-Visibility (Hide/Show)")
    p.add_argument("--priority", help="X-Mms-Priority (Low/Normal/High)")
    p.add_argument("--expiry", help="X-Mms-Expiry, verbatim (date or relative seconds)")
    p.add_argument("--expiry-in", type=int, help="X-Mms-Expiry = now + N seconds (RFC 2822)")
    p.add_argument("--forward-counter", help="X-Mms-Forward-Counter")
    p.add_argument("--message-class", help="X-Mms-Message-Class")
    p.add_argument("--body", default="text",
                   help="text | qp | base64 | related (SMIL + text) | related-image (SMIL + "
                        "text + JPEG) | mixed (text + JPEG) | image | oversize (text + a "
                        "--oversize JPEG) | none | " + " | ".join(sorted(BAD_BODIES)))
    p.add_argument("--text", default="Hello from MMS", help="the text part")
    p.add_argument("--image-size", type=int, default=2048)
    p.add_argument("--oversize", type=int, default=80000, help="JPEG size of --body oversize")
    p.add_argument("--seed", default="e2e", help="seed of the JPEG bytes")
    a = p.parse_args(argv)
    if a.tid is None:
        a.tid = '"peer-%s"' % rand_token()
    if a.message_id is None:
        a.message_id = '"%s@mms.peer.test"' % rand_token(16)
    if a.mail_from is None and not a.raw:
        a.mail_from = email.utils.parseaddr(a.from_)[1] if not a.no_from else \
            a.sender if a.sender and a.sender.lower() != "none" else ""
    data = None if a.raw else build_mail(a, "req")
    return send_mails(a, data, "req")


def cmd_send_report(argv):
    p = argparse.ArgumentParser(prog="mm4_peer.py send-report",
                                description="send one MM4_delivery_report.REQ / "
                                            "MM4_read_reply_report.REQ")
    add_common(p)
    p.add_argument("--type", choices=("dr", "rr"), required=True,
                   help="dr = MM4_delivery_report.REQ, rr = MM4_read_reply_report.REQ")
    p.add_argument("--status", help="X-Mms-MM-Status-Code (dr, default Retrieved) / "
                                    "X-Mms-Read-Status (rr, default Read); none = omit")
    p.add_argument("--status-text", help="X-Mms-Status-Text")
    p.add_argument("--forward-to-ua", default="Yes", help="X-Mms-Forward-To-Originator-UA (dr)")
    a = p.parse_args(argv)
    if a.status is None:
        a.status = "Retrieved" if a.type == "dr" else "Read"
    if a.tid is None:
        a.tid = '"peer-%s-%s"' % (a.type, rand_token())
    if a.message_id is None and not a.no_message_id:
        raise SystemExit("send-report: --message-id is required")
    if not a.rcpt and a.to_hdr:
        a.rcpt = [email.utils.parseaddr(x)[1] for x in a.to_hdr.split(",")]
    if a.mail_from is None and not a.raw:
        a.mail_from = a.sender if a.sender and a.sender.lower() != "none" else ""
    data = None if a.raw else build_mail(a, a.type)
    return send_mails(a, data, a.type)


def main(argv):
    if argv and argv[0] == "send-res":
        return cmd_send_res(argv[1:])
    if argv and argv[0] == "send-req":
        return cmd_send_req(argv[1:])
    if argv and argv[0] == "send-report":
        return cmd_send_report(argv[1:])
    p = argparse.ArgumentParser(description="MM4 peer MMSC for e2e tests")
    p.add_argument("--listen", type=hostport, required=True)
    p.add_argument("--res-to", type=hostport, required=True)
    p.add_argument("--domain", required=True, help="own MMS system domain")
    p.add_argument("--iwf-domain", help="expected domain of From/Sender/Originator-System")
    p.add_argument("--log", help="JSON lines log file (default stdout)")
    p.add_argument("--behaviour", help="JSON behaviour file")
    p.add_argument("--pidfile")
    p.add_argument("--max-size", type=int, default=10 * 1024 * 1024)
    p.add_argument("--chunking", action="store_true",
                   help="offer CHUNKING and take BDAT (RFC 3030)")
    args = p.parse_args(argv)
    while True:
        try:
            asyncio.run(serve(args))
            return 0
        except (OSError, ValueError) as e:
            # cannot bind etc.: that is fatal
            print("mm4_peer: %r" % e, file=sys.stderr)
            return 2
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            time.sleep(0.5)  # never exit on an unexpected exception: restart


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
