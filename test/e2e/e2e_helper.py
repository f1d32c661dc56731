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


def cmd_fill(argv):
    tmpl_path, out_path = argv[0], argv[1]
    vals = dict(DEFAULTS)
    cpim = True
    for kv in argv[2:]:
        k, _, v = kv.partition("=")
        if k == "cpim":
            cpim = v not in ("0", "no", "")
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
    return [a for _, a in email.utils.getaddresses([value or ""]) if a]


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
               "re": re}
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
    a = p.parse_args(argv)
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        for m in mails_after(a.log, a.mark):
            if any(num(r.strip("<>")) == a.number for r in m.get("rcpt_tos", [])):
                print(m.get("hdr", {}).get("x-mms-transaction-id", ""))
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


def main(argv):
    cmds = {"junk": cmd_junk, "fill": cmd_fill, "check": cmd_check, "wait-mail": cmd_wait_mail,
            "mutate-tid": cmd_mutate_tid, "shm": cmd_shm, "sipp-codes": cmd_sipp_codes}
    if not argv or argv[0] not in cmds:
        print(__doc__)
        return 2
    return cmds[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
