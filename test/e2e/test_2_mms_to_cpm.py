# SPDX-License-Identifier: GPL-2.0-or-later
"""MMS -> CPM (Tables 4/5), reports <-> IMDN (Tables 6-9), the correlation DB
(modes of E2E_MM4_MODES, default ldns and sysdns).

The MM4 peer plays the originating MMSC (mm4_peer.py send-req /
send-report), the sipp CPM UAS (cpm_uas.xml) the CPM side on cpm_route: it
answers by Request-URI number (+4720000CCC -> CCC, +4720000000 -> nothing,
+4720000201 -> 200 after 1.5 s) and its message trace is what the MESSAGE
checks read.  +47300000NN are the CPM recipients of one case each,
+4730000100 is the MMS originator.

Three slow cases start with the module (the `background` fixture) and are
checked at its end: the no-answer case (only tm's fr_timer, 30 s in the
sample, ends it), the purge of correlation rows inserted already expired
(every 60 s) and the Expired delivery reports.
"""

import json
import re
import threading
import time

import pytest

from conftest import IWF_DOMAIN, MM4, PEER_DOMAIN, VECTORS, plmn
from e2elib import (PEER_OWN_MID, UUID_RE, addrs, date, iso, read_events, text, uas_requests,
                    unq, uri_num)

pytestmark = pytest.mark.modes("mm4")

ORIG = plmn("+4730000100", PEER_DOMAIN)
ORIG_SYS = "system-user@" + PEER_DOMAIN
IWF_SYS = "system-user@" + IWF_DOMAIN
REQ_DATE = "Wed, 01 May 2024 10:15:00 +0000"
ICSI = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
RR = r"^sip:\+4798765432@ims\.test$"       # IMDNs to the CPM sender
DR_DATE = "Wed, 01 May 2024 10:16:40 +0000"
RR_DATE = "Wed, 01 May 2024 10:20:05 +0000"


def req(*args):
    return ["send-req", "--to", MM4] + list(args)


def report(kind, mid, *args, frm="+4712345678", to="+4798765432"):
    return ["send-report", "--type", kind, "--to", MM4, "--message-id", mid,
            "--from", plmn(frm, PEER_DOMAIN), "--to-hdr", plmn(to, IWF_DOMAIN)] + list(args)


def ruri(number):
    return "^tel:%s$" % re.escape(number)


def rnd():
    return "%d%03d" % (time.time() * 1000 % 100000000, threading.get_ident() % 1000)


# ---------------------------------------------------------------------------
# the slow cases, started with the module
# ---------------------------------------------------------------------------
class Background:
    pass


@pytest.fixture(scope="module", autouse=True)
def background(mode, procs):
    """Starts the no-answer case (a thread), inserts the expired correlation
    rows and sends the two expiry REQs; the tests at the end check them."""
    kam = mode.kam.ordinary()
    mode.ensure_uas()
    bg = Background()
    bg.mark = mode.peer_mark()
    # --- no answer from CPM: the RES comes at tm's fr_timer
    bg.noanswer = None

    def noanswer():
        try:
            c = mode.mm4_case(req("--rcpt", plmn("+4720000000"), "--text", "nobody answers"),
                              ruri("+4720000000"), res="Error-network-problem", timeout=45)
            assert time.time() - c.started >= 28, "RES after %.1f s" % (time.time() - c.started)
            assert c.r["copies"] > 1, "the MESSAGE was not retransmitted"
            bg.noanswer = "ok"
        except Exception as e:  # noqa: BLE001 - reported by the test
            bg.noanswer = "%s: %s" % (type(e).__name__, e)
    bg.thread = threading.Thread(target=noanswer, daemon=True)
    bg.thread.start()
    # --- already expired correlation rows: the periodic purge (every 60 s)
    bg.t_ins = int(time.time())
    bg.tag = "%s-%s" % (mode.name, rnd())
    kam.sql("INSERT INTO cpm_mms_corr (direction, mms_message_id, imdn_message_id, expires) "
            "VALUES (1, 'e2e-expired-%s@x', 'e2e-expired-%s', %d), "
            "(2, 'e2e-expired2-%s@x', 'e2e-expired2-%s', %d), "
            "(1, 'e2e-fresh-%s@x', 'e2e-fresh-%s', %d);"
            % (bg.tag, bg.tag, bg.t_ins - 100, bg.tag, bg.tag, bg.t_ins - 1,
               bg.tag, bg.tag, bg.t_ins + 3600))
    # --- Expired reports: c gets its IMDN in time, b none; b expires after
    # c, so the round that sends b's Expired has seen c's expiry too
    bg.c_mid = '"exp-c-%s@%s"' % (bg.tag, PEER_DOMAIN)
    bg.b_mid = '"exp-b-%s@%s"' % (bg.tag, PEER_DOMAIN)
    bg.exp_mark = mode.peer_mark()
    bg.c_req = bg.c_imdn = bg.b_req = "not run"
    try:
        c = mode.mm4_case(req("--rcpt", plmn("+4730000073"), "--message-id", bg.c_mid,
                              "--dr", "Yes", "--expiry-in", "10"), ruri("+4730000073"))
        bg.c_req = "ok"
        w = mode.imdn_case("200", "MM4_delivery_report.REQ", bg.c_mid,
                           FROM_URI="tel:+4730000073", TO_URI="tel:+4730000100",
                           ORIG_ID=c.C["imdn.message-id"], STATUS="delivered")
        assert w.H["x-mms-mm-status-code"] == "Retrieved"
        bg.c_imdn = "ok"
    except Exception as e:  # noqa: BLE001 - reported by the tests
        if bg.c_req != "ok":
            bg.c_req = str(e)
        bg.c_imdn = str(e)
    try:
        mode.mm4_case(req("--rcpt", plmn("+4730000074"), "--message-id", bg.b_mid,
                          "--dr", "Yes", "--expiry-in", "15"), ruri("+4730000074"))
        bg.b_req = "ok"
    except Exception as e:  # noqa: BLE001
        bg.b_req = str(e)
    yield bg
    bg.thread.join(50)


# ---------------------------------------------------------------------------
# the cfg group at runtime in the listener
# ---------------------------------------------------------------------------
@pytest.fixture
def cpm_size(uas, kam):
    v = kam.cfg_get("max_cpm_size")
    yield kam
    kam.cfg_set("max_cpm_size", v)


def test_cfg_max_cpm_size(mode, cpm_size):
    """cfg: cfg.set max_cpm_size 5 at runtime: MMS->CPM text REQ -> Error-content-not-accepted"""
    out = cpm_size.cfg_set("max_cpm_size", 5)
    assert out == "", "cfg.set: " + out
    mode.mm4_case(req("--rcpt", plmn("+4730000160")), ruri("+4730000160"), messages=0,
                  res="Error-content-not-accepted")


def test_cfg_max_cpm_size_back(mode, cpm_size):
    """cfg: max_cpm_size set back: the same REQ -> MESSAGE, RES Ok"""
    v = cpm_size.cfg_get("max_cpm_size")
    assert cpm_size.cfg_set("max_cpm_size", 5) == ""
    assert cpm_size.cfg_set("max_cpm_size", v) == ""
    mode.mm4_case(req("--rcpt", plmn("+4730000161")), ruri("+4730000161"))


# ---------------------------------------------------------------------------
# Table 4 / Table 5
# ---------------------------------------------------------------------------
def test_t4_basic(mode, uas):
    """MMS->CPM basic text REQ -> MESSAGE (Table 4, header by header), RES Ok"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000001"), "--from", ORIG, "--date", REQ_DATE,
                          "--subject", "Hello MMS", "--priority", "High", "--expiry-in", "3600",
                          "--forward-counter", "3", "--dr", "Yes", "--rr", "Yes",
                          "--visibility", "Show", "--text", "Hei fra MMS ✓\nlinje 2"),
                      ruri("+4730000001"))
    r, H, C, P, RH, S, e = c.r, c.H, c.C, c.P, c.RH, c.S, c.e
    assert r["ruri"] == "tel:+4730000001"
    assert H["to"] == "<tel:+4730000001>"
    assert re.fullmatch(r"<tel:\+4730000100>;tag=\S+", H["from"])
    assert H["p-asserted-identity"].strip("<>") == "tel:+4730000100"
    assert "privacy" not in H
    assert H["subject"] == "Hello MMS"
    assert H["priority"] == "urgent"
    assert abs(int(H["expires"]) - 3600) <= 60
    assert H["max-forwards"] == "67"
    assert date(H["date"]) == 1714558500 and H["date"].endswith("GMT")
    assert H["accept-contact"] == \
        '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"'
    assert H["p-asserted-service"] == ICSI
    assert UUID_RE.match(H["conversation-id"]) and UUID_RE.match(H["contribution-id"])
    assert H["conversation-id"] != H["contribution-id"]
    assert H["content-type"] == "message/cpim"
    assert r["clen_ok"] and r["copies"] == 1
    assert C["from"] == "<tel:+4730000100>" and C["to"] == "<tel:+4730000001>"
    assert C["ns"] == "imdn <urn:ietf:params:imdn>"
    assert re.fullmatch(r"[A-Za-z0-9._~+-]{8,}", C["imdn.message-id"])
    assert iso(C["datetime"]) == 1714558500
    assert C["imdn.disposition-notification"] == \
        "positive-delivery, negative-delivery, display"
    assert C["imdn.imdn-record-route"] == "<sip:iwf@%s>" % IWF_DOMAIN
    assert C["subject"] == "Hello MMS"
    assert P["content_type"].replace(" ", "").lower() == "text/plain;charset=utf-8"
    assert P["text"] == "Hei fra MMS ✓\r\nlinje 2"
    assert RH["x-mms-message-id"] == S["message_id"]
    assert RH["sender"] == IWF_SYS and addrs(RH["to"]) == [ORIG_SYS]
    assert [x.strip("<>") for x in e["rcpt_tos"]] == [ORIG_SYS]


T5 = [("404", "Error-sending-address-unresolved"), ("480", "Error-network-problem"),
      ("500", "Error-network-problem"), ("603", "Error-service-denied"),
      ("403", "Error-service-denied"), ("400", "Error-message-format-corrupt"),
      ("410", "Error-sending-address-unresolved"), ("484", "Error-sending-address-unresolved"),
      ("604", "Error-sending-address-unresolved"), ("413", "Error-content-not-accepted"),
      ("415", "Error-content-not-accepted"), ("488", "Error-content-not-accepted"),
      ("606", "Error-content-not-accepted"), ("408", "Error-network-problem"),
      ("486", "Error-network-problem"), ("503", "Error-network-problem"),
      ("501", "Error-unsupported-message")]


@pytest.mark.parametrize("code, status", T5, ids=["%s-%s" % t for t in T5])
def test_t5_cpm_answer(mode, uas, code, status):
    """MMS->CPM CPM answers CODE -> RES STATUS (Table 5)"""
    mode.mm4_case(req("--rcpt", plmn("+4720000" + code), "--text", "answer %s please" % code),
                  ruri("+4720000" + code), res=status)


def test_refused_row_marked(mode, uas):
    """MMS->CPM delivery report and expiry asked, CPM answers 486 -> RES
    Error-network-problem, and the row is marked (reports_done 1, mm_expiry 0:
    no Expired report later) by an MM4 worker, not the SIP worker tm's
    callback ran in"""
    mid = '"refused-%s-%s@%s"' % (mode.name, rnd(), PEER_DOMAIN)
    mode.mm4_case(req("--rcpt", plmn("+4720000486"), "--message-id", mid, "--dr", "Yes",
                      "--expiry-in", "600"),
                  ruri("+4720000486"), res="Error-network-problem")
    q = ("SELECT reports_done || ':' || mm_expiry FROM cpm_mms_corr WHERE "
         "mms_message_id = '%s';" % unq(mid))
    row = None
    for _ in range(50):
        row = uas.kam.cur.sql(q)
        if row == "1:0":
            break
        time.sleep(0.1)
    assert row == "1:0", "row reports_done:mm_expiry '%s', expected '1:0'" % row


def test_duplicate_req_after_res(mode, uas):
    """MMS->CPM duplicate REQ (after its RES) -> one MESSAGE, the same RES twice"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000002"), "--count", "2", "--gap", "1.0"),
                      ruri("+4730000002"), res_count=2, settle=1.0)
    assert c.res[0]["hdr"]["x-mms-message-id"] == c.res[1]["hdr"]["x-mms-message-id"]


def test_duplicate_req_pending(mode, uas):
    """MMS->CPM duplicate REQ while the MESSAGE is pending -> one MESSAGE, two RES"""
    mode.mm4_case(req("--rcpt", plmn("+4720000201"), "--count", "2", "--gap", "0.3"),
                  ruri("+4720000201"), res_count=2, settle=1.0, timeout=8)


def test_two_recipients_worst_wins(mode, uas):
    """MMS->CPM two recipients (200 + 404) -> two MESSAGEs, one RES (worst wins)"""
    mode.mm4_case(req("--rcpt", plmn("+4730000003"), "--rcpt", plmn("+4720000404")),
                  r"^tel:\+47(30000003|20000404)$", messages=2,
                  res="Error-sending-address-unresolved")


def test_relay_attempt(mode, uas):
    """MMS->CPM relay attempt (recipient @other.domain) -> 550 at RCPT"""
    c = mode.mm4_case(req("--rcpt", "+4730000004/TYPE=PLMN@other.domain"), ruri("+4730000004"),
                      smtp=550, stage="rcpt", messages=0, res="none")
    assert c.S["reply"].startswith("5.7.1")


def test_local_and_foreign(mode, uas):
    """MMS->CPM local + foreign recipient -> 550 for the foreign one, MESSAGE for ours"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000005"),
                          "--rcpt", "+4730000006/TYPE=PLMN@other.domain"), ruri("+4730000005"))
    assert c.S["rcpt_replies"]["+4730000006/TYPE=PLMN@other.domain"][0] == 550


def test_oversize(mode, uas):
    """MMS->CPM oversize (80 KB JPEG > max_cpm_size) -> Error-content-not-accepted"""
    mode.mm4_case(req("--rcpt", plmn("+4730000007"), "--body", "oversize", "--oversize", "80000"),
                  ruri("+4730000007"), messages=0, res="Error-content-not-accepted")


def test_folded_subject(mode, uas):
    """MMS->CPM folded RFC 2047 Subject (email package) -> SIP and CPIM Subject decoded"""
    subj = "Grüße aus Tromsø — ein ziemlich langer Betreff, der gefaltet werden muss ✓ 😀"
    c = mode.mm4_case(req("--rcpt", plmn("+4730000008"), "--subject", subj),
                      ruri("+4730000008"))
    assert c.H["subject"] == subj and c.C["subject"] == subj


def test_multipart_mixed(mode, uas):
    """MMS->CPM multipart/mixed text + JPEG -> multipart payload, bytes intact"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000009"), "--body", "mixed", "--image-size",
                          "3000", "--text", "Look at this"), ruri("+4730000009"))
    P = c.P
    assert P["mime_type"] == "multipart/mixed" and "boundary=" in P["content_type"]
    assert [p["mime_type"] for p in P["parts"]] == ["text/plain", "image/jpeg"]
    assert [p["sha256"] for p in P["parts"]] == [x[1] for x in c.S["parts"]]
    assert not P["defects"]


def test_multipart_related(mode, uas):
    """MMS->CPM multipart/related SMIL + text + JPEG -> multipart/related as received"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000010"), "--body", "related-image"),
                      ruri("+4730000010"))
    P = c.P
    assert P["mime_type"] == "multipart/related"
    assert "application/smil" in P["content_type"] and "<smil1>" in P["content_type"]
    assert [p["mime_type"] for p in P["parts"]] == ["application/smil", "text/plain",
                                                     "image/jpeg"]
    assert [p["sha256"] for p in P["parts"]] == [x[1] for x in c.S["parts"]]


def test_related_one_text(mode, uas):
    """MMS->CPM multipart/related SMIL + one text -> text/plain payload"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000011"), "--body", "related",
                          "--text", "SMIL and text only"), ruri("+4730000011"))
    assert c.P["mime_type"] == "text/plain" and text(c.P["text"]) == "SMIL and text only"


def test_quoted_printable(mode, uas):
    """MMS->CPM quoted-printable text -> decoded UTF-8 text/plain"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000012"), "--body", "qp",
                          "--text", "Grüße ✓ " * 12), ruri("+4730000012"))
    assert c.P["text"] == "Grüße ✓ " * 12


def test_visibility_hide(mode, uas):
    """MMS->CPM Sender-Visibility Hide -> anonymous From, Privacy: id, PAI kept"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000013"), "--visibility", "Hide"),
                      ruri("+4730000013"))
    H, C = c.H, c.C
    assert re.fullmatch(r"\"Anonymous\" <sip:anonymous@anonymous\.invalid>;tag=\S+", H["from"])
    assert H["privacy"] == "id" and H["p-asserted-identity"].strip("<>") == "tel:+4730000100"
    assert C["from"] == '"Anonymous" <sip:anonymous@anonymous.invalid>'
    assert "+4730000100" not in c.r["body_raw"]


def test_no_report_asked(mode, uas):
    """MMS->CPM no report asked -> no imdn.Disposition-Notification, Priority Low"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000014"), "--dr", "No", "--rr", "No",
                          "--priority", "Low"), ruri("+4730000014"))
    assert "imdn.disposition-notification" not in c.C and c.H["priority"] == "non-urgent"


def test_message_class_auto(mode, uas):
    """MMS->CPM X-Mms-Message-Class Auto -> no IMDN request"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000015"), "--dr", "Yes", "--rr", "Yes",
                          "--message-class", "Auto"), ruri("+4730000015"))
    assert "imdn.disposition-notification" not in c.C


def test_ack_no(mode, uas):
    """MMS->CPM X-Mms-Ack-Request: No -> MESSAGE, no RES"""
    mode.mm4_case(req("--rcpt", plmn("+4730000016"), "--ack", "No"), ruri("+4730000016"),
                  res="none", settle=1.0)


def test_no_ack_header(mode, uas):
    """MMS->CPM no X-Mms-Ack-Request -> MESSAGE, no RES (TS 23.140: optional,
    absent = no RES, mm4_ack_default 0)"""
    mode.mm4_case(req("--rcpt", plmn("+4730000061"), "--ack", "none"), ruri("+4730000061"),
                  res="none", settle=1.0)


def test_forward_counter_loop(mode, uas):
    """MMS->CPM forward counter above the limit (loop) -> Error-service-denied"""
    mode.mm4_case(req("--rcpt", plmn("+4730000017"), "--forward-counter", "25"),
                  ruri("+4730000017"), messages=0, res="Error-service-denied")


def test_already_expired(mode, uas):
    """MMS->CPM already expired (X-Mms-Expiry in the past) -> no MESSAGE, Error-unspecified"""
    mode.mm4_case(req("--rcpt", plmn("+4730000018"), "--expiry", REQ_DATE),
                  ruri("+4730000018"), messages=0, res="Error-unspecified")


def test_missing_from(mode, uas):
    """MMS->CPM missing From -> Error-message-format-corrupt"""
    mode.mm4_case(req("--rcpt", plmn("+4730000019"), "--no-from"), ruri("+4730000019"),
                  messages=0, res="Error-message-format-corrupt")


def test_missing_tid(mode, uas):
    """MMS->CPM missing X-Mms-Transaction-ID -> Error-message-format-corrupt"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000020"), "--no-tid"), ruri("+4730000020"),
                      messages=0, res="Error-message-format-corrupt", res_by_mid=True,
                      res_dirty=True)
    assert c.e["tid_raw"] in (None, "", '""')


def test_missing_message_id(mode, uas):
    """MMS->CPM missing X-Mms-Message-ID -> Error-message-format-corrupt"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000021"), "--no-message-id"),
                      ruri("+4730000021"), messages=0, res="Error-message-format-corrupt",
                      res_dirty=True)
    assert all("x-mms-message-id" in f for f in c.e["failures"])


@pytest.mark.parametrize("bad", ["bad-noclose", "bad-noboundary", "bad-base64"])
def test_bad_mime(mode, uas, bad):
    """MMS->CPM bad MIME (BAD) -> Error-message-format-corrupt"""
    mode.mm4_case(req("--rcpt", plmn("+4730000022"), "--body", bad), ruri("+4730000022"),
                  messages=0, res="Error-message-format-corrupt")


# ---------------------------------------------------------------------------
# numbers through the numbering plan (00 / 0 / 47)
# ---------------------------------------------------------------------------
def test_plan_national_rcpt(mode, uas):
    """MMS->CPM plan: national RCPT TO 030000050/TYPE=PLMN -> MESSAGE to tel:+4730000050"""
    c = mode.mm4_case(req("--rcpt", "030000050/TYPE=PLMN@" + IWF_DOMAIN,
                          "--text", "national recipient"), ruri("+4730000050"))
    assert c.r["ruri"] == "tel:+4730000050"
    assert c.C["to"] == "<tel:+4730000050>"


def test_plan_national_from(mode, uas):
    """MMS->CPM plan: national From 0412345678/TYPE=PLMN -> P-Asserted-Identity tel:+47412345678"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000051"), "--from",
                          "0412345678/TYPE=PLMN@" + PEER_DOMAIN, "--text", "national sender"),
                      ruri("+4730000051"))
    assert c.H["p-asserted-identity"].strip("<>") == "tel:+47412345678"
    assert c.C["from"] == "<tel:+47412345678>"


def test_plan_intl_prefix_from(mode, uas):
    """MMS->CPM plan: From 004712345678/TYPE=PLMN (international prefix) -> tel:+4712345678"""
    c = mode.mm4_case(req("--rcpt", plmn("+4730000052"), "--from",
                          "004712345678/TYPE=PLMN@" + PEER_DOMAIN, "--text",
                          "intl prefix sender"), ruri("+4730000052"))
    assert c.H["p-asserted-identity"].strip("<>") == "tel:+4712345678"


def test_plan_not_e164_rcpt(mode, uas):
    """MMS->CPM plan: RCPT TO +0412345678/TYPE=PLMN (not E.164) -> RES
    Error-sending-address-unresolved"""
    mode.mm4_case(req("--rcpt", "+0412345678/TYPE=PLMN@" + IWF_DOMAIN, "--text", "plus zero"),
                  ruri("+0412345678"), messages=0, res="Error-sending-address-unresolved")


# ---------------------------------------------------------------------------
# group MMS -> CPM: every local recipient's MESSAGE carries the other To/Cc
# recipients as CPIM cc; +4730000303 is in the envelope only (Bcc)
# ---------------------------------------------------------------------------
def test_recipients_group(mode, uas):
    """recipients: MMS->CPM To 301+302, Cc 999, Bcc 303 -> three MESSAGEs, the others as CPIM cc"""
    g = ["+4730000301", "+4730000302", "+4790000999"]
    c = mode.mm4_case(req("--rcpt", plmn("+4730000301"), "--rcpt", plmn("+4730000302"),
                          "--rcpt", plmn("+4730000303"),
                          "--to-hdr", '%s, "B" <%s>' % (plmn("+4730000301"),
                                                        plmn("+4730000302")),
                          "--cc", plmn("+4790000999", PEER_DOMAIN)),
                      r"^tel:\+473000030[123]$", messages=3)
    reqs = c.reqs
    assert sorted(uri_num(x["ruri"]) for x in reqs) == ["+4730000301", "+4730000302",
                                                        "+4730000303"]
    assert all(sorted(uri_num(v) for n, v in x["cpim_order"] if n == "cc") ==
               sorted(n for n in g if n != uri_num(x["ruri"])) for x in reqs)
    assert all([v for n, v in x["cpim_order"] if n == "To"] == ["<%s>" % x["ruri"]]
               for x in reqs)
    assert not any("4730000303" in json.dumps(x["cpim_order"]) + json.dumps(x["headers"])
                   for x in reqs if uri_num(x["ruri"]) != "+4730000303")


# ---------------------------------------------------------------------------
# quirk vectors: raw .eml files sent byte for byte
# ---------------------------------------------------------------------------
def vec(name, *extra):
    return req("--raw", "%s/%s" % (VECTORS, name), *extra)


def test_vector_mms55_quoted_ids(mode, uas):
    """vector mms55_quoted_ids.eml: 5.5.0 peer, quoted ids echoed byte for byte"""
    c = mode.mm4_case(vec("mms55_quoted_ids.eml"), ruri("+4730000041"))
    assert c.e["tid_raw"] == '"vec-5.5.0-0001"'
    assert c.RH["x-mms-message-id"] == '"vec0001.20240501@mms.peer.test"'
    assert c.P["text"] == "Hello from an MMS 5.5.0 relay" and c.C["subject"] == \
        "MMS 5.5.0 vector"


def test_vector_from_without_domain(mode, uas):
    """vector from_without_domain.eml: From +15550001/TYPE=PLMN -> tel:+15550001"""
    c = mode.mm4_case(vec("from_without_domain.eml", "--mail-from", ORIG_SYS),
                      ruri("+4730000042"))
    assert c.H["p-asserted-identity"].strip("<>") == "tel:+15550001"
    assert c.H["from"].startswith("<tel:+15550001>")
    assert c.C["from"] == "<tel:+15550001>"


def test_vector_read_report_spelling(mode, uas):
    """vector read_report_spelling.eml: X-Mms-Read-Report -> display requested"""
    c = mode.mm4_case(vec("read_report_spelling.eml"), ruri("+4730000043"))
    assert c.C["imdn.disposition-notification"] == "display"


def test_vector_tid_recipient_prefix(mode, uas):
    """vector tid_recipient_prefix.eml: tid +4711111111-tx42 echoed byte for byte"""
    c = mode.mm4_case(vec("tid_recipient_prefix.eml"), ruri("+4730000044"))
    assert c.e["tid_raw"] == "+4711111111-tx42"
    assert c.RH["x-mms-message-id"] == "vec0004.20240501@mms.peer.test"


def test_vector_wsp_related_lowercase(mode, uas):
    """vector wsp_related_lowercase.eml: WSP multipart, lower-case names, relative expiry"""
    c = mode.mm4_case(vec("wsp_related_lowercase.eml"), ruri("+4730000045"))
    assert c.P["mime_type"] == "text/plain"
    assert c.P["text"] == "WSP multipart type, lower-case header names, relative expiry ✓"
    assert c.H["expires"] == "604800"
    assert c.C["imdn.disposition-notification"] == "positive-delivery, negative-delivery"


def test_vector_folded_2047_subject(mode, uas):
    """vector folded_2047_subject.eml: folded ISO-8859-1 + UTF-8 encoded words"""
    c = mode.mm4_case(vec("folded_2047_subject.eml"), ruri("+4730000046"))
    assert c.H["subject"] == "Grüße aus Tromsø und mehr" and c.C["subject"] == c.H["subject"]


def test_vector_charset_utf16_koi8(mode, uas):
    """vector charset_utf16_koi8.eml: UTF-16 (BOM) base64 text, KOI8-R + Shift_JIS subject -> UTF-8"""
    c = mode.mm4_case(vec("charset_utf16_koi8.eml"), ruri("+4730000047"))
    assert c.P["mime_type"] == "text/plain" and c.P["charset"] == "utf-8"
    assert c.P["text"] == "Привет из MMS ✓" and chr(0) not in c.r["body_raw"]
    assert c.H["subject"] == "Привет日本語" and c.C["subject"] == c.H["subject"]


def test_vector_charset_gb2312_wsp(mode, uas):
    """vector charset_gb2312_wsp.eml: SMIL + GB2312 text, raw 8-bit windows-1252 subject -> UTF-8"""
    c = mode.mm4_case(vec("charset_gb2312_wsp.eml"), ruri("+4730000048"))
    assert c.P["mime_type"] == "text/plain" and c.P["charset"] == "utf-8"
    assert c.P["text"] == "中文短信：你好"
    assert c.H["subject"] == "Grüße aus Köln €" and c.C["subject"] == c.H["subject"]


def test_vector_charset_latin1_mixed(mode, uas):
    """vector charset_latin1_mixed.eml: multipart passed on, its ISO-8859-1 text part in UTF-8"""
    c = mode.mm4_case(vec("charset_latin1_mixed.eml"), ruri("+4730000049"))
    P = c.P
    assert P["mime_type"] == "multipart/mixed" and not P["defects"]
    assert P["parts"][0]["mime_type"] == "text/plain" and \
        P["parts"][0]["text"] == "Hei på deg, € 5"
    assert P["parts"][1]["mime_type"] == "image/gif" and P["parts"][1]["len"] == 42
    assert "charset=utf-8" in c.r["body_raw"] and "ISO-8859-1" not in c.r["body_raw"]
    assert c.H["subject"] == "Grüße"


# ---------------------------------------------------------------------------
# CPM -> MMS reports: MM4 report REQ from the peer -> IMDN to CPM
# ---------------------------------------------------------------------------
def report_retrieved(mode, mid, iid):
    c = mode.mm4_case(report("dr", mid, "--status", "Retrieved", "--date", DR_DATE), RR,
                      imdn=True)
    r, H, C, X = c.r, c.H, c.C, c.X
    assert r["ruri"] == "sip:+4798765432@ims.test"
    assert H["content-type"] == "message/cpim" and \
        re.match(r"<sip:\+4712345678@iwf\.test;user=phone>", H["from"])
    assert H["to"].startswith("<sip:+4798765432@ims.test>")
    assert H["p-asserted-identity"] == "<sip:+4712345678@iwf.test;user=phone>"
    assert C["from"] == "<sip:+4712345678@iwf.test;user=phone>" and \
        C["to"] == "<sip:+4798765432@ims.test>"
    assert C["ns"] == "imdn <urn:ietf:params:imdn>" and C["imdn.message-id"] != iid
    assert iso(C["datetime"]) == 1714558600 and "imdn.disposition-notification" not in C
    assert r["cpim_content"].get("content-disposition") == "notification"
    assert X["message-id"] == iid and iso(X["datetime"]) == 1714558500
    assert X["recipient-uri"] == "sip:+4712345678@iwf.test;user=phone"
    assert X["kind"] == "delivery-notification" and X["status"] == "delivered"
    assert c.RH["x-mms-message-id"] == c.S["message_id"]


def test_report_dr_retrieved(mode, uas):
    """report MM4_delivery_report.REQ Retrieved -> IMDN delivered to the CPM sender, RES Ok"""
    iid = "rep1-%s-%s" % (mode.name, rnd())
    mid = mode.cpm_msg("+4712345678", iid, "positive-delivery, display")
    report_retrieved(mode, mid, iid)


def test_report_rr_read(mode, uas):
    """report MM4_read_reply_report.REQ Read -> IMDN displayed, RES Ok"""
    iid = "rep1r-%s-%s" % (mode.name, rnd())
    mid = mode.cpm_msg("+4712345678", iid, "positive-delivery, display")
    c = mode.mm4_case(report("rr", mid, "--status", "Read", "--date", RR_DATE), RR, imdn=True)
    X, C = c.X, c.C
    assert X["message-id"] == iid and iso(X["datetime"]) == 1714558500
    assert X["recipient-uri"] == "sip:+4712345678@iwf.test;user=phone" and \
        iso(C["datetime"]) == 1714558805
    assert X["kind"] == "display-notification" and X["status"] == "displayed"


def test_report_second_retrieved(mode, uas):
    """report second Retrieved for the same message -> no second IMDN, RES Ok"""
    iid = "rep1s-%s-%s" % (mode.name, rnd())
    mid = mode.cpm_msg("+4712345678", iid, "positive-delivery, display")
    report_retrieved(mode, mid, iid)
    mode.mm4_case(report("dr", mid), RR, imdn=True, messages=0)


def test_report_only_display_asked(mode, uas):
    """report Retrieved when only display was asked -> no IMDN, RES Ok"""
    mid = mode.cpm_msg("+4712345678", "rep2-%s-%s" % (mode.name, rnd()), "display")
    mode.mm4_case(report("dr", mid), RR, imdn=True, messages=0)


def test_report_nothing_asked(mode, uas):
    """report Retrieved when nobody asked for reports -> no IMDN, RES Ok"""
    mid = mode.cpm_msg("+4712345678", "rep3-%s-%s" % (mode.name, rnd()), "")
    mode.mm4_case(report("dr", mid), RR, imdn=True, messages=0)


def test_report_rejected_imdn_route(mode, uas):
    """report Rejected, IMDN-Record-Route -> IMDN failed via IMDN-Route"""
    iid = "rep4-%s-%s" % (mode.name, rnd())
    mid = mode.cpm_msg("+4712345678", iid, "positive-delivery, negative-delivery",
                       "imdn.IMDN-Record-Route: <sip:as1@cpm.test>")
    c = mode.mm4_case(report("dr", mid, "--status", "Rejected"), r"^sip:as1@cpm\.test$",
                      imdn=True)
    assert c.C["imdn.imdn-route"] == "<sip:as1@cpm.test>" and \
        c.C["to"] == "<sip:+4798765432@ims.test>"
    assert c.X["message-id"] == iid and c.X["status"] == "failed"
    assert c.X["kind"] == "delivery-notification"


def test_report_peer_own_message_id(mode, uas):
    """report with the peer's own X-Mms-Message-ID (from its MM4_forward.RES)
    -> IMDN delivered"""
    iid = "rep5-%s-%s" % (mode.name, rnd())
    mid = mode.cpm_msg("+47883000201", iid, "positive-delivery")
    assert unq(mid) != unq(PEER_OWN_MID), "the REQ already had the peer's id"
    # the row is written once the worker's SMTP session ends; a peer reports
    # much later than this
    time.sleep(1.5)
    c = mode.mm4_case(report("dr", PEER_OWN_MID, "--status", "Retrieved",
                             frm="+47883000201"), RR, imdn=True)
    assert c.X["message-id"] == iid and c.X["status"] == "delivered"
    assert c.X["kind"] == "delivery-notification"
    assert c.X["recipient-uri"] == "sip:+47883000201@iwf.test;user=phone"


def test_report_two_senders_one_imdn_id(mode, uas):
    """report: two senders, one imdn.Message-ID -> two MM ids, the report goes
    to its own sender only"""
    iid = "same-%s-%s" % (mode.name, rnd())
    mid_a = mode.cpm_msg("+4712345678", iid, "positive-delivery", "", "+4798765401")
    mid_b = mode.cpm_msg("+4712345678", iid, "positive-delivery", "", "+4798765402")
    assert mid_a != mid_b, "both MMs got X-Mms-Message-ID " + mid_a
    c = mode.mm4_case(report("dr", mid_b, "--status", "Retrieved", "--date", DR_DATE,
                             to="+4798765402"),
                      r"^sip:\+479876540[12]@ims\.test$", imdn=True)
    assert c.r["ruri"] == "sip:+4798765402@ims.test"
    assert c.X["message-id"] == iid and c.X["status"] == "delivered"


def test_report_unknown_dr(mode, uas):
    """report for an unknown X-Mms-Message-ID -> Error-message-not-found, no IMDN"""
    mode.mm4_case(report("dr", '"no-such-message-%s@%s"' % (rnd(), IWF_DOMAIN)), RR,
                  imdn=True, messages=0, res="Error-message-not-found")


def test_report_unknown_rr(mode, uas):
    """report read reply for an unknown X-Mms-Message-ID -> Error-message-not-found"""
    mode.mm4_case(report("rr", '"no-such-message-rr-%s@%s"' % (rnd(), IWF_DOMAIN)), RR,
                  imdn=True, messages=0, res="Error-message-not-found")


# ---------------------------------------------------------------------------
# MMS -> CPM reports: IMDN from CPM -> MM4 report REQ to the MMS originator
# ---------------------------------------------------------------------------
REPORT_TO = "+4730000100/TYPE=PLMN@mms.peer.test"


def check_report(w, number):
    H, e = w.H, w.e
    assert addrs(H["to"]) == [REPORT_TO]
    assert [x.strip("<>") for x in e["rcpt_tos"]] == [REPORT_TO]
    assert addrs(H["from"]) == ["%s/TYPE=PLMN@mms.iwf.test" % number]
    assert H["x-mms-ack-request"] == "Yes" and \
        H["x-mms-originator-system"] == "system-user@mms.iwf.test"


def dr_rr_req(mode, number, dr="Yes", rr="Yes"):
    """An MMS -> CPM REQ asking for reports: (X-Mms-Message-ID, the MESSAGE's
    imdn.Message-ID, the CPIM headers)."""
    mid = '"mr-%s-%s@%s"' % (mode.name, rnd(), PEER_DOMAIN)
    c = mode.mm4_case(req("--rcpt", plmn(number), "--message-id", mid, "--dr", dr, "--rr", rr),
                      ruri(number))
    return mid, c.C["imdn.message-id"], c.C


def test_dr_rr_requested(mode, uas):
    """MMS->CPM DR+RR requested -> MESSAGE asks positive-delivery, negative-delivery, display"""
    _, _, C = dr_rr_req(mode, "+4730000071")
    assert C["imdn.disposition-notification"] == \
        "positive-delivery, negative-delivery, display"


def imdn_delivered(mode, number, mid, iid):
    w = mode.imdn_case("200", "MM4_delivery_report.REQ", mid, FROM_URI="tel:" + number,
                       TO_URI="tel:+4730000100", ORIG_ID=iid, STATUS="delivered",
                       DATETIME="2024-05-01T10:20:00.000Z")
    check_report(w, number)
    assert w.H["x-mms-mm-status-code"] == "Retrieved" and date(w.H["date"]) == 1714558800
    assert w.H.get("x-mms-forward-to-originator-ua") == "Yes"


def test_imdn_delivered(mode, uas):
    """IMDN delivered -> MM4_delivery_report.REQ Retrieved to the MMS originator"""
    mid, iid, _ = dr_rr_req(mode, "+4730000071")
    imdn_delivered(mode, "+4730000071", mid, iid)


def test_imdn_displayed(mode, uas):
    """IMDN displayed -> MM4_read_reply_report.REQ Read to the MMS originator"""
    mid, iid, _ = dr_rr_req(mode, "+4730000071")
    w = mode.imdn_case("200", "MM4_read_reply_report.REQ", mid, FROM_URI="tel:+4730000071",
                       TO_URI="tel:+4730000100", ORIG_ID=iid, KIND="display-notification",
                       STATUS="displayed", DATETIME="2024-05-01T10:25:00.000Z")
    check_report(w, "+4730000071")
    assert w.H["x-mms-read-status"] == "Read" and date(w.H["date"]) == 1714559100


def test_imdn_delivered_again(mode, uas):
    """IMDN delivered again -> 200, no second MM4_delivery_report.REQ"""
    mid, iid, _ = dr_rr_req(mode, "+4730000071")
    imdn_delivered(mode, "+4730000071", mid, iid)
    mode.imdn_case("200", None, mid, FROM_URI="tel:+4730000071", TO_URI="tel:+4730000100",
                   ORIG_ID=iid, STATUS="delivered")


def test_dr_only_requested(mode, uas):
    """MMS->CPM DR only -> MESSAGE asks positive-delivery, negative-delivery"""
    _, _, C = dr_rr_req(mode, "+4730000072", rr="No")
    assert C["imdn.disposition-notification"] == "positive-delivery, negative-delivery"


def test_imdn_displayed_dr_only(mode, uas):
    """IMDN displayed when only DR was asked -> 200, no MM4_read_reply_report.REQ"""
    mid, iid, _ = dr_rr_req(mode, "+4730000072", rr="No")
    mode.imdn_case("200", None, mid, FROM_URI="tel:+4730000072", ORIG_ID=iid,
                   KIND="display-notification", STATUS="displayed")


def test_imdn_unknown(mode, uas):
    """IMDN for an unknown message -> 404, no MM4 report"""
    mode.imdn_case("404", None, '"none"', ORIG_ID="unknown-imdn-" + rnd())


# ---------------------------------------------------------------------------
# the counters: a mix of traffic, the growth of each counter equal to what
# this test sent and what the peer and the CPM UAS saw meanwhile
# ---------------------------------------------------------------------------
def test_stats_counters(mode, uas, kam):
    """kamcmd cpm_mms.stats counters match the mix (of this test: a duplicate
    REQ, a relay attempt, a report each way)"""
    time.sleep(1)
    s0 = kam.stats()
    mark, offset = mode.peer_mark(), mode.uas_mark()
    with open(mode.sends_log, "rb") as f:
        sends_mark = sum(1 for _ in f)
    dups = imdn_in = 0
    # MMS -> CPM with a duplicate, a relay attempt (550), a report each way
    mode.mm4_case(req("--rcpt", plmn("+4730000062"), "--count", "2", "--gap", "1.0"),
                  ruri("+4730000062"), res_count=2, settle=1.0)
    dups += 1
    mode.mm4_case(req("--rcpt", "+4730000063/TYPE=PLMN@other.domain"), ruri("+4730000063"),
                  smtp=550, stage="rcpt", messages=0, res="none")
    mid, iid, _ = dr_rr_req(mode, "+4730000064")
    imdn_in += 1
    imdn_delivered(mode, "+4730000064", mid, iid)
    iid2 = "st-%s-%s" % (mode.name, rnd())
    mid2 = mode.cpm_msg("+4712345678", iid2, "positive-delivery")
    mode.mm4_case(report("dr", mid2), RR, imdn=True)
    time.sleep(1)
    s1 = kam.stats()
    sends = read_events(mode.sends_log, sends_mark)
    evs = read_events(mode.peer_log, mark)
    reqs = [r for r in uas_requests(mode.uas_trace, offset) if r.get("method") == "MESSAGE"]
    want = {
        "mm4_req_in": sum(1 for x in sends if x.get("kind") == "req" and x.get("ok")),
        "mm4_duplicates": dups,
        "messages_out": sum(1 for r in reqs if not r.get("is_imdn")),
        "res_sent": sum(1 for e in evs if e.get("event") == "rx_res"),
        "reports_in": sum(1 for x in sends if x.get("kind") in ("dr", "rr") and x.get("ok")),
        "reports_out": sum(1 for e in evs if e.get("event") == "rx_report"),
        "imdn_in": imdn_in,
        "imdn_out": sum(1 for r in reqs if r.get("is_imdn")),
        "mm4_refused": sum(1 for x in sends if x.get("stage") == "connect" and x.get("code") == 554)
        + sum(1 for x in sends for c in (x.get("rcpt_replies") or {}).values() if c[0] == 550),
    }
    got = {k: s1.get(k, 0) - s0.get(k, 0) for k in want}
    print("counters grew by %s" % got)
    assert got == want
    assert all(v > 0 for k, v in got.items() if k != "mm4_refused"), \
        "a counter did not change (the mix should have made it grow): %s" % got


# ---------------------------------------------------------------------------
# the slow cases started by `background`
# ---------------------------------------------------------------------------
def test_expiry_req_in_time(mode, uas, background):
    """expiry: MMS->CPM DR requested, X-Mms-Expiry in 10 s, IMDN in time"""
    assert background.c_req == "ok", background.c_req


def test_expiry_imdn_before_expiry(mode, uas, background):
    """expiry: IMDN delivered before X-Mms-Expiry -> MM4_delivery_report.REQ Retrieved"""
    assert background.c_imdn == "ok", background.c_imdn


def test_expiry_req_no_imdn(mode, uas, background):
    """expiry: MMS->CPM DR requested, X-Mms-Expiry in 15 s, no IMDN"""
    assert background.b_req == "ok", background.b_req


def test_noanswer(mode, uas, background):
    """MMS->CPM no answer from CPM (tm fr_timer 30 s) -> RES Error-network-problem"""
    background.thread.join(50)
    assert background.noanswer == "ok", background.noanswer


def test_db_purge(mode, uas, background):
    """DB: expired correlation rows purged within 70 s, live rows kept"""
    bg, kam = background, uas.kam.cur
    q = ("SELECT count(*) FROM cpm_mms_corr WHERE imdn_message_id IN "
         "('e2e-expired-%s', 'e2e-expired2-%s');" % (bg.tag, bg.tag))
    left = None
    for _ in range(80):
        left = kam.sql(q)
        if left == "0" or time.time() - bg.t_ins > 70:
            break
        time.sleep(1)
    fresh = kam.sql("SELECT count(*) FROM cpm_mms_corr WHERE imdn_message_id = "
                    "'e2e-fresh-%s';" % bg.tag)
    took = time.time() - bg.t_ins
    assert left == "0" and fresh == "1", \
        "after %d s: expired rows left '%s', fresh rows '%s' (want 0 and 1)" % (took, left, fresh)


def test_expiry_expired_report(mode, uas, background):
    """expiry: no IMDN by X-Mms-Expiry -> one MM4_delivery_report.REQ Expired
    to the originator (within 10 s of the expiry, + margin), marked in its row"""
    bg = background
    assert bg.b_req == "ok", "prerequisite failed: " + bg.b_req
    w = mode.peer_wait(bg.exp_mark, "rx_report",
                       lambda e, H: unq(H.get("x-mms-message-id")) == unq(bg.b_mid),
                       count=1, exact=True, timeout=60, settle=2)
    H, e = w.H, w.e
    assert not e["failures"]
    assert e["message_type"] == "MM4_delivery_report.REQ"
    assert H["x-mms-mm-status-code"] == "Expired"
    assert addrs(H["to"]) == [REPORT_TO]
    assert [x.strip("<>") for x in e["rcpt_tos"]] == [REPORT_TO]
    assert addrs(H["from"]) == ["+4730000074/TYPE=PLMN@mms.iwf.test"]
    assert H.get("x-mms-forward-to-originator-ua") == "Yes"
    assert any(x.get("event") == "res" and x.get("seq") == e["seq"] and x.get("sent")
               for x in w.ALL)
    # and marked in its row: no second one in a later round
    rows = uas.kam.cur.sql("SELECT reports_done || ':' || mm_expiry FROM cpm_mms_corr WHERE "
                           "mms_message_id = '%s';" % unq(bg.b_mid))
    assert rows == "1:0", "row reports_done:mm_expiry '%s', expected '1:0'" % rows


def test_expiry_imdn_first(mode, uas, background):
    """expiry: IMDN came first -> no Expired report"""
    bg = background
    assert bg.c_imdn == "ok" and bg.b_req == "ok", "prerequisite failed"
    # b expires after c: once b's Expired is there, c's round has passed
    mode.peer_wait(bg.exp_mark, "rx_report",
                   lambda e, H: unq(H.get("x-mms-message-id")) == unq(bg.b_mid),
                   count=1, timeout=60)
    w = mode.peer_wait(bg.exp_mark, "rx_report",
                       lambda e, H: unq(H.get("x-mms-message-id")) == unq(bg.c_mid),
                       count=1, exact=True, timeout=1, settle=0.5)
    assert w.H["x-mms-mm-status-code"] == "Retrieved"



