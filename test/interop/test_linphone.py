# SPDX-License-Identifier: GPL-2.0-or-later
"""cpm_mms interop with a real CPM client: Debian's liblinphone
(linphone-daemon) registered at a CPM core Kamailio, the IWF
(kamailio.cfg.sample) behind it, the MM4 peer (test/e2e/mm4_peer.py) and
ldns-testns for ENUM.  The cases of issue 14; see README.md.
"""

import email.utils
import os
import random
import string
import time

from conftest import (CPM_DOMAIN, IWF_DOMAIN, OUT, PEER_DOMAIN, RES_TIMEOUT, tail,
                      wait_until)
from linphone_client import (DELIVERED, DELIVERED_TO_USER, DISPLAYED, INCOMING, NOT_DELIVERED,
                             OUTGOING, ChatDB, run_markread, state_name)

MMS_RCPT = "+4712345678"          # ENUM (test/e2e/enum.data) -> the peer
MMS_SENDER = "+4730000100"        # the MMS originator of MMS -> CPM


def rnd(n=8):
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def plmn(number, domain):
    return "%s/TYPE=PLMN@%s" % (number, domain)


def unq(v):
    return (v or "").strip().strip('"').strip("<>")


def diag(core, iwf, core_mark=0, iwf_mark=0, db=None, peer=None):
    """What the CPM core and the IWF logged since the marks (for failures)."""
    parts = ["CPM core (SIP seen/relayed, replies):"]
    parts += ["  " + ln for ln in core.lines(core_mark, r"core: (MESSAGE|reply)")[-16:]]
    parts.append("IWF warnings/errors:")
    parts += ["  " + ln for ln in iwf.lines(iwf_mark, r"(ERROR|WARNING|CRITICAL|NOTICE)")[-12:]]
    if getattr(iwf, "missing_knobs", None):
        parts.append("note: kamailio.cfg.sample does not read %s yet (the IWF ignores them)"
                     % ", ".join(iwf.missing_knobs))
    if db is not None:
        parts.append("linphone chat DB:\n" + db.dump())
    if peer is not None:
        parts.append("MM4 peer log (last records):\n" + peer.log.summary())
    return "\n".join(parts)


def user_number(nn):
    return "+47987654%02d" % nn


# ---------------------------------------------------------------------------
# CPM -> MMS
# ---------------------------------------------------------------------------
def cpm_to_mms(client, mm4_peer, cpm_core, iwf, text):
    """linphone sends `text` to MMS_RCPT; returns (peer mail record, DB row)
    once the peer has the MM4_forward.REQ and the client's DB shows it
    Delivered (the IWF's 200)."""
    d = client.daemon
    db = ChatDB(client.profile.db)
    cm, im = cpm_core.mark(), iwf.mark()
    mid = d.message("sip:%s@%s" % (MMS_RCPT, CPM_DOMAIN), text)
    assert mid, "linphone-daemon did not take the message command:\n" + d.tail()

    rec = mm4_peer.log.wait(lambda r: r.get("event") == "mail"
                            and text in (r.get("body_text") or ""), 15 + RES_TIMEOUT)
    assert rec, ("the MM4 peer got no MM4_forward.REQ with the text %r\n%s"
                 % (text, diag(cpm_core, iwf, cm, im, db, mm4_peer)))
    row = db.wait(OUTGOING, text, lambda m: m["state"] in (DELIVERED, NOT_DELIVERED,
                                                           DELIVERED_TO_USER, DISPLAYED),
                  timeout=RES_TIMEOUT + 10)
    assert row, ("the outgoing message is in no final state in linphone's chat DB\n%s"
                 % diag(cpm_core, iwf, cm, im, db))
    return rec, row, db


def check_forward_req(rec, text, sender):
    h = rec.get("hdr") or {}
    assert rec.get("message_type") == "MM4_forward.REQ", rec.get("message_type")
    assert rec.get("failures") == [], "the MM4 peer's checks failed: %s" % rec.get("failures")
    assert (rec.get("body_text") or "").strip() == text, \
        "MM4 text %r, linphone sent %r" % (rec.get("body_text"), text)
    assert unq(email.utils.parseaddr(h.get("from", ""))[1]) == plmn(sender, IWF_DOMAIN), \
        "MM4 From %r, expected %s" % (h.get("from"), plmn(sender, IWF_DOMAIN))
    tos = [a for _, a in email.utils.getaddresses([h.get("to", "")])]
    assert tos == [plmn(MMS_RCPT, PEER_DOMAIN)], \
        "MM4 To %r, expected %s" % (h.get("to"), plmn(MMS_RCPT, PEER_DOMAIN))
    assert [number for number in rec.get("rcpt_tos") or []] == [plmn(MMS_RCPT, PEER_DOMAIN)], \
        "SMTP RCPT %r" % rec.get("rcpt_tos")
    # linphone asked for positive-delivery and display: both reports wanted
    assert (h.get("x-mms-delivery-report") or "").lower() == "yes", \
        "X-Mms-Delivery-Report %r (linphone asked for positive-delivery)" \
        % h.get("x-mms-delivery-report")
    assert (h.get("x-mms-read-reply") or "").lower() == "yes", \
        "X-Mms-Read-Reply %r (linphone asked for display)" % h.get("x-mms-read-reply")


def test_1_cpim_message_to_mms(linphone, mm4_peer, cpm_core, iwf):
    """linphone -> core -> IWF -> MM4_forward.REQ; DB: Delivered."""
    user = user_number(1)
    c = linphone(user)
    text = "interop-1 %s hello MMS" % rnd()
    rec, row, db = cpm_to_mms(c, mm4_peer, cpm_core, iwf, text)
    check_forward_req(rec, text, user)
    assert row["delivery_required"] == 1 and row["display_required"] == 1, \
        "linphone did not ask for delivery+display IMDNs: %r" % row
    assert row["state"] == DELIVERED, \
        ("linphone's DB shows the message %s, expected %s (the IWF's 200 after "
         "the peer's RES Ok)\n%s" % (state_name(row["state"]), state_name(DELIVERED),
                                     diag(cpm_core, iwf, db=db)))
    # the SIP transaction went over CPIM (message/cpim), not plain text
    sent = [ln for ln in cpm_core.lines(0, r"core: MESSAGE sip:\%s@" % MMS_RCPT)
            if "from sip:%s@" % user in ln]
    assert sent and all("ct=message/cpim" in ln for ln in sent), \
        "linphone's MESSAGE was not message/cpim: %s" % sent[-1:]


def test_2_reports_to_delivered_and_displayed(linphone, mm4_peer, cpm_core, iwf):
    """The peer's delivery report (Retrieved) and read reply (Read) turn the
    message DeliveredToUser, then Displayed, in the client's own DB."""
    user = user_number(2)
    c = linphone(user)
    text = "interop-2 %s please report" % rnd()
    rec, row, db = cpm_to_mms(c, mm4_peer, cpm_core, iwf, text)
    assert row["state"] == DELIVERED, "not Delivered before the reports: %s\n%s" % (
        state_name(row["state"]), diag(cpm_core, iwf, db=db))
    mid = (rec.get("hdr") or {}).get("x-mms-message-id")
    assert mid, "the MM4_forward.REQ has no X-Mms-Message-ID"
    for kind, status, want in (("dr", "Retrieved", DELIVERED_TO_USER), ("rr", "Read", DISPLAYED)):
        cm, im = cpm_core.mark(), iwf.mark()
        res = mm4_peer.send("send-report", "--type", kind, "--message-id", mid,
                            "--from", plmn(MMS_RCPT, PEER_DOMAIN),
                            "--to-hdr", plmn(user, IWF_DOMAIN), "--status", status)
        assert res.get("ok"), "the IWF did not take the %s report: %s" % (kind, res)
        got = db.wait(OUTGOING, text, lambda m: m["state"] == want, timeout=10)
        assert got, ("after MM4 %s %s the message is %s in linphone's DB, expected %s\n%s"
                     % (kind, status, state_name(db.find(OUTGOING, text)["state"]),
                        state_name(want), diag(cpm_core, iwf, cm, im, db)))


# ---------------------------------------------------------------------------
# MMS -> CPM
# ---------------------------------------------------------------------------
UTF8_TEXT = "interop-3 Grüße aus Bergen, blåbærsyltetøy € 😀 – 日本語"
LATIN1_TEXT = "interop-3 latin-1 Blåbærsyltetøy, Ærø, Straße, ¡olé! £5 ±1°"


def latin1_req(path, rcpt, text, tid, message_id):
    """A raw MM4_forward.REQ with a text/plain; charset=ISO-8859-1 8bit body."""
    hdrs = [
        "X-Mms-3GPP-MMS-Version: 6.16.0",
        "X-Mms-Message-Type: MM4_forward.REQ",
        "X-Mms-Transaction-ID: %s" % tid,
        "X-Mms-Message-ID: %s" % message_id,
        "To: %s" % rcpt,
        "From: %s" % plmn(MMS_SENDER, PEER_DOMAIN),
        "Date: %s" % email.utils.formatdate(usegmt=True),
        "X-Mms-Delivery-Report: Yes",
        "X-Mms-Read-Reply: Yes",
        "X-Mms-Ack-Request: Yes",
        "X-Mms-Originator-System: system-user@%s" % PEER_DOMAIN,
        "Sender: %s" % plmn(MMS_SENDER, PEER_DOMAIN),
        "Message-ID: <req-%s@%s>" % (rnd(), PEER_DOMAIN),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=ISO-8859-1",
        "Content-Transfer-Encoding: 8bit",
    ]
    data = ("\r\n".join(hdrs) + "\r\n\r\n").encode("ascii") + text.encode("latin-1") + b"\r\n"
    with open(path, "wb") as f:
        f.write(data)


def mms_to_cpm(client, mm4_peer, cpm_core, iwf, text, charset="utf-8"):
    """The peer sends an MM4_forward.REQ (delivery report + read reply
    requested) to the client; returns (message id, DB row)."""
    user = client.profile.user
    db = ChatDB(client.profile.db)
    cm, im = cpm_core.mark(), iwf.mark()
    known = {m["event_id"] for m in db.messages()}
    tok = rnd(10)
    tid, message_id = '"interop-%s"' % tok, '"%s@%s"' % (tok, PEER_DOMAIN)
    rcpt = plmn(user, IWF_DOMAIN)
    if charset == "utf-8":
        res = mm4_peer.send("send-req", "--rcpt", rcpt, "--from", plmn(MMS_SENDER, PEER_DOMAIN),
                            "--tid", tid, "--message-id", message_id, "--dr", "Yes",
                            "--rr", "Yes", "--body", "text", "--text", text)
    else:
        eml = os.path.join(OUT, "latin1-%s.eml" % tok)
        latin1_req(eml, rcpt, text, tid, message_id)
        res = mm4_peer.send("send-req", "--rcpt", rcpt, "--raw", eml)
    assert res.get("ok"), "the IWF's MM4 listener did not take the REQ: %s" % res
    row = db.wait(INCOMING, pred=lambda m: m["event_id"] not in known, timeout=10)
    fwd = mm4_peer.log.wait(lambda r: r.get("event") == "rx_res"
                            and unq((r.get("hdr") or {}).get("x-mms-transaction-id"))
                            == unq(tid), 10)
    assert row, ("no incoming message in linphone's chat DB after the MM4_forward.REQ "
                 "(RES at the peer: %s)\n%s"
                 % ((fwd or {}).get("hdr", {}).get("x-mms-request-status-code"),
                    diag(cpm_core, iwf, cm, im, db)))
    return message_id, row, db, fwd, (cm, im)


def same_sip_user(addr, user):
    """addr is sip:<user>@<CPM domain>, with ;user=phone at most (the IWF's
    uri_form sip adds it; liblinphone keeps it)."""
    base, _, params = (addr or "").partition(";")
    return base == "sip:%s@%s" % (user, CPM_DOMAIN) and params in ("", "user=phone")


def received_dispositions(client, text):
    """imdn.Disposition-Notification of the CPIM MESSAGE that carried text,
    from linphone's own log (liblinphone clears its DB flag once it has
    sent the delivery IMDN)."""
    with open(client.daemon.log_path, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    at = log.find(text)
    if at < 0:
        return None
    i = log.rfind("imdn.Disposition-Notification:", 0, at)
    if i < 0 or log.rfind("\nMESSAGE ", 0, at) > i:
        return None
    return [v.strip() for v in log[i:].split("\n", 1)[0].split(":", 1)[1].split(",")]


def check_incoming(client, row, text, cpm_core, iwf, db, marks):
    assert row["body"] == text, \
        "linphone stored %r, the MMS text was %r" % (row["body"], text)
    assert same_sip_user(row["from"], MMS_SENDER), \
        ("linphone shows the sender as %r, expected sip:%s@%s\n%s"
         % (row["from"], MMS_SENDER, CPM_DOMAIN, diag(cpm_core, iwf, *marks)))
    assert same_sip_user(row["to"], client.profile.user), \
        "linphone shows the recipient as %r, expected %r" % (row["to"], client.profile.identity)
    dispo = received_dispositions(client, text)
    assert dispo is not None and "positive-delivery" in dispo and "display" in dispo, \
        ("the MESSAGE did not ask linphone for delivery+display IMDNs (MM4 asked for "
         "both): imdn.Disposition-Notification %s" % dispo)
    ev = [e for e in client.daemon.events("message-received") if text in e.get("Content", "")]
    assert ev, "linphone-daemon raised no message-received event with the text"


def test_3_mms_to_cpm_utf8(linphone, mm4_peer, cpm_core, iwf):
    c = linphone(user_number(3))
    mid, row, db, fwd, marks = mms_to_cpm(c, mm4_peer, cpm_core, iwf, UTF8_TEXT)
    check_incoming(c, row, UTF8_TEXT, cpm_core, iwf, db, marks)
    assert fwd and (fwd["hdr"].get("x-mms-request-status-code") or "").lower() == "ok", \
        "the peer's MM4_forward.RES: %s" % (fwd and fwd.get("hdr"))


def test_3_mms_to_cpm_latin1(linphone, mm4_peer, cpm_core, iwf):
    c = linphone(user_number(4))
    mid, row, db, fwd, marks = mms_to_cpm(c, mm4_peer, cpm_core, iwf, LATIN1_TEXT, "latin-1")
    check_incoming(c, row, LATIN1_TEXT, cpm_core, iwf, db, marks)
    assert fwd and (fwd["hdr"].get("x-mms-request-status-code") or "").lower() == "ok", \
        "the peer's MM4_forward.RES: %s" % (fwd and fwd.get("hdr"))


def wait_report(mm4_peer, mtype, message_id, timeout=10):
    return mm4_peer.log.wait(lambda r: r.get("event") == "rx_report"
                             and r.get("message_type") == mtype
                             and unq((r.get("hdr") or {}).get("x-mms-message-id"))
                             == unq(message_id), timeout)


def check_report(rep, user, status_hdr, status):
    h = rep.get("hdr") or {}
    assert rep.get("failures") == [], "the MM4 peer's checks failed: %s" % rep.get("failures")
    assert (h.get(status_hdr) or "") == status, "%s %r, expected %s" % (
        status_hdr, h.get(status_hdr), status)
    assert unq(email.utils.parseaddr(h.get("from", ""))[1]) == plmn(user, IWF_DOMAIN), \
        "report From %r, expected %s" % (h.get("from"), plmn(user, IWF_DOMAIN))
    assert unq(email.utils.parseaddr(h.get("to", ""))[1]) == plmn(MMS_SENDER, PEER_DOMAIN), \
        "report To %r, expected %s" % (h.get("to"), plmn(MMS_SENDER, PEER_DOMAIN))


def deflate_imdns(cpm_core, mark, user):
    return [ln for ln in cpm_core.lines(mark, r"core: MESSAGE sip:\%s@" % MMS_SENDER)
            if "from sip:%s@" % user in ln]


def test_4_client_imdns_to_mm4_reports(linphone, mm4_peer, cpm_core, iwf, procs):
    """linphone's own IMDNs (Content-Encoding: deflate) for an MMS become an
    MM4_delivery_report.REQ and, once the chat is marked read, an
    MM4_read_reply_report.REQ at the peer."""
    user = user_number(5)
    c = linphone(user)
    text = "interop-4 %s read me" % rnd()
    mid, row, db, fwd, (cm, im) = mms_to_cpm(c, mm4_peer, cpm_core, iwf, text)
    assert row["body"] == text

    dr = wait_report(mm4_peer, "MM4_delivery_report.REQ", mid)
    imdns = deflate_imdns(cpm_core, cm, user)
    assert dr, ("no MM4_delivery_report.REQ at the peer for %s after linphone's delivery "
                "IMDN (IMDN MESSAGEs at the core: %s)\n%s"
                % (mid, imdns, diag(cpm_core, iwf, cm, im, peer=mm4_peer)))
    check_report(dr, user, "x-mms-mm-status-code", "Retrieved")
    # the path under test: liblinphone compresses its IMDNs
    assert any("ce=deflate" in ln for ln in imdns), \
        "linphone's IMDN was not Content-Encoding: deflate: %s" % imdns

    # mark read: the daemon has no command for it; lp_markread.py opens the
    # same profile with liblinphone and calls linphone_chat_room_mark_as_read
    rc = c.stop()
    assert rc == 0, "linphone-daemon exited with %s" % rc
    cm, im = cpm_core.mark(), iwf.mark()
    rc, lines, done = run_markread(
        c.profile, procs,
        lambda: wait_report(mm4_peer, "MM4_read_reply_report.REQ", mid, 0) is not None)
    assert rc == 0, "lp_markread.py exited with %s:\n%s" % (rc, "\n".join(lines[-10:]))
    assert any('"event": "marked"' in ln and '"unread": 0' not in ln for ln in lines), \
        "lp_markread.py did not mark the chat read:\n" + "\n".join(lines[-10:])
    rr = wait_report(mm4_peer, "MM4_read_reply_report.REQ", mid, 2)
    assert rr, ("no MM4_read_reply_report.REQ at the peer for %s after linphone's display "
                "IMDN (IMDN MESSAGEs at the core: %s)\n%s"
                % (mid, deflate_imdns(cpm_core, cm, user),
                   diag(cpm_core, iwf, cm, im, peer=mm4_peer)))
    check_report(rr, user, "x-mms-read-status", "Read")
    assert db.find(INCOMING, text)["marked_as_read"] == 1


# ---------------------------------------------------------------------------
# restart
# ---------------------------------------------------------------------------
def test_5_profile_restart_after_all(linphone, mm4_peer, cpm_core, iwf, procs):
    """After messages both ways, their IMDNs (accepted or rejected: their
    outcome is cases 2 and 4, not asserted here) and a mark-as-read, the
    profile starts again cleanly, twice."""
    user = user_number(6)
    c = linphone(user)
    d = c.daemon
    db = ChatDB(c.profile.db)
    out_text = "interop-5 %s out" % rnd()
    in_text = "interop-5 %s in, ünïcödé" % rnd()
    assert d.message("sip:%s@%s" % (MMS_RCPT, CPM_DOMAIN), out_text)
    rec = mm4_peer.log.wait(lambda r: r.get("event") == "mail"
                            and out_text in (r.get("body_text") or ""), 15)
    mid = ((rec or {}).get("hdr") or {}).get("x-mms-message-id") or '"none@%s"' % IWF_DOMAIN
    db.wait(OUTGOING, out_text, lambda m: m["state"] != 1, RES_TIMEOUT + 5)
    for kind, status in (("dr", "Retrieved"), ("rr", "Read")):
        mm4_peer.send("send-report", "--type", kind, "--message-id", mid,
                      "--from", plmn(MMS_RCPT, PEER_DOMAIN), "--to-hdr", plmn(user, IWF_DOMAIN),
                      "--status", status)
    tok = rnd(10)
    in_mid = '"%s@%s"' % (tok, PEER_DOMAIN)
    mm4_peer.send("send-req", "--rcpt", plmn(user, IWF_DOMAIN), "--from",
                  plmn(MMS_SENDER, PEER_DOMAIN), "--tid", '"interop-%s"' % tok,
                  "--message-id", in_mid, "--dr", "Yes", "--rr", "Yes", "--text", in_text)
    # linphone's delivery IMDN and its answer, whatever they are
    wait_until(lambda: wait_report(mm4_peer, "MM4_delivery_report.REQ", in_mid, 0), 5)
    time.sleep(1)
    rc = c.stop()
    assert rc == 0, "linphone-daemon exited with %s:\n%s" % (
        rc, tail(os.path.join(c.profile.path, "daemon1.out")))
    before = {(m["direction"], m["body"]): m["state"] for m in db.messages()}
    assert (OUTGOING, out_text) in before, "linphone's DB lost the sent message:\n" + db.dump()

    def restart(n):
        # Client.start() fails if the daemon dies before it registers
        try:
            d = c.start()
        except AssertionError as e:
            raise AssertionError("restart %d: %s\nlinphone's chat rooms: %s"
                                 % (n, e, db.chat_rooms())) from None
        time.sleep(3)   # the crash seen came while liblinphone loaded its chat rooms
        assert d.alive(), "linphone-daemon died %d s after restart %d (exit %s):\n%s" % (
            3, n, d.proc.poll(), d.tail())
        mark = len(d.output())
        d.send("register-status ALL")
        assert d.wait_output(r"^State: LinphoneRegistrationOk", mark, 5), \
            "linphone-daemon does not answer after restart %d:\n%s" % (n, d.tail())
        rc = c.stop()
        assert rc == 0, "linphone-daemon exited with %s after restart %d:\n%s" % (
            rc, n, tail(os.path.join(c.profile.path, "daemon%d.out" % c.starts)))

    restart(1)
    # mark read (another start of the profile), then the daemon once more
    rc, lines, _ = run_markread(
        c.profile, procs,
        lambda: wait_report(mm4_peer, "MM4_read_reply_report.REQ", in_mid, 0) is not None,
        timeout=10)
    assert rc == 0, "lp_markread.py (liblinphone on the same profile) exited with %s:\n%s" % (
        rc, "\n".join(lines[-6:]) + "\n" + tail(os.path.join(c.profile.path, "markread.log")))
    restart(2)
    after = {(m["direction"], m["body"]): m["state"] for m in db.messages()}
    assert set(after) == set(before), "the restarts changed linphone's messages: %s -> %s" % (
        before, after)
