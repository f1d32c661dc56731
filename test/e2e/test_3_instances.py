# SPDX-License-Identifier: GPL-2.0-or-later
"""Cases that need a Kamailio of their own or a restart: the fault matrix,
a correlation DB that cannot be opened, restarts with work pending, the
same DB across a restart, and a CPM side unreachable over TCP.

Each sequence with several checks runs once in a module-scoped fixture
that records the outcome of every step; each test asserts one of them.
"""

import os
import re
import subprocess
import threading
import time

import pytest

import e2elib
from conftest import (FAULT_SERVER, IWF_DOMAIN, MM4, PEER_DOMAIN, PY, SHM_MARGIN, SIP_IP,
                      SIP_PORT, Fail, plmn, port_bound, run)


class Steps:
    """Outcomes of the steps of one sequence: name -> "ok" or why not."""

    def __init__(self):
        self.res = {}
        self.broken = None

    def run(self, name, fn, *a, **kw):
        if self.broken:
            self.res[name] = "prerequisite failed: " + self.broken
            return None
        try:
            v = fn(*a, **kw)
            self.res[name] = "ok"
            return v
        except Exception as e:  # noqa: BLE001 - reported by the test of this step
            self.res[name] = "%s: %s" % (type(e).__name__, e)
            return None

    def need(self, name, fn, *a, **kw):
        """A step the later ones build on."""
        v = self.run(name, fn, *a, **kw)
        if self.res[name] != "ok":
            self.broken = "%s (%s)" % (name, self.res[name])
        return v

    def check(self, name):
        assert name in self.res, "step %r did not run" % name
        assert self.res[name] == "ok", self.res[name]


def fault_server(mode, kind, addr):
    log = open(mode.path("fault-%s.log" % kind), "ab")
    p = mode.procs.popen([PY, FAULT_SERVER, kind, addr, "--max-seconds", "300"],
                         name="fault-" + kind, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return p


# ---------------------------------------------------------------------------
# fault matrix: misbehaving MMSCs and DNS (ldns)
# ---------------------------------------------------------------------------
@pytest.fixture
def mmscs(mode, kam):
    """An MMSC that accepts and never answers (127.0.0.4:25) and one that
    closes the connection mid-DATA (127.0.0.5:25)."""
    ps = [fault_server(mode, "blackhole", "127.0.0.4:25"),
          fault_server(mode, "middata", "127.0.0.5:25")]
    time.sleep(0.5)
    yield kam
    for p in ps:
        mode.procs.stop(p)


@pytest.mark.modes("ldns")
@pytest.mark.parametrize("ruri_user, expect", [
    ("+4790000020", "404"), ("+4790000021", "503"), ("+4790000023", "503"),
    ("+4790000022", "202")],
    ids=["fault: NAPTR regexp that does not compile -> 404",
         "fault: MX pointing at a name without address -> 503",
         "fault: MMSC closes the connection mid-DATA -> 503",
         "fault: MMSC accepts and never answers -> 202 at res_timeout"])
def test_fault_mmsc(mode, mmscs, ruri_user, expect):
    mode.msg_case(expect, nomail=True, RURI_USER=ruri_user)


@pytest.fixture
def kam_dnshole(mode):
    """An instance whose ENUM server swallows every question, at most 5
    MESSAGEs may wait, res_timeout long enough for DNS to time out, short
    MM4 listener limits."""
    if getattr(mode, "dnshole", None) is None or mode.dnshole.poll() is not None:
        mode.dnshole = fault_server(mode, "dnshole", "127.0.0.9:5300")
        time.sleep(0.3)
    k = mode.kam.ensure("kamailio-faults", ENUM_SERVER="127.0.0.9:5300", RES_TIMEOUT=10,
                        MAX_PENDING=5, IDLE=2, SESSION=5, PEER_CONNS=2)
    yield k
    # the next test that is not a dnshole one gets the ordinary instance
    # (the fault server lives as long as the mode)


def burst(mode, kam):
    """20 MESSAGEs at 200/s; every one answered 503 at once or 503/202 later."""
    cid = mode.case_id()
    scen = mode.scenario(cid, "503|202", {"RURI_USER": "+4712345678"})
    s0 = kam.stats()
    s = mode.sipp_run(cid, scen, 5072, 20, ["-r", "200"])
    ok20 = re.search(r"Successful call.*\|\s*20\s*$", s.out, re.M)
    assert s.rc == 0 and ok20, "sipp rc=%d: %s" % (s.rc, mode.sipp_stats(s.out))
    return kam.stats()["local_rejects"] - s0.get("local_rejects", 0)


@pytest.mark.modes("ldns")
def test_fault_enum_never_answers(mode, kam_dnshole):
    """fault: ENUM server never answers -> 503"""
    mode.msg_case("503", nomail=True, RURI_USER="+4712345678")


@pytest.mark.modes("ldns")
def test_fault_burst_over_max_pending(mode, kam_dnshole):
    """fault: burst of 20 over max_pending 5 -> every MESSAGE one answer (503
    at once or 503/202 later), at least 10 refused at once (local_rejects)"""
    rej = burst(mode, kam_dnshole)
    assert rej >= 10, "only %d refused at once (local_rejects)" % rej


@pytest.mark.modes("ldns")
@pytest.mark.parametrize("how, arg", [("idle", 5), ("trickle", 9), ("perpeer", 3),
                                      ("junk", 100)],
                         ids=["idle MM4 connection -> 421 and closed (mm4_idle_timeout 2 s)",
                              "slowloris (a byte a second) closed (mm4_session_timeout 5 s)",
                              "third connection from one peer -> 421 (mm4_peer_connections 2)",
                              "101st NOOP without a mail -> 421 (mm4_junk_commands 100)"])
def test_fault_listener_limits(mode, kam_dnshole, how, arg):
    ok, out = mode.probe(how, MM4, arg)
    assert ok, out


@pytest.mark.modes("ldns")
def test_fault_listener_connection_rate(mode, kam_dnshole):
    """fault: mm4_peer_connection_rate 5 (cfg.set at runtime): a peer's sixth
    connection within the minute -> 421, the first five greeted"""
    kam = kam_dnshole
    kam.cfg_set("mm4_peer_connection_rate", 5)
    try:
        time.sleep(1.2)   # the listener takes it at its next round (1 s at most)
        ok, out = mode.probe("rate", MM4, 6)
    finally:
        kam.cfg_set("mm4_peer_connection_rate", 0)
    assert ok, out
    assert "over 5 a minute" in kam.text(), "no log line for the refusal"


def listener_pkg(kam):
    """pkg bytes the MM4 listener process uses (kamcmd pkg.stats)."""
    pid = None
    for rec in kam.out("core.psx").split("{"):
        if "MM4 listener" in rec:
            pid = re.search(r"PID: (\d+)", rec).group(1)
    assert pid, "no MM4 listener in core.psx"
    for rec in kam.out("pkg.stats").split("{"):
        if re.search(r"pid: %s\b" % pid, rec):
            return int(re.search(r"real_used: (\d+)", rec).group(1))
    raise AssertionError("no pkg.stats entry for the listener pid %s" % pid)


@pytest.mark.modes("ldns")
def test_fault_listener_deaf_peer(mode, kam_dnshole):
    """fault: a peer that pipelines 30 000 HELPs and never reads a reply does
    not grow the listener's memory (it stops reading the peer's commands
    while 64 KB of replies are unread)"""
    kam = kam_dnshole
    before = listener_pkg(kam)
    res = {}
    t = threading.Thread(target=lambda: res.update(out=mode.probe("deaf", MM4, 30000)[1]))
    t.start()
    peak = before
    while t.is_alive():
        peak = max(peak, listener_pkg(kam))
        time.sleep(0.1)
    t.join()
    print("%s; listener pkg +%d bytes" % (res.get("out"), peak - before))
    assert peak - before < 512 * 1024, \
        "listener pkg %d -> %d bytes (%s)" % (before, peak, res.get("out"))


@pytest.mark.modes("ldns")
def test_fault_nothing_left(mode, kam_dnshole):
    """fault: nothing left pending and shm back to its level after the faults
    (a burst and the listener probes of its own)"""
    kam = kam_dnshole
    before = kam.shm()[0]
    burst(mode, kam)
    for how, arg in (("idle", 5), ("perpeer", 3)):
        mode.probe(how, MM4, arg)
    # the workers are still waiting on DNS for the admitted ones
    for _ in range(40):
        if kam.stat("pending") == "0":
            break
        time.sleep(0.5)
    time.sleep(6)   # tm's wait timer frees the answered transactions
    after = kam.shm()[0]
    assert kam.stat("pending") == "0"
    assert after - before <= SHM_MARGIN, "shm %d -> %d" % (before, after)


@pytest.mark.modes("ldns")
def test_fault_db_cannot_be_opened(mode):
    """fault: correlation DB cannot be opened -> 30 MESSAGEs answered 200, one
    error line per process (it retries once a second)"""
    kam = mode.kam.ensure("kamailio-nodb",
                          DB_URL="sqlite:///" + mode.path("no-such-dir", "corr.sqlite"))
    cid = mode.case_id()
    scen = mode.scenario(cid, "200", {"RURI_USER": "+4712345678"})
    s = mode.sipp_run(cid, scen, 5072, 30, ["-r", "100"])
    errs = kam.text().count("cannot connect to sqlite")
    procs = len(kam.children()) + 1
    assert s.rc == 0, "sipp rc=%d: %s" % (s.rc, mode.sipp_stats(s.out))
    assert 1 <= errs <= procs, \
        "%d 'cannot connect' lines for %d processes" % (errs, procs)


# ---------------------------------------------------------------------------
# restart with a CPM -> MMS MESSAGE pending (ldns)
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def restart_cpm(mode):
    """An instance with res_timeout 20 s takes a MESSAGE over UDP; the peer
    accepts the REQ and holds its RES (+4710000045); SIGTERM while the
    MESSAGE is suspended, start again at once.  The client's retransmission
    (T1 500 ms doubling up to T2 4 s, the last one 19.5 s after the first
    send) reaches the new instance, which sends a second REQ; the test plays
    the peer's RESs."""
    st = Steps()
    number = "+4710000045"
    st.tid1 = st.tid2 = None
    k = mode.kam.start("kamailio-rs1", RES_TIMEOUT=20)
    cid = mode.case_id()
    scen = mode.scenario(cid, "200", {"RURI_USER": number, "BODY": "sent before the restart"})
    # the answer comes after a restart: each wait 40 s instead of 15
    with open(scen) as f:
        s = f.read().replace('timeout="15000"', 'timeout="40000"')
    with open(scen, "w") as f:
        f.write(s)
    mark = mode.peer_mark()
    t0 = time.time()
    bg = mode.sipp_bg(cid, scen, 5075, recv_timeout=40000, timeout="60s")
    why = []
    st.tid1 = mode.wait_mail(mark, number, 5.0)
    if not st.tid1:
        why.append("no first MM4_forward.REQ for %s at the peer" % number)
    else:
        mark2 = mode.peer_mark()
        t1 = time.time()
        if not mode.kam.stop():
            why.append("kamailio needed SIGKILL with a MESSAGE pending")
        try:
            k = mode.kam.start("kamailio-rs2", RES_TIMEOUT=20)
        except Fail as e:
            why.append("kamailio did not start again: %s" % e)
            k = None
        if k is not None:
            print("stopped %.1f s after the MESSAGE, up again %.1f s later"
                  % (t1 - t0, time.time() - t1))
            st.tid2 = mode.wait_mail(mark2, number, 25.0)
            if not st.tid2:
                why.append("no second REQ: the retransmission did not reach the restarted IWF")
            else:
                ok, out = mode.send_res(st.tid2, "Ok")
                if not ok:
                    why.append("RES for the second REQ refused: " + out)
    rc = mode.procs.wait(bg, 40)
    got = e2elib.sipp_codes(mode.path("sipp", cid + ".msg"))
    finals = len([x for x in got.split(",") if re.match(r"\s*[2-6]\d\d", x)])
    reqs = [e.get("hdr", {}) for e in e2elib.mails_after(mode.peer_log, mark)
            if any(number in r for r in e.get("rcpt_tos", []))]
    mids = {h.get("x-mms-message-id", "").strip().strip('"') for h in reqs}
    nreq = (len(reqs), len({h.get("x-mms-transaction-id") for h in reqs}), len(mids))
    mid = sorted(mids)[0] if mids else "-"
    rows = mode.kam.cur.sql(
        "SELECT count(*) FROM cpm_mms_corr WHERE direction = 1 AND imdn_message_id = "
        "(SELECT imdn_message_id FROM cpm_mms_corr WHERE mms_message_id = '%s');" % mid) \
        if mode.kam.cur else "?"
    print("client got: %s; REQs, transaction ids, X-Mms-Message-IDs: %s (%s, %s, %s); "
          "correlation rows: %s" % (got, nreq, st.tid1, st.tid2, mid, rows))

    def first():
        assert not why, "; ".join(why) + "; client got: " + got
        assert rc == 0 and finals == 1 and got.startswith("200"), \
            "client got: %s (sipp rc=%s), expected exactly one final answer, 200" % (got, rc)
        # each REQ has its own X-Mms-Message-ID (never the client's id)
        assert nreq == (2, 2, 2), \
            "the peer got REQs, transaction ids, X-Mms-Message-IDs: %s, expected 2 2 2" % (nreq,)
        assert rows == "2", "%s correlation rows for the imdn.Message-ID of %s, expected 2" % (
            rows, mid)
    st.run("retransmission", first)

    def second():
        # the peer answers the first REQ now: nobody waits for it any more
        k = mode.kam.cur
        assert st.tid1 and k is not None and k.alive(), \
            "prerequisite failed (no first REQ or kamailio not running)"
        ok, out = mode.send_res(st.tid1, "Ok")
        assert ok, "RES not accepted with 250: " + out
        time.sleep(0.3)
        s = k.stats()     # the counters start at 0 with the new instance
        d = {n: s.get(n, 0) for n in ("messages_in", "mm4_req_sent", "res_unmatched")}
        assert d == {"messages_in": 1, "mm4_req_sent": 1, "res_unmatched": 1}, \
            "counters of the restarted instance: %s" % d
        assert k.stat("pending") == "0"
        want = "MM4_forward.RES %s (Ok) matches no waiting MESSAGE" % st.tid1.replace('"', "")
        assert want in k.text(), "no 'matches no waiting MESSAGE' line for %s" % st.tid1
    st.run("old RES", second)
    yield st
    mode.kam.stop()


@pytest.mark.modes("ldns")
def test_restart_cpm_retransmission(mode, restart_cpm):
    """restart: CPM->MMS MESSAGE suspended at SIGTERM -> UDP retransmission
    reaches the restarted IWF, second MM4_forward.REQ (new transaction id and
    X-Mms-Message-ID, both the IWF's own: at-least-once), exactly one final
    answer 200"""
    restart_cpm.check("retransmission")


@pytest.mark.modes("ldns")
def test_restart_cpm_old_res(mode, restart_cpm):
    """restart: RES for the REQ sent before the restart -> SMTP 250, counted
    in res_unmatched, nothing pending"""
    restart_cpm.check("old RES")


# ---------------------------------------------------------------------------
# the same correlation DB across a restart (MM4 modes)
# ---------------------------------------------------------------------------
RESTRICTED_PEERS = "127.0.0.1/32 127.0.0.2/32"


@pytest.fixture(scope="module")
def restart_db(mode):
    """One message each way that asks for reports, a restart with the same
    DB and mm4_peers 127.0.0.1 + 127.0.0.2: their reports must still be
    mapped; a mail from 127.0.0.3 gets 554."""
    st = Steps()
    mode.kam.ordinary()
    mode.ensure_uas()
    tag = "%s-%d" % (mode.name, int(time.time() * 1000) % 10000000)
    rs_mid = '"rs-%s@%s"' % (tag, PEER_DOMAIN)
    rs_cpm_iid = "rs-" + tag

    def mms_before():
        c = mode.mm4_case(["send-req", "--to", MM4, "--rcpt", plmn("+4730000081"),
                           "--message-id", rs_mid, "--dr", "Yes"], r"^tel:\+4730000081$")
        return c.C["imdn.message-id"]
    rs_iid = st.need("mms before", mms_before)
    rs_mms_mid = st.need("cpm before", mode.cpm_msg, "+4712345678", rs_cpm_iid,
                         "positive-delivery")

    def rows():
        got = mode.kam.cur.sql(
            "SELECT direction || ':' || count(*) FROM cpm_mms_corr WHERE mms_message_id IN "
            "('%s', '%s') GROUP BY direction ORDER BY direction;"
            % (rs_mid.replace('"', ""), rs_mms_mid.replace('"', "")))
        assert got.split() == ["1:1", "2:1"], \
            "direction:count = %r, expected '1:1 2:1'" % got
    st.run("rows", rows)

    def stop():
        assert mode.kam.stop(), "needed SIGKILL"
    st.run("stop", stop)
    st.need("start", mode.kam.start, "kamailio-restart", PEERS=RESTRICTED_PEERS)
    def imdn_after():
        w = mode.imdn_case("200", "MM4_delivery_report.REQ", rs_mid, FROM_URI="tel:+4730000081",
                           ORIG_ID=rs_iid, STATUS="delivered")
        assert w.H["x-mms-mm-status-code"] == "Retrieved"
    st.run("imdn after", imdn_after)

    def report_after():
        c = mode.mm4_case(["send-report", "--type", "dr", "--to", MM4, "--message-id",
                           rs_mms_mid, "--from", plmn("+4712345678", PEER_DOMAIN),
                           "--to-hdr", plmn("+4798765432", IWF_DOMAIN)],
                          r"^sip:\+4798765432@ims\.test$", imdn=True)
        assert c.X["message-id"] == rs_cpm_iid and c.X["status"] == "delivered", c.X
    st.run("report after", report_after)
    st.run("554", lambda: mode.mm4_case(
        ["send-req", "--to", MM4, "--bind", "127.0.0.3", "--rcpt", plmn("+4730000030")],
        r"^tel:\+4730000030$", smtp=554, stage="connect", messages=0, res="none"))
    yield st
    mode.kam.stop()


@pytest.mark.modes("mm4")
def test_restart_db_mms_before(mode, restart_db):
    """restart: MMS->CPM with DR before the restart"""
    restart_db.check("mms before")


@pytest.mark.modes("mm4")
def test_restart_db_cpm_before(mode, restart_db):
    """restart: CPM->MMS with positive-delivery before the restart"""
    restart_db.check("cpm before")


@pytest.mark.modes("mm4")
def test_restart_db_rows(mode, restart_db):
    """DB: correlation rows for both directions before the restart"""
    restart_db.check("rows")


@pytest.mark.modes("mm4")
def test_restart_db_stops(mode, restart_db):
    """restart: kamailio stops on SIGTERM"""
    restart_db.check("stop")


@pytest.mark.modes("mm4")
def test_restart_db_starts(mode, restart_db):
    """restart: kamailio starts again with the same DB (mm4_peers 127.0.0.1, 127.0.0.2)"""
    restart_db.check("start")


@pytest.mark.modes("mm4")
def test_restart_db_imdn_after(mode, restart_db):
    """restart: IMDN after the restart -> MM4_delivery_report.REQ (DB correlation)"""
    restart_db.check("imdn after")


@pytest.mark.modes("mm4")
def test_restart_db_report_after(mode, restart_db):
    """restart: MM4_delivery_report.REQ after the restart -> IMDN delivered (DB correlation)"""
    restart_db.check("report after")


@pytest.mark.modes("mm4")
def test_peer_outside_mm4_peers(mode, restart_db):
    """MMS->CPM from an address outside mm4_peers (127.0.0.3) -> 554 at connect"""
    restart_db.check("554")


# ---------------------------------------------------------------------------
# restart with an MMS -> CPM REQ acknowledged but not yet answered (ldns)
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def restart_mm4(mode):
    """The REQ for +4720000201 (the CPM UAS answers 200 after 1.5 s) is taken
    (250) and its MESSAGE sent; Kamailio is stopped before the UAS answers, so
    no RES can be sent.  After the restart the peer sends the same REQ again
    (same X-Mms-Transaction-ID and X-Mms-Message-ID): the duplicate state was
    in shm, so it is delivered to the CPM side again and answered once."""
    st = Steps()
    mode.kam.ordinary()
    mode.ensure_uas()
    number = "+4720000201"
    tag = "%s-%d" % (mode.name, int(time.time() * 1000) % 10000000)
    tid, mid = '"rs-tid-%s"' % tag, '"rs-mid-%s@%s"' % (tag, PEER_DOMAIN)
    args = ["send-req", "--to", MM4, "--rcpt", plmn(number), "--tid", tid, "--message-id", mid]

    def acked():
        mark, offset = mode.peer_mark(), mode.uas_mark()
        rc, out = run([PY, os.path.join(os.path.dirname(__file__), "mm4_peer.py")] + args +
                      ["--text", "sent before the restart"], timeout=60, env=mode.peer_env)
        # the MESSAGE is in tm's hands before the 250: stop now, the UAS
        # answers only 1.5 s after it got the MESSAGE
        why = []
        if not mode.kam.stop():
            why.append("kamailio needed SIGKILL with a MESSAGE pending")
        if '"code": 250' not in out:
            why.append("the REQ was not taken: " + out[-300:])
        elif not e2elib.wait_for(lambda: mode.uas_sel(offset, r"^tel:\+4720000201$"), 1, 3):
            why.append("no MESSAGE at the CPM UAS before the stop")
        try:
            mode.kam.start("kamailio-rs3")
        except Fail as e:
            raise Fail("; ".join(why + ["kamailio did not start again: %s" % e]))
        # the UAS's 200 (1.5 s after the MESSAGE) reached no Kamailio
        if not why:
            try:
                mode.peer_wait(mark, "rx_res", lambda e, H: e.get("tid_raw") == tid, count=0,
                               exact=True, timeout=2.5)
            except Fail as e:
                why.append("the peer got a RES: %s" % e)
        assert not why, "; ".join(why)
    st.need("acked", acked)

    def again():
        k = mode.kam.cur
        s0 = k.stats()
        c = mode.mm4_case(args + ["--text", "sent again after the restart"],
                          r"^tel:\+4720000201$", res="Ok", res_count=1, settle=1.0, timeout=8)
        assert c.RH["x-mms-message-id"] == c.S["message_id"]
        s1 = k.stats()
        d = {n: s1.get(n, 0) - s0.get(n, 0)
             for n in ("mm4_req_in", "mm4_duplicates", "messages_out", "res_sent")}
        assert d == {"mm4_req_in": 1, "mm4_duplicates": 0, "messages_out": 1, "res_sent": 1}, \
            "counters: %s" % d
    st.run("again", again)
    yield st
    mode.kam.stop()


@pytest.mark.modes("ldns")
@pytest.mark.modes("mm4")
def test_restart_mm4_no_res(mode, restart_mm4):
    """restart: MMS->CPM REQ acked (250), MESSAGE unanswered at SIGTERM -> no RES"""
    restart_mm4.check("acked")


@pytest.mark.modes("ldns")
@pytest.mark.modes("mm4")
def test_restart_mm4_sent_again(mode, restart_mm4):
    """restart: the same REQ sent again after the restart -> delivered to CPM
    again (duplicate state lost), exactly one RES Ok"""
    restart_mm4.check("again")


# ---------------------------------------------------------------------------
# the CPM side unreachable over TCP (ldns)
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def unreachable(mode):
    """An instance that also listens on TCP with cpm_route
    sip:127.0.0.1:5099;transport=tcp, where nothing listens: the connection
    is refused at once."""
    st = Steps()
    dead = 5099
    mode.ensure_uas()
    number = "+4730000090"
    tid = '"unr-tid-%s-%d"' % (mode.name, int(time.time() * 1000) % 10000000)
    args = ["send-req", "--to", MM4, "--rcpt", plmn(number), "--tid", tid,
            "--text", "to a dead CPM core"]

    def start():
        assert not port_bound("t", dead), "something listens on %s:%d" % (SIP_IP, dead)
        mode.kam.start("kamailio-tcpdead",
                       SIP_LISTEN="udp:%s:%d tcp:%s:%d" % (SIP_IP, SIP_PORT, SIP_IP, SIP_PORT),
                       CPM_ROUTE="sip:%s:%d;transport=tcp" % (SIP_IP, dead))
        time.sleep(1)
    st.need("start", start)
    st.s0 = None

    def first():
        st.s0 = mode.kam.cur.shm()[0]
        # fr_timer is 30 s: wait up to 35 s to see when the RES comes
        c = mode.mm4_case(args, "^tel:%s$" % re.escape(number), messages=0,
                          res="Error-network-problem", timeout=35)
        st.took = time.time() - c.started
        st.text = c.RH.get("x-mms-status-text")
        print("the RES after %.1f s: %s" % (st.took, st.text))
    st.need("first", first)

    def at_once():
        assert st.took < 5 and st.text == "SIP send failed", \
            "the RES (%s) came after %.1f s" % (st.text, st.took)
    st.run("at once", at_once)

    def again():
        k = mode.kam.cur
        mode.mm4_case(args, "^tel:%s$" % re.escape(number), messages=0,
                      res="Error-network-problem", timeout=5)
        time.sleep(6)   # tm's wait timer
        s1 = k.shm()[0]
        assert k.stat("pending") == "0", "pending %s" % k.stat("pending")
        assert s1 - st.s0 <= SHM_MARGIN, "shm %d -> %d" % (st.s0, s1)
        assert k.alive(), "kamailio died"
    st.run("again", again)
    yield st
    mode.kam.stop()


@pytest.mark.modes("ldns")
@pytest.mark.modes("mm4")
def test_unreachable_one_res(mode, unreachable):
    """unreachable: MMS->CPM cpm_route over TCP to a closed port -> exactly
    one RES Error-network-problem, no MESSAGE delivered"""
    unreachable.check("start")
    unreachable.check("first")


@pytest.mark.modes("ldns")
@pytest.mark.modes("mm4")
def test_unreachable_at_once(mode, unreachable):
    """unreachable: that RES comes at once (< 5 s, 'SIP send failed'), not at
    fr_timer (30 s)"""
    unreachable.check("at once")


@pytest.mark.modes("ldns")
@pytest.mark.modes("mm4")
def test_unreachable_again(mode, unreachable):
    """unreachable: nothing pending, the same REQ again gets the same RES,
    shm back to its level"""
    unreachable.check("again")
