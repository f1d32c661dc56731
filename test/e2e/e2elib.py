# SPDX-License-Identifier: GPL-2.0-or-later
"""Pure helpers of the cpm_mms e2e tests: no process is started here.

Filling the sipp templates, reading the MM4 peer's JSON log and the CPM
UAS's sipp message trace, the MM4_forward.REQ checks every CPM -> MMS case
shares, forged transaction ids, `kamcmd` output parsers, junk for the MM4
listener, and a catcher of SIP replies for a client that left.
"""

import base64
import email.utils
import hashlib
import json
import os
import re
import smtplib
import socket
import threading
import time

IWF_DOMAIN = "mms.iwf.test"
PEER_DOMAIN = "mms.peer.test"
SYSTEM_ADDR = "system-user@" + IWF_DOMAIN
PLMN = re.compile(r"^\+(\d+)/TYPE=PLMN@(.+)$")

# NN | behaviour | accepted SIP code(s) | case name   (number +47100000NN)
STATUS_TABLE = [
    ("01", {"status": "Ok"}, "200", "RES Ok -> 200"),
    ("02", {"status": "Error-unspecified"}, "500", "RES Error-unspecified -> 500"),
    ("03", {"status": "Error-service-denied", "status_text": "no agreement"}, "403",
     "RES Error-service-denied -> 403"),
    ("04", {"status": "Error-message-format-corrupt"}, "400|500",
     "RES Error-message-format-corrupt -> 400/500"),
    ("05", {"status": "Error-sending-address-unresolved"}, "404",
     "RES Error-sending-address-unresolved -> 404"),
    ("06", {"status": "Error-message-not-found"}, "500", "RES Error-message-not-found -> 500"),
    ("07", {"status": "Error-network-problem"}, "503", "RES Error-network-problem -> 503"),
    ("08", {"status": "Error-content-not-accepted", "status_text": "content type not supported"},
     "415", "RES Error-content-not-accepted (type) -> 415"),
    ("09", {"status": "Error-content-not-accepted",
            "status_text": "message size exceeds the maximum size"},
     "413", "RES Error-content-not-accepted (size text) -> 413"),
    ("10", {"status": "Error-unsupported-message"}, "501", "RES Error-unsupported-message -> 501"),
    ("11", {"status": "Error-transient-failure"}, "480", "RES Error-transient-failure -> 480"),
    ("12", {"status": "Error-transient-sending-address-unresolved"}, "480",
     "RES Error-transient-sending-address-unresolved -> 480"),
    ("13", {"status": "Error-transient-network-problem"}, "503",
     "RES Error-transient-network-problem -> 503"),
    ("14", {"status": "Error-transient-message-not-found"}, "480",
     "RES Error-transient-message-not-found -> 480"),
    ("15", {"status": "Error-transient-partial-success"}, "202",
     "RES Error-transient-partial-success -> 202"),
    ("16", {"status": "Error-permanent-failure"}, "500", "RES Error-permanent-failure -> 500"),
    ("17", {"status": "Error-permanent-service-denied"}, "403",
     "RES Error-permanent-service-denied -> 403"),
    ("18", {"status": "Error-permanent-sending-address-unresolved"}, "404",
     "RES Error-permanent-sending-address-unresolved -> 404"),
    ("19", {"status": "Error-permanent-content-not-accepted"}, "415",
     "RES Error-permanent-content-not-accepted -> 415"),
    ("20", {"status": "Error-permanent-message-format-corrupt"}, "400",
     "RES Error-permanent-message-format-corrupt -> 400"),
    ("21", {"status": "Error-permanent-lack-of-prepaid"}, "402",
     "RES Error-permanent-lack-of-prepaid -> 402"),
    ("22", {"status": "Error-permanent-message-not-found"}, "500",
     "RES Error-permanent-message-not-found -> 500"),
    ("23", {"status": "Error-no-such-token"}, "500", "RES unknown status token -> 500"),
    ("24", {"status": "ok"}, "200", "RES status matched case-insensitively (ok) -> 200"),
    ("25", {"status": "ERROR-SERVICE-DENIED"}, "403",
     "RES status matched case-insensitively (ERROR-SERVICE-DENIED) -> 403"),
    ("26", {"status": "Error-permanent-reply-charging-not-supported"}, "500|606",
     "RES Error-permanent-reply-charging-not-supported -> 500/606"),
    ("27", {"status": "Ok", "status_text": "Accepted for delivery"}, "200",
     "RES Ok with X-Mms-Status-Text -> 200"),
    ("28", {"status": "Error-network-problem", "status_text": "try again later"}, "503",
     "RES Error-network-problem with text -> 503"),
    ("29", {"status": "Ok", "delay": 1.0}, "200", "RES Ok after 1 s (within res_timeout) -> 200"),
    ("30", {"no_res": True}, "202", "no RES within res_timeout -> 202"),
    ("31", {"smtp": "rcpt", "code": 550}, "404", "SMTP 550 at RCPT -> 404"),
    ("32", {"smtp": "rcpt", "code": 551}, "404", "SMTP 551 at RCPT -> 404"),
    ("33", {"smtp": "rcpt", "code": 553}, "404", "SMTP 553 at RCPT -> 404"),
    ("34", {"smtp": "rcpt", "code": 552}, "413", "SMTP 552 at RCPT -> 413"),
    ("35", {"smtp": "data", "code": 552}, "413", "SMTP 552 after DATA -> 413"),
    ("36", {"smtp": "data", "code": 554}, "403", "SMTP 554 after DATA -> 403"),
    ("37", {"smtp": "rcpt", "code": 451}, "503", "SMTP 451 at RCPT -> 503"),
    ("38", {"status": "Ok"}, "503", "SMTP 421 at MAIL FROM -> 503"),
    ("39", {"smtp": "data", "code": 451}, "503", "SMTP 451 after DATA -> 503"),
    ("40", {"smtp": "rcpt", "code": 452}, "503", "SMTP 452 at RCPT -> 503"),
    ("51", {"status": "Error-permanent-address-hiding-not-supported"}, "403",
     "RES Error-permanent-address-hiding-not-supported -> 403"),
    ("52", {"smtp": "rcpt", "code": 550, "text": "5.1.1 No such user"}, "404",
     "SMTP 550 5.1.1 at RCPT -> 404"),
    ("53", {"smtp": "rcpt", "code": 550, "text": "5.7.1 Relaying denied"}, "403",
     "SMTP 550 5.7.1 at RCPT -> 403"),
    ("54", {"smtp": "data", "code": 550, "text": "5.1.1 No such user"}, "404",
     "SMTP 550 5.1.1 after DATA -> 404"),
    ("55", {"smtp": "data", "code": 550, "text": "5.7.1 Message refused by policy"}, "403",
     "SMTP 550 5.7.1 after DATA -> 403"),
    ("56", {"smtp": "rcpt", "code": 554, "text": "5.1.1 Unknown recipient"}, "404",
     "SMTP 554 5.1.1 at RCPT -> 404 (enhanced code decides)"),
    ("57", {"smtp": "rcpt", "code": 550, "text": "5.2.2 Mailbox full"}, "404",
     "SMTP 550 5.2.2 at RCPT -> 404 (other enhanced codes: reply code decides)"),
]
# the MAIL-stage reject is keyed by the originator (see mm4_peer.py)
MAIL_REJECT_FROM = "+4719999421"
# the X-Mms-Message-ID the peer's RES gives messages to +47883000201
PEER_OWN_MID = '"peer-own-201@mms.peer.test"'


def behaviour():
    """The MM4 peer's behaviour file (--behaviour): recipient -> what it does."""
    beh = {"+47100000" + nn: b for nn, b, _, _ in STATUS_TABLE}
    beh[MAIL_REJECT_FROM] = {"smtp": "mail", "code": 421}
    beh["+4710000041"] = {"smtp": "rcpt", "code": 554}
    beh["+4710000042"] = {"status": "Error-service-denied", "delay": 4.5}
    beh["+4710000043"] = {"status": "Ok", "repeat": 2}
    beh["+4710000044"] = {"status": "Ok", "delay": 2.0}
    # restart with a MESSAGE pending: the test sends the RESs itself
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
    beh["+47883000201"] = {"status": "Ok", "res_message_id": PEER_OWN_MID}
    return beh


# ---------------------------------------------------------------- fill
DEFAULTS = {
    "RURI_USER": "+4712345678",
    "FROM_USER": "+4798765432",
    "RURI": "sip:@RURI_USER@@[remote_ip]:[remote_port];user=phone",
    "TO_URI": "sip:@RURI_USER@@iwf.test;user=phone",
    "FROM_HDR": "<sip:@FROM_USER@@ims.test;user=phone>",
    "MAX_FORWARDS": "70",
    "EXTRA_HEADERS": "",
    "SIP_CT": "message/cpim",
    "CPIM_FROM": "<sip:@FROM_USER@@ims.test>",
    "CPIM_TO": "<tel:@RURI_USER@>",
    "IMDN_ID": "e2e-[pid]-[call_number]",
    "DATETIME": "2024-05-01T10:15:00.000Z",
    "DISPO": "positive-delivery, negative-delivery, display",
    "CPIM_EXTRA": "",
    "PAYLOAD_CT": "text/plain; charset=utf-8",
    "BODY": "Hello from CPM",
    "EXPECT": "200",
    "EXPECT_ALT": "",
}


IMDN_DEFAULTS = {
    "RURI": "sip:iwf@mms.iwf.test",
    "FROM_URI": "tel:+4730000001",
    "TO_URI": "tel:+4730000100",
    "IMDN_ID": "imdn-[pid]-[call_number]",
    "DATETIME": "2024-05-01T10:20:00.000Z",
    "ROUTE": "",
    "ORIG_ID": "",
    "ORIG_DATETIME": "2024-05-01T10:15:00.000Z",
    "KIND": "delivery-notification",
    "STATUS": "delivered",
    "EXPECT": "200",
    "EXPECT_ALT": "",
}


def fill(tmpl_path, out_path, vals_in, imdn=False, cpim=True):
    """Fill a sipp template (@NAME@ placeholders; values may name others).
    A line holding only an empty placeholder (or "Header: @EMPTY@") is
    dropped; cpim=False drops the @CPIM@ lines (plain body), otherwise the
    @CPIM@ prefix goes.  EXPECT may be "400|500": the last code becomes
    @EXPECT@, the others optional alternatives."""
    vals = dict(IMDN_DEFAULTS if imdn else DEFAULTS)
    for k, v in vals_in.items():
        vals[k.upper()] = str(v).replace("\\n", "\n")
    codes = [c for c in vals["EXPECT"].split("|") if c]
    vals["EXPECT"] = codes[-1]
    if codes[:-1]:
        vals["EXPECT_ALT"] = "\n".join(
            '  <recv response="%s" optional="true" next="done" timeout="15000">\n  </recv>' % c
            for c in codes[:-1])
    if not cpim and vals["SIP_CT"] == "message/cpim":
        vals["SIP_CT"] = vals["PAYLOAD_CT"]

    def expand(v, depth=0):
        if depth > 5:
            raise ValueError("placeholder loop in %r" % v)
        nv = re.sub(r"@([A-Z_]+)@", lambda mo: vals.get(mo.group(1), mo.group(0)), v)
        return nv if nv == v else expand(nv, depth + 1)

    with open(tmpl_path, encoding="utf-8") as f:
        text_ = f.read()
    text_ = re.sub(r"<!--.*?-->\n?", "", text_, flags=re.S)
    out = []
    for line in text_.split("\n"):
        stripped = line.strip()
        if stripped.startswith("@CPIM@"):
            if not cpim:
                continue
            line = line.replace("@CPIM@", "", 1)
            stripped = line.strip()
        mo = re.match(r"^(?:[A-Za-z0-9.\-]+:\s*)?@([A-Z_]+)@$", stripped)
        if mo and expand("@%s@" % mo.group(1)) == "":
            continue
        out.append(expand(line))
    res = "\n".join(out)
    left = re.findall(r"@[A-Z_]+@", res)
    if left:
        raise ValueError("unfilled placeholders: %s" % ", ".join(sorted(set(left))))
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(res)


def gone_scenario(src, dst):
    """The MESSAGE of a filled uac_message scenario, sent once (sipp -nr) by a
    client that leaves 300 ms later, without CANCEL and without waiting."""
    with open(src, encoding="utf-8") as f:
        s = f.read()
    s, n = re.subn(r'<recv response="100".*?<label id="done"/>',
                   '<pause milliseconds="300"/>', s, flags=re.S)
    s = s.replace('<send retrans="500">', '<send>')
    with open(dst, "w", encoding="utf-8") as f:
        f.write(s)
    if n != 1:
        raise ValueError("cannot make the client-gone scenario of %s" % src)


# ---------------------------------------------------------------- logs
def read_events(path, mark):
    evs = []
    try:
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f):
                if i < mark:
                    continue
                try:
                    evs.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return evs


def mails_after(path, mark):
    return [e for e in read_events(path, mark) if e.get("event") == "mail"]


def addrs(value):
    got = [a for _, a in email.utils.getaddresses([value or ""])]
    if any(not a for a in got):
        # Debian's Python 3.11 getaddresses() gives '' for a domain literal
        # ("x@[192.0.2.1]"): take those apart by hand
        got = [m.group(1) or m.group(2) for m in
               re.finditer(r'<([^<>]*)>|([^\s,<>"]+@\[[^\]\s]*\])', value or "")]
    return [a for a in got if a]


def num(addr):
    mo = PLMN.match(addr or "")
    return "+" + mo.group(1) if mo else None


def dom(addr):
    mo = PLMN.match(addr or "")
    return mo.group(2).lower() if mo else None


def date(value):
    return email.utils.parsedate_to_datetime(value).timestamp()


def text(s):
    return (s or "").replace("\r\n", "\n").strip()


def near(a, b, tol):
    return a is not None and b is not None and abs(a - b) <= tol



TRACE_SEP = re.compile(rb"^-{20,} \d{4}-\d\d-\d\d [0-9:.]+\r?\n", re.M)
TRACE_RX = re.compile(rb"^(\w+) message received \[(\d+)\] bytes :\r?\n\r?\n")


def parse_cpim(body):
    """message/cpim body -> (cpim headers dict, content headers dict, payload bytes)."""
    def block(b):
        hdrs, order = {}, []
        for ln in re.split(rb"\r?\n", b):
            if not ln:
                continue
            name, _, value = ln.decode("utf-8", "replace").partition(":")
            order.append([name.strip(), value.strip()])
            hdrs.setdefault(name.strip().lower(), value.strip())
        return hdrs, order
    parts = re.split(rb"\r?\n\r?\n", body, maxsplit=2)
    while len(parts) < 3:
        parts.append(b"")
    c, corder = block(parts[0])
    ch, _ = block(parts[1])
    return c, corder, ch, parts[2]


def payload_info(ctype, payload):
    import email
    import email.policy
    import hashlib
    info = {"content_type": ctype, "len": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest()}
    mt = (ctype or "").split(";")[0].strip().lower()
    info["mime_type"] = mt
    if mt.startswith("text/"):
        mo = re.search(r'charset="?([^";\s]+)', ctype or "", re.I)
        info["charset"] = mo.group(1).lower() if mo else None
        info["text"] = payload.decode(info["charset"] or "utf-8", "replace")
    elif mt.startswith("multipart/"):
        msg = email.message_from_bytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + payload,
                                       policy=email.policy.compat32)
        info["defects"] = [type(d).__name__ for d in msg.defects]
        parts = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            data = part.get_payload(decode=True) or b""
            pi = {"mime_type": part.get_content_type(), "len": len(data),
                  "sha256": hashlib.sha256(data).hexdigest(),
                  "cte": part.get("Content-Transfer-Encoding"), "cid": part.get("Content-ID")}
            if pi["mime_type"].startswith("text/"):
                pi["text"] = data.decode(part.get_content_charset() or "utf-8", "replace")
            parts.append(pi)
        info["parts"] = parts
    elif mt == "message/imdn+xml":
        import xml.etree.ElementTree as ET
        ns = "{urn:ietf:params:xml:ns:imdn}"
        x = {}
        try:
            root = ET.fromstring(payload)
            x["root"] = root.tag
            for k in ("message-id", "datetime", "recipient-uri", "original-recipient-uri",
                      "subject"):
                el = root.find(ns + k)
                if el is not None:
                    x[k] = (el.text or "").strip()
            for kind in ("delivery-notification", "display-notification",
                         "processing-notification"):
                el = root.find(ns + kind)
                if el is not None:
                    x["kind"] = kind
                    st = el.find(ns + "status")
                    if st is not None and len(st):
                        x["status"] = st[0].tag.replace(ns, "")
        except ET.ParseError as e:
            x["error"] = str(e)
        info["imdn"] = x
    return info


def parse_sip(raw):
    head, sep, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    first = lines[0].split(" ")
    hdrs = []
    for ln in lines[1:]:
        if ln[:1] in (" ", "\t") and hdrs:
            hdrs[-1][1] += " " + ln.strip()
            continue
        name, _, value = ln.partition(":")
        hdrs.append([name.strip(), value.strip()])
    H = {}
    for n, v in hdrs:
        H.setdefault(n.lower(), v)
    clen = int(H.get("content-length", "0").strip() or 0)
    body = rest[:clen]
    r = {"first_line": lines[0], "method": first[0], "ruri": first[1] if len(first) > 1 else "",
         "headers": hdrs, "hdr": H, "body_raw": body.decode("utf-8", "backslashreplace"),
         "body_len": len(body), "clen_ok": len(body) == clen}
    mo = re.search(r"branch=([^;\s]+)", H.get("via", ""))
    r["key"] = "%s|%s|%s" % (H.get("call-id"), H.get("cseq"), mo.group(1) if mo else "")
    ct = H.get("content-type", "")
    if ct.split(";")[0].strip().lower() == "message/cpim":
        C, corder, CH, payload = parse_cpim(body)
        r["cpim"] = C
        r["cpim_order"] = corder
        r["cpim_content"] = CH
        r["payload"] = payload_info(CH.get("content-type", ""), payload)
    else:
        r["cpim"] = {}
        r["cpim_order"] = []
        r["cpim_content"] = {}
        r["payload"] = payload_info(ct, body)
    r["is_imdn"] = r["payload"].get("mime_type") == "message/imdn+xml"
    return r



def trace_size(path):
    import os
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def log_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def events_after(path, mark, event):
    return [e for e in read_events(path, mark) if e.get("event") == event]


def unq(v):
    v = (v or "").strip()
    return v[1:-1] if len(v) >= 2 and v[0] == '"' and v[-1] == '"' else v


def iso(v):
    import datetime
    v = (v or "").strip().replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(v).timestamp()


def uri_num(uri):
    mo = re.search(r"(\+\d+)", uri or "")
    return mo.group(1) if mo else None


UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Fail(AssertionError):
    pass


def base_checks(m, rcpt, domain):
    """The checks every MM4_forward.REQ of a CPM -> MMS case passes."""
    H = m["hdr"]
    if m.get("failures"):
        raise Fail("peer check failures: %s" % "; ".join(m["failures"]))
    if not m.get("is_forward_req"):
        raise Fail("not an MM4_forward.REQ: %r" % m.get("message_type"))
    frm = addrs(H.get("from"))
    if len(frm) != 1 or dom(frm[0]) != IWF_DOMAIN:
        raise Fail("From %r is not one +E164/TYPE=PLMN@%s" % (H.get("from"), IWF_DOMAIN))
    if (m.get("mail_from") or "").lower() != frm[0].lower():
        raise Fail("MAIL FROM %r != From %r" % (m.get("mail_from"), frm[0]))
    for k in ("x-mms-originator-system", "sender"):
        a = email.utils.parseaddr(H.get(k) or "")[1]
        if a.lower() != SYSTEM_ADDR:
            raise Fail("%s is %r, want %s" % (k, H.get(k), SYSTEM_ADDR))
    mid = (H.get("message-id") or "").strip()
    if not mid.lower().endswith("@" + IWF_DOMAIN + ">"):
        raise Fail("Message-ID %r not in the IWF domain" % mid)
    if rcpt:
        want = "%s/TYPE=PLMN@%s" % (rcpt, domain or PEER_DOMAIN)
        got_rcpt = [r.strip("<>") for r in m.get("rcpt_tos", [])]
        if [r.lower() for r in got_rcpt] != [want.lower()]:
            raise Fail("RCPT TO %r, want [%r]" % (got_rcpt, want))
        got_to = addrs(H.get("to"))
        if [a.lower() for a in got_to] != [want.lower()]:
            raise Fail("To %r, want %r" % (H.get("to"), want))
    cls = H.get("x-mms-message-class")
    if cls is not None and cls.strip() != "Personal":
        raise Fail("X-Mms-Message-Class %r for a user message" % cls)


def mutate_tid(tid, one=False):
    """A transaction id of the same shape: rotate the characters of the last
    alphanumeric run (only its last character with one) within their class."""
    runs = list(re.finditer(r"[A-Za-z0-9]{4,}", tid)) or list(re.finditer(r"[A-Za-z0-9]+", tid))
    if not runs:
        return tid + "x"
    r = runs[-1]
    run = r.group(0)
    if re.fullmatch(r"[0-9]+", run):
        alpha = "0123456789"
    elif re.fullmatch(r"[0-9a-f]+", run):
        alpha = "0123456789abcdef"
    elif re.fullmatch(r"[0-9A-F]+", run):
        alpha = "0123456789ABCDEF"
    else:
        alpha = None

    def rot(c):
        if alpha:
            return alpha[(alpha.index(c) + 1) % len(alpha)]
        for a in ("0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
            if c in a:
                return a[(a.index(c) + 1) % len(a)]
        return c
    mutated = run[:-1] + rot(run[-1]) if one else "".join(rot(c) for c in run)
    return tid[:r.start()] + mutated + tid[r.end():]


def parse_shm(out):
    """`kamcmd core.shmmem` -> (used, real_used), or None."""
    vals = {}
    for line in out.splitlines():
        mo = re.match(r"\s*([a-z_]+):\s*(\d+)", line)
        if mo:
            vals[mo.group(1)] = int(mo.group(2))
    if "used" not in vals or "real_used" not in vals:
        return None
    return vals["used"], vals["real_used"]


def parse_stats(out):
    """`kamcmd cpm_mms.stats` -> {name: value}."""
    vals = {}
    for line in out.splitlines():
        mo = re.match(r"\s*([a-z_0-9]+):\s*(-?\d+)\s*$", line)
        if mo:
            vals[mo.group(1)] = int(mo.group(2))
    return vals


def sipp_codes(path):
    """The status lines of the responses sipp received (its -message_file)."""
    codes = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            data = f.read()
    except OSError:
        data = ""
    for mo in re.finditer(r"message received \[\d+\] bytes :\s*\n\s*\n?(SIP/2\.0 \d{3}[^\r\n]*)",
                          data):
        codes.append(mo.group(1)[8:].strip())
    return ", ".join(codes) if codes else "no response"


def junk(host, port):
    """Feed malformed mails and raw garbage to an SMTP listener; a summary."""
    sysaddr = "system-user@mms.peer.test"
    base = ("X-Mms-3GPP-MMS-Version: 6.16.0\r\nX-Mms-Message-Type: MM4_forward.RES\r\n"
            "Sender: %s\r\nTo: %s\r\nMessage-ID: <junk-%%d@mms.peer.test>\r\n"
            "Date: Wed, 01 May 2024 10:15:00 +0000\r\n" % (sysaddr, SYSTEM_ADDR))
    mails = [
        base + "X-Mms-Request-Status-Code: Ok\r\n\r\n",                      # no tid
        base + "X-Mms-Transaction-ID: \r\nX-Mms-Request-Status-Code: Ok\r\n\r\n",
        base + "X-Mms-Transaction-ID: \"" + "A" * 900 + "\"\r\n"
               "X-Mms-Request-Status-Code: Ok\r\n\r\n",
        base + "X-Mms-Transaction-ID: \"x\"\r\nX-Mms-Request-Status-Code: \r\n\r\n",
        base + "X-Mms-Transaction-ID: \"\r\nX-Mms-Request-Status-Code: Ok\r\n\r\n",
        "Subject: not MM4 at all\r\n\r\nhello\r\n",
        "X-Mms-Message-Type: MM4_bogus.RES\r\nX-Mms-Transaction-ID: \"y\"\r\n\r\n",
        "no header block at all, just text\r\n" + "x" * 5000 + "\r\n",
    ]
    sent, notes = 0, []
    for i, m in enumerate(mails):
        try:
            with smtplib.SMTP(host, port, local_hostname="mms.peer.test", timeout=5) as s:
                s.sendmail(sysaddr, [SYSTEM_ADDR], (m.replace("%d", str(i))).encode())
                sent += 1
        except Exception as e:  # noqa: BLE001 - the listener may refuse junk any way it likes
            notes.append("junk mail %d: %r" % (i, e))
    for raw in (b"\x00\xff\xfe garbage\r\n", b"EHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<\r\nDATA\r\n",
                b"HELO x\r\n" + b"A" * 70000 + b"\r\n", b""):
        try:
            with socket.create_connection((host, port), timeout=3) as c:
                c.settimeout(1)
                try:
                    c.recv(512)
                except OSError:
                    pass
                if raw:
                    c.sendall(raw)
                try:
                    c.recv(4096)
                except OSError:
                    pass
        except Exception as e:  # noqa: BLE001
            notes.append("junk raw: %r" % e)
    notes.append("junk: %d/%d mails accepted" % (sent, len(mails)))
    return "; ".join(notes)


class ReplyCatcher(threading.Thread):
    """Bound to 127.0.0.1:port (UDP) where a client that left used to be:
    collects the status code of every SIP response with that Call-ID; stops
    grace s after the first one (to see a duplicate) or at timeout."""

    def __init__(self, port, call_id, timeout, grace=1.0):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.call_id, self.timeout, self.grace = call_id, timeout, grace
        self.codes = []

    def run(self):
        end = time.monotonic() + self.timeout
        callid = re.compile(r"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.I | re.M)
        try:
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self.sock.settimeout(left)
                try:
                    data = self.sock.recv(65535).decode("utf-8", "replace")
                except socket.timeout:
                    break
                mo = callid.search(data)
                if not data.startswith("SIP/2.0 ") or not mo or mo.group(1) != self.call_id:
                    continue
                self.codes.append(data[8:11])
                end = min(end, time.monotonic() + self.grace)
        finally:
            self.sock.close()


def uas_requests(path, offset=0):
    """Requests the CPM UAS received whose first copy is after byte offset of
    its trace; retransmissions folded (each record gets "copies", counted
    over the whole trace)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    reqs, seen = [], {}
    pos = 0
    for mo_sep in list(TRACE_SEP.finditer(data)) + [None]:
        end = mo_sep.start() if mo_sep else len(data)
        chunk, start = data[pos:end], pos
        pos = mo_sep.end() if mo_sep else len(data)
        mo = TRACE_RX.match(chunk)
        if not mo:
            continue
        n = int(mo.group(2))
        raw = chunk[mo.end():mo.end() + n]
        if len(raw) < n or raw.startswith(b"SIP/2.0 "):
            continue
        try:
            r = parse_sip(raw)
        except Exception as e:  # noqa: BLE001
            r = {"method": "?", "ruri": "", "error": repr(e), "key": repr(raw[:80])}
        if r["key"] in seen:
            seen[r["key"]]["copies"] += 1
            continue
        r["copies"] = 1
        r["at"] = start
        seen[r["key"]] = r
        reqs.append(r)
    return [r for r in reqs if r["at"] >= offset]


def wait_for(fn, count, timeout, exact=False, settle=0.0):
    """Poll fn() (a list) until it has count items (or more), or timeout;
    with exact, wait settle seconds more (the whole timeout when count is
    0) and return what is there then."""
    deadline = time.monotonic() + timeout
    got = fn()
    while len(got) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        got = fn()
    if exact and count == 0:
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
            got = fn()
    elif exact and settle > 0:
        time.sleep(settle)
        got = fn()
    return got


def random_b64_image(size=300):
    """(base64 text in 76-column lines, sha256 of the bytes)."""
    raw = os.urandom(size)
    return base64.encodebytes(raw).decode().strip(), hashlib.sha256(raw).hexdigest()
