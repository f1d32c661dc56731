#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Small helpers for test/e2e/run.sh (kept out of bash to avoid quoting games).

  fill TEMPLATE OUT [NAME=VALUE ...]
      Fill uac_message.xml.in.  Placeholders are @NAME@; values may refer to
      other placeholders.  A line that holds only an empty placeholder (or
      "Header: @EMPTY@") is dropped.  cpim=0 drops the @CPIM@ lines (plain
      body), otherwise the @CPIM@ prefix is removed.  EXPECT may be "400|500":
      the first code becomes @EXPECT@, the others optional alternatives.

  check --log F --mark N [--code C] [--rcpt +E164] [--domain D] [--no-mail]
        [--started EPOCH] [--mails N] [EXPR ...]
      Read the peer's JSON log after line N and assert things about the
      MM4_forward.REQ(s) received for one case.  Without --no-mail the generic
      Table 1 checks run first.  Every EXPR is a Python expression evaluated
      with: m (first mail record), mails, H (m's lower-case header dict), code
      (SIP final code, int), now, started, elapsed (SIP round trip, s) and the
      helpers addrs(), num(), dom(), date(), text(), near().  Prints the reason and exits 1 on failure.

  wait-mail --log F --mark N --number +E164 [--timeout S]
      Wait for a mail to that number after line N, print its
      X-Mms-Transaction-ID.

  mutate-tid VALUE
      Same shape, different random part: flips the last run of alphanumerics.

  shm FILE
      Parse `kamcmd core.shmmem` output, print "used real_used".

  sipp-codes MESSAGE_FILE
      Print the status lines of the responses sipp received.

  catch-replies --port P --call-id ID --timeout S [--grace G]
      Bind 127.0.0.1:P (UDP) where a client that left used to be and print
      the status code of every SIP response with that Call-ID that arrives,
      one per line; stop G s after the first one (to see a duplicate) or at S.
"""

import email.utils
import json
import re
import sys
import time

IWF_DOMAIN = "mms.iwf.test"
SYSTEM_ADDR = "system-user@" + IWF_DOMAIN
PLMN = re.compile(r"^\+(\d+)/TYPE=PLMN@(.+)$")


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


def cmd_fill(argv):
    tmpl_path, out_path = argv[0], argv[1]
    vals = dict(DEFAULTS)
    cpim = True
    for kv in argv[2:]:
        k, _, v = kv.partition("=")
        if k == "cpim":
            cpim = v not in ("0", "no", "")
            continue
        if k == "defaults":
            vals = dict(IMDN_DEFAULTS if v == "imdn" else DEFAULTS)
            continue
        vals[k.upper()] = v.replace("\\n", "\n")
    codes = [c for c in vals["EXPECT"].split("|") if c]
    vals["EXPECT"] = codes[-1]
    alts = [c for c in codes[:-1]]
    if alts:
        vals["EXPECT_ALT"] = "\n".join(
            '  <recv response="%s" optional="true" next="done" timeout="15000">\n  </recv>' % c
            for c in alts)
    if not cpim and vals["SIP_CT"] == "message/cpim":
        vals["SIP_CT"] = vals["PAYLOAD_CT"]

    def expand(v, depth=0):
        if depth > 5:
            raise SystemExit("placeholder loop in %r" % v)
        nv = re.sub(r"@([A-Z_]+)@", lambda mo: vals.get(mo.group(1), mo.group(0)), v)
        return nv if nv == v else expand(nv, depth + 1)

    text = open(tmpl_path, encoding="utf-8").read()
    text = re.sub(r"<!--.*?-->\n?", "", text, flags=re.S)
    out = []
    for line in text.split("\n"):
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
        raise SystemExit("unfilled placeholders: %s" % ", ".join(sorted(set(left))))
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(res)
    return 0


# ---------------------------------------------------------------- log
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


class Fail(Exception):
    pass


def base_checks(m, rcpt, domain):
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
        want = "%s/TYPE=PLMN@%s" % (rcpt, domain or "mms.peer.test")
        got_rcpt = [r.strip("<>") for r in m.get("rcpt_tos", [])]
        if [r.lower() for r in got_rcpt] != [want.lower()]:
            raise Fail("RCPT TO %r, want [%r]" % (got_rcpt, want))
        got_to = addrs(H.get("to"))
        if [a.lower() for a in got_to] != [want.lower()]:
            raise Fail("To %r, want %r" % (H.get("to"), want))
    cls = H.get("x-mms-message-class")
    if cls is not None and cls.strip() != "Personal":
        raise Fail("X-Mms-Message-Class %r for a user message" % cls)


def cmd_check(argv):
    import argparse
    p = argparse.ArgumentParser(prog="e2e_helper.py check")
    p.add_argument("--log", required=True)
    p.add_argument("--mark", type=int, default=0)
    p.add_argument("--code", type=int, default=0)
    p.add_argument("--rcpt")
    p.add_argument("--domain")
    p.add_argument("--no-mail", action="store_true")
    p.add_argument("--no-base", action="store_true")
    p.add_argument("--mails", type=int, default=1, help="expected number of REQs")
    p.add_argument("--started", type=float, default=time.time())
    p.add_argument("--wait", type=float, default=3.0)
    p.add_argument("--elapsed", type=float, default=0.0, help="SIP round trip, s")
    p.add_argument("exprs", nargs="*")
    a = p.parse_args(argv)
    try:
        if a.no_mail:
            time.sleep(0.2)
            ms = mails_after(a.log, a.mark)
            if ms:
                raise Fail("the peer received %d mail(s), expected none (To %r)"
                           % (len(ms), ms[0].get("hdr", {}).get("to")))
            return 0
        deadline = time.monotonic() + a.wait
        ms = []
        while time.monotonic() < deadline:
            ms = mails_after(a.log, a.mark)
            if len(ms) >= a.mails:
                break
            time.sleep(0.05)
        if len(ms) != a.mails:
            raise Fail("the peer received %d MM4 mail(s), expected %d" % (len(ms), a.mails))
        m = ms[0]
        if not a.no_base:
            for one in ms:
                base_checks(one, a.rcpt if a.mails == 1 else None, a.domain)
        env = {"m": m, "mails": ms, "H": m.get("hdr", {}), "code": a.code,
               "now": time.time(), "started": a.started, "elapsed": a.elapsed, "addrs": addrs,
               "num": num, "dom": dom, "date": date, "text": text, "near": near,
               "re": re, "json": json}
        for e in a.exprs:
            try:
                ok = eval(e, env)  # noqa: S307 - test expressions from run.sh
            except Exception as ex:  # noqa: BLE001
                raise Fail("%s raised %r" % (e, ex))
            if not ok:
                H = m.get("hdr", {})
                show = {k: H.get(k) for k in re.findall(r'H(?:\.get\()?\[?"([a-z0-9/-]+)"', e)}
                if "body_text" in e:
                    show["body_text"] = m.get("body_text")
                if "subject_decoded" in e:
                    show["subject_decoded"] = m.get("subject_decoded")
                if "rcpt_tos" in e:
                    show["rcpt_tos"] = m.get("rcpt_tos")
                raise Fail("assertion %s is false (%s)" % (e, json.dumps(show, ensure_ascii=False)))
    except Fail as f:
        print(str(f)[:800])
        return 1
    return 0


def cmd_wait_mail(argv):
    import argparse
    p = argparse.ArgumentParser(prog="e2e_helper.py wait-mail")
    p.add_argument("--log", required=True)
    p.add_argument("--mark", type=int, default=0)
    p.add_argument("--number", required=True)
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--field", default="x-mms-transaction-id", help="header to print")
    a = p.parse_args(argv)
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        for m in mails_after(a.log, a.mark):
            if any(num(r.strip("<>")) == a.number for r in m.get("rcpt_tos", [])):
                print(m.get("hdr", {}).get(a.field.lower(), ""))
                return 0
        time.sleep(0.05)
    return 1


def cmd_mutate_tid(argv):
    """Forge a transaction id of the same shape: rotate the characters of the
    last alphanumeric run (or only its last character with --one) within
    their own class (digits, lower/upper hex, letters)."""
    one = "--one" in argv
    tid = [a for a in argv if a != "--one"][0]
    runs = list(re.finditer(r"[A-Za-z0-9]{4,}", tid)) or list(re.finditer(r"[A-Za-z0-9]+", tid))
    if not runs:
        print(tid + "x")
        return 0
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
    print(tid[:r.start()] + mutated + tid[r.end():])
    return 0


def cmd_shm(argv):
    vals = {}
    for line in open(argv[0], encoding="utf-8", errors="replace"):
        mo = re.match(r"\s*([a-z_]+):\s*(\d+)", line)
        if mo:
            vals[mo.group(1)] = int(mo.group(2))
    if "used" not in vals or "real_used" not in vals:
        return 1
    print(vals["used"], vals["real_used"])
    return 0


def cmd_sipp_codes(argv):
    codes = []
    try:
        data = open(argv[0], encoding="utf-8", errors="replace").read()
    except OSError:
        data = ""
    for mo in re.finditer(r"message received \[\d+\] bytes :\s*\n\s*\n?(SIP/2\.0 \d{3}[^\r\n]*)", data):
        codes.append(mo.group(1)[8:].strip())
    print(", ".join(codes) if codes else "no response")
    return 0


def cmd_junk(argv):
    """Feed malformed mails and raw garbage to an SMTP listener (ip:port)."""
    import smtplib
    import socket
    host, _, port = argv[0].rpartition(":")
    port = int(port)
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
    sent = 0
    for i, m in enumerate(mails):
        try:
            with smtplib.SMTP(host, port, local_hostname="mms.peer.test", timeout=5) as s:
                s.sendmail(sysaddr, [SYSTEM_ADDR], (m.replace("%d", str(i))).encode())
                sent += 1
        except Exception as e:  # noqa: BLE001
            print("junk mail %d: %r" % (i, e))
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
            print("junk raw: %r" % e)
    print("junk: %d/%d mails accepted" % (sent, len(mails)))
    return 0


# ---------------------------------------------------------------- MMS -> CPM
# sipp message trace of the CPM UAS -> request records

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


def uas_requests(path, offset=0):
    """Requests the UAS received after byte offset, retransmissions folded
    (each record gets "copies")."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return []
    reqs, seen = [], {}
    for chunk in TRACE_SEP.split(data):
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
        seen[r["key"]] = r
        reqs.append(r)
    return reqs


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


def parse_vars(items):
    out = {}
    for kv in items:
        k, _, v = kv.partition("=")
        out[k] = v
    return out


def helper_env(extra):
    env = {"re": re, "addrs": addrs, "num": num, "dom": dom, "date": date, "text": text,
           "near": near, "unq": unq, "iso": iso, "uri_num": uri_num, "UUID_RE": UUID_RE,
           "now": time.time(), "time": time, "json": json}
    env.update(extra)
    return env


def show_of(env, keys=("r", "e")):
    out = {}
    r = env.get("r")
    if r:
        out["uas"] = {"ruri": r.get("ruri"), "hdr": r.get("hdr"), "cpim": r.get("cpim"),
                      "payload": {k: v for k, v in (r.get("payload") or {}).items()
                                  if k not in ("sha256",)}}
    e = env.get("e")
    if e:
        out["peer"] = {"type": e.get("message_type"), "hdr": e.get("hdr"),
                       "tid_raw": e.get("tid_raw"), "rcpt_tos": e.get("rcpt_tos"),
                       "failures": e.get("failures")}
    return json.dumps(out, ensure_ascii=False)[:1500]


def eval_exprs(exprs, env):
    for x in exprs:
        try:
            ok = eval(x, env)  # noqa: S307 - test expressions from run.sh
        except Exception as ex:  # noqa: BLE001
            raise Fail("%s raised %r; %s" % (x, ex, show_of(env)))
        if not ok:
            raise Fail("assertion %s is false; %s" % (x, show_of(env)))


def wait_for(fn, count, timeout, exact, settle):
    """Poll fn() (a list) until it has count items (or more), or timeout;
    with exact, wait settle seconds more and require exactly count."""
    deadline = time.monotonic() + timeout
    got = fn()
    while len(got) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        got = fn()
    if exact and count == 0:
        # nothing may come: watch the whole timeout
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
            got = fn()
    elif exact and settle > 0:
        time.sleep(settle)
        got = fn()
    return got


def cmd_uas_wait(argv):
    """uas-wait --trace F --offset N [--ruri-re RE] [--imdn|--no-imdn] [--count N]
    [--exact] [--timeout S] [--settle S] [--print EXPR] [EXPR ...]
    Wait for requests at the CPM UAS; env: r (first), reqs, H (r's SIP headers),
    C (CPIM headers), P (payload info), X (IMDN XML fields)."""
    import argparse
    p = argparse.ArgumentParser(prog="e2e_helper.py uas-wait")
    p.add_argument("--trace", required=True)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--ruri-re", default="")
    p.add_argument("--imdn", dest="imdn", action="store_const", const=True, default=None)
    p.add_argument("--no-imdn", dest="imdn", action="store_const", const=False)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--exact", action="store_true")
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--settle", type=float, default=0.5)
    p.add_argument("--print", dest="print_", action="append", default=[])
    p.add_argument("--var", action="append", default=[], help="NAME=VALUE for the EXPRs")
    p.add_argument("exprs", nargs="*")
    a = p.parse_args(argv)
    vars_ = parse_vars(a.var)

    def sel():
        return [r for r in uas_requests(a.trace, a.offset)
                if r.get("method") == "MESSAGE" and re.search(a.ruri_re, r.get("ruri", ""))
                and (a.imdn is None or r.get("is_imdn") == a.imdn)]
    try:
        got = wait_for(sel, a.count, a.timeout, a.exact, a.settle)
        if len(got) < a.count or (a.exact and len(got) != a.count):
            raise Fail("the CPM UAS received %d MESSAGE(s) matching %r, expected %s%d%s" % (
                len(got), a.ruri_re, "" if a.exact else ">= ", a.count,
                "" if not got else " (first: %s %s)" % (got[0].get("ruri"),
                                                        got[0].get("payload", {}).get("mime_type"))))
        r = got[0] if got else {}
        env = helper_env({"r": r, "reqs": got, "H": r.get("hdr", {}), "C": r.get("cpim", {}),
                          "P": r.get("payload", {}), "X": r.get("payload", {}).get("imdn", {})})
        env.update(vars_)
        eval_exprs(a.exprs, env)
        for x in a.print_:
            print(eval(x, env))  # noqa: S307
    except Fail as f:
        print(str(f)[:1500])
        return 1
    return 0


def cmd_peer_wait(argv):
    """peer-wait --log F --mark N [--event rx_res] [--where EXPR] [--count N]
    [--exact] [--timeout S] [--settle S] [--print EXPR] [EXPR ...]
    Wait for events in the peer's log; env: e (first match), evs, H (e's headers)."""
    import argparse
    p = argparse.ArgumentParser(prog="e2e_helper.py peer-wait")
    p.add_argument("--log", required=True)
    p.add_argument("--mark", type=int, default=0)
    p.add_argument("--event", default="rx_res")
    p.add_argument("--where", default="True")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--exact", action="store_true")
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--settle", type=float, default=0.5)
    p.add_argument("--print", dest="print_", action="append", default=[])
    p.add_argument("--var", action="append", default=[], help="NAME=VALUE for the EXPRs")
    p.add_argument("exprs", nargs="*")
    a = p.parse_args(argv)
    vars_ = parse_vars(a.var)

    def sel():
        out = []
        for e in events_after(a.log, a.mark, a.event):
            env = helper_env({"e": e, "H": e.get("hdr", {})})
            env.update(vars_)
            if eval(a.where, env):  # noqa: S307
                out.append(e)
        return out
    try:
        got = wait_for(sel, a.count, a.timeout, a.exact, a.settle)
        if len(got) < a.count or (a.exact and len(got) != a.count):
            raise Fail("the peer logged %d %s event(s) where %s, expected %s%d" % (
                len(got), a.event, a.where, "" if a.exact else ">= ", a.count))
        e = got[0] if got else {}
        env = helper_env({"e": e, "evs": got, "H": e.get("hdr", {}),
                          "ALL": read_events(a.log, a.mark)})
        env.update(vars_)
        eval_exprs(a.exprs, env)
        for x in a.print_:
            print(eval(x, env))  # noqa: S307
    except Fail as f:
        print(str(f)[:1500])
        return 1
    return 0


def cmd_mm4_case(argv):
    """mm4-case --peer-log F --uas-trace F [options] -- SEND-ARGS
    Send one MM4 mail with mm4_peer.py (SEND-ARGS: send-req ... / send-report ...),
    then check: the SMTP outcome (--smtp CODE, --stage S), the MESSAGEs at the CPM
    UAS (--ruri-re RE, --messages N, IMDNs or not by --imdn), and the RES at the
    peer (--res STATUS | none, --res-count N; matched by the X-Mms-Transaction-ID
    bytes, or by X-Mms-Message-ID with --res-by-mid).  EXPRs (--expr, repeat)
    see: S (send result), r/reqs/H/C/P/X (as uas-wait), e/res/RH (the RES,
    its headers).  --print EXPR prints a value on success."""
    import argparse
    import os
    import subprocess
    p = argparse.ArgumentParser(prog="e2e_helper.py mm4-case")
    p.add_argument("--peer-log", required=True)
    p.add_argument("--uas-trace", required=True)
    p.add_argument("--smtp", type=int, default=250)
    p.add_argument("--stage", default="data")
    p.add_argument("--ruri-re", required=True, help="Request-URI regexp of this case's MESSAGEs")
    p.add_argument("--imdn", action="store_true", help="the MESSAGEs are IMDNs")
    p.add_argument("--messages", type=int, default=1)
    p.add_argument("--res", default="Ok")
    p.add_argument("--res-count", type=int, default=1)
    p.add_argument("--res-type", default=None)
    p.add_argument("--res-by-mid", action="store_true")
    p.add_argument("--res-dirty", action="store_true", help="allow peer check failures on the RES")
    p.add_argument("--timeout", type=float, default=6.0)
    p.add_argument("--settle", type=float, default=0.6)
    p.add_argument("--expr", action="append", default=[])
    p.add_argument("--print", dest="print_", action="append", default=[])
    p.add_argument("--out", help="write the case result (ok / reason) to this file")
    p.add_argument("--sends-log", help="append the send results (JSON lines) to this file")
    p.add_argument("--var", action="append", default=[], help="NAME=VALUE for the EXPRs")
    p.add_argument("send", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    send = a.send[1:] if a.send and a.send[0] == "--" else a.send
    peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mm4_peer.py")
    mark = log_lines(a.peer_log)
    offset = trace_size(a.uas_trace)
    started = time.time()
    rc = 0
    try:
        proc = subprocess.run([sys.executable, peer] + send, capture_output=True, text=True,
                              timeout=60)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            raise Fail("mm4_peer.py %s printed no result: %s" % (
                send[0] if send else "?", (proc.stderr or proc.stdout)[-400:]))
        sends = [json.loads(ln) for ln in lines]
        if a.sends_log:
            with open(a.sends_log, "a", encoding="utf-8") as f:
                for one in sends:
                    f.write(json.dumps(one, ensure_ascii=False) + "\n")
        S = sends[0]
        for one in sends:
            if one.get("code") != a.smtp or (a.smtp == 250 and not one.get("ok")) \
                    or (a.stage and one.get("stage") != a.stage):
                raise Fail("SMTP: expected %d at %s, got %s at %s (%s)" % (
                    a.smtp, a.stage, one.get("code"), one.get("stage"),
                    one.get("reply") or one.get("error")))
        res_type = a.res_type or {"req": "MM4_forward.RES", "dr": "MM4_delivery_report.RES",
                                  "rr": "MM4_read_reply_report.RES"}[S.get("kind", "req")]

        def sel_uas():
            return [r for r in uas_requests(a.uas_trace, offset)
                    if r.get("method") == "MESSAGE" and re.search(a.ruri_re, r.get("ruri", ""))
                    and r.get("is_imdn") == a.imdn]

        def sel_res():
            out = []
            for e in events_after(a.peer_log, mark, "rx_res"):
                if e.get("message_type") != res_type:
                    continue
                if a.res_by_mid:
                    if unq(e.get("hdr", {}).get("x-mms-message-id")) == unq(S.get("message_id")):
                        out.append(e)
                elif e.get("tid_raw") == S.get("tid"):
                    out.append(e)
            return out
        want_res = 0 if a.res == "none" else a.res_count
        deadline = time.monotonic() + a.timeout
        # (a MESSAGE is in tm's hands before the REQ gets its 250, and the RES
        # comes after the MESSAGE's answer: waiting for what is expected and
        # then settle seconds shows what should not have come)
        if a.messages:
            wait_for(sel_uas, a.messages, a.timeout, False, 0)
        if want_res:
            wait_for(sel_res, want_res, max(0.1, deadline - time.monotonic()), False, 0)
        time.sleep(a.settle)
        reqs, res = sel_uas(), sel_res()
        if len(reqs) != a.messages:
            raise Fail("the CPM UAS received %d %s(s) matching %r, expected %d%s" % (
                len(reqs), "IMDN" if a.imdn else "MESSAGE", a.ruri_re, a.messages,
                "; first: %s" % reqs[0].get("ruri") if reqs else ""))
        if len(res) != want_res:
            others = [(x.get("message_type"), x.get("tid_raw"),
                       x.get("hdr", {}).get("x-mms-request-status-code"))
                      for x in events_after(a.peer_log, mark, "rx_res")]
            raise Fail("the peer received %d %s for tid %s, expected %d (all RES since: %s)" % (
                len(res), res_type, S.get("tid"), want_res, others))
        for e in res:
            st = e.get("hdr", {}).get("x-mms-request-status-code", "").strip()
            if st != a.res:
                raise Fail("%s status %r, expected %r (X-Mms-Status-Text %r)" % (
                    res_type, st, a.res, e.get("hdr", {}).get("x-mms-status-text")))
            if e.get("failures") and not a.res_dirty:
                raise Fail("%s fails the peer's checks: %s" % (res_type, "; ".join(e["failures"])))
        r = reqs[0] if reqs else {}
        e = res[0] if res else {}
        env = helper_env({"S": S, "sends": sends, "r": r, "reqs": reqs, "H": r.get("hdr", {}),
                          "C": r.get("cpim", {}), "P": r.get("payload", {}),
                          "X": r.get("payload", {}).get("imdn", {}), "e": e, "res": res,
                          "RH": e.get("hdr", {}), "started": started})
        env.update(parse_vars(a.var))
        eval_exprs(a.expr, env)
        for x in a.print_:
            print(eval(x, env))  # noqa: S307
        result = "ok"
    except Fail as f:
        result = str(f)[:1800]
        print(result)
        rc = 1
    except Exception as ex:  # noqa: BLE001
        result = "helper error: %r" % ex
        print(result)
        rc = 1
    if a.out:
        with open(a.out, "w") as f:
            f.write(result + "\n")
    return rc


def cmd_uas_dump(argv):
    """uas-dump TRACE [OFFSET]: the parsed requests as JSON lines (debugging)."""
    for r in uas_requests(argv[0], int(argv[1]) if len(argv) > 1 else 0):
        print(json.dumps(r, ensure_ascii=False))
    return 0


def cmd_stats_check(argv):
    """stats-check --before F --after F --peer-log F --mark N --uas-trace F
    --offset N --sends F --sends-mark N --dups N --imdn-in N
    The cpm_mms counters' growth between two `stats` snapshots must equal what
    the harness sent and what the peer / the CPM UAS saw in between."""
    import argparse
    p = argparse.ArgumentParser(prog="e2e_helper.py stats-check")
    for o in ("--before", "--after", "--peer-log", "--uas-trace", "--sends"):
        p.add_argument(o, required=True)
    for o in ("--mark", "--offset", "--sends-mark", "--dups", "--imdn-in"):
        p.add_argument(o, type=int, required=True)
    a = p.parse_args(argv)
    s0 = json.load(open(a.before))
    s1 = json.load(open(a.after))
    sends = read_events(a.sends, a.sends_mark)
    evs = read_events(a.peer_log, a.mark)
    reqs = [r for r in uas_requests(a.uas_trace, a.offset) if r.get("method") == "MESSAGE"]
    want = {
        "mm4_req_in": sum(1 for x in sends if x.get("kind") == "req" and x.get("ok")),
        "mm4_duplicates": a.dups,
        "messages_out": sum(1 for r in reqs if not r.get("is_imdn")),
        "res_sent": sum(1 for e in evs if e.get("event") == "rx_res"),
        "reports_in": sum(1 for x in sends if x.get("kind") in ("dr", "rr") and x.get("ok")),
        "reports_out": sum(1 for e in evs if e.get("event") == "rx_report"),
        "imdn_in": a.imdn_in,
        "imdn_out": sum(1 for r in reqs if r.get("is_imdn")),
        "mm4_refused": sum(1 for x in sends if x.get("stage") == "connect" and x.get("code") == 554)
        + sum(1 for x in sends for c in (x.get("rcpt_replies") or {}).values() if c[0] == 550),
    }
    bad, seen = [], []
    for k, v in want.items():
        d = s1.get(k, 0) - s0.get(k, 0)
        seen.append("%s +%d" % (k, d))
        if d != v:
            bad.append("%s grew by %d, expected %d" % (k, d, v))
        elif v == 0 and k != "mm4_refused":
            bad.append("%s did not change (the mix should have made it grow)" % k)
    if bad:
        print("; ".join(bad) + " [" + ", ".join(seen) + "]")
        return 1
    print(", ".join(seen))
    return 0


def cmd_stats(argv):
    """stats FILE: `kamcmd cpm_mms.stats` output -> JSON {name: value}."""
    vals = {}
    for line in open(argv[0], encoding="utf-8", errors="replace"):
        mo = re.match(r"\s*([a-z_0-9]+):\s*(-?\d+)\s*$", line)
        if mo:
            vals[mo.group(1)] = int(mo.group(2))
    print(json.dumps(vals, sort_keys=True))
    return 0 if vals else 1


def cmd_catch_replies(argv):
    import argparse
    import socket
    ap = argparse.ArgumentParser(prog="catch-replies")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--call-id", required=True)
    ap.add_argument("--timeout", type=float, required=True)
    ap.add_argument("--grace", type=float, default=1.0)
    a = ap.parse_args(argv)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", a.port))
    print("bound", flush=True)
    end = time.monotonic() + a.timeout
    callid = re.compile(r"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.I | re.M)
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data = sock.recv(65535).decode("utf-8", "replace")
        except socket.timeout:
            break
        mo = callid.search(data)
        if not data.startswith("SIP/2.0 ") or not mo or mo.group(1) != a.call_id:
            continue
        print(data[8:11], flush=True)
        end = min(end, time.monotonic() + a.grace)
    return 0


def main(argv):
    cmds = {"junk": cmd_junk, "fill": cmd_fill, "check": cmd_check, "wait-mail": cmd_wait_mail,
            "mutate-tid": cmd_mutate_tid, "shm": cmd_shm, "sipp-codes": cmd_sipp_codes,
            "catch-replies": cmd_catch_replies,
            "uas-wait": cmd_uas_wait, "peer-wait": cmd_peer_wait, "mm4-case": cmd_mm4_case,
            "uas-dump": cmd_uas_dump, "stats": cmd_stats, "stats-check": cmd_stats_check}
    if not argv or argv[0] not in cmds:
        print(__doc__)
        return 2
    return cmds[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
