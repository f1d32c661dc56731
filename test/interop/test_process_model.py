# SPDX-License-Identifier: GPL-2.0-or-later
"""The module's own processes as Kamailio's process model makes them.

The MM4 workers and the listener are Kamailio processes whose modules'
child_init ran there: every SIP request they originate carries a Call-ID of
its own process (tm's suffix holds the pid), the sample's native
event_route[cpm-mms:mm4-request] runs, and an event route can use a module
that connects in child_init (sqlops). The event route runs in the MM4
delivery process: a slow one holds up no MM4 connection.
"""

import os
import re
import socket
import subprocess
import time

import pytest

from conftest import (CORE_SIP, IWF_DOMAIN, MODULE, OUT, PEER, PEER_DOMAIN, PEER_MM4, PY,
                      SAMPLE_CFG, SCHEMA, start_kamailio, wait_until)

REQS = 40           # MM4_forward.REQs ...
RCPTS = 25          # ... to this many recipients each: 1 000 MESSAGEs toward CPM


def plmn(number, domain):
    return "%s/TYPE=PLMN@%s" % (number, domain)


def send_req(mm4, rcpts, tid, extra=()):
    argv = [PY, PEER, "send-req", "--to", "%s:%d" % mm4, "--bind", PEER_MM4[0],
            "--from", plmn("+4791000001", PEER_DOMAIN), "--tid", '"%s"' % tid,
            "--message-id", '"%s@%s"' % (tid, PEER_DOMAIN), "--ack", "Yes",
            "--text", "process model %s" % tid]
    for r in rcpts:
        argv += ["--rcpt", plmn(r, IWF_DOMAIN)]
    r = subprocess.run(argv + list(extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    assert '"ok": true' in out, "the IWF's MM4 listener did not take %s: %s" % (tid, out[-600:])


def core_call_ids(cpm_core, since, regex):
    """Call-IDs of the MESSAGEs the CPM core received (its log_prefix holds $ci)."""
    ids = []
    for ln in cpm_core.lines(since, regex):
        mo = re.search(r"\{core \S+ (\S+)\} .*core: MESSAGE [a-z]+:", ln)
        if mo:
            ids.append(mo.group(1))
    return ids


def processes(ctl):
    """kamcmd core.psx -> [(pid, description)]."""
    out = subprocess.run(["kamcmd", "-s", ctl, "core.psx"], stdout=subprocess.PIPE,
                         timeout=10).stdout.decode("utf-8", "replace")
    return [(int(p), d.strip()) for p, d in
            re.findall(r"PID:\s*(\d+)\s*\n\s*DSC:\s*([^\n]*)", out)]


def test_sample_event_route_runs(iwf, cpm_core):
    """The sample's event_route[cpm-mms:mm4-request] logs every recipient."""
    mark = iwf.mark()
    tid = "route-%d" % os.getpid()
    send_req(("127.0.0.1", 2526), ["+4799100001"], tid)
    seen = wait_until(lambda: iwf.lines(mark, r"MM4 .*%s.* from .* -> .* via " % tid), 10)
    assert seen, ("the sample's event_route[cpm-mms:mm4-request] did not run for %s; the IWF "
                  "log since the REQ:\n%s" % (tid, "\n".join(iwf.lines(mark)[-15:])))


def test_module_requests_carry_distinct_call_ids(iwf, cpm_core):
    """1 000 MESSAGEs the module originates: 1 000 Call-IDs, each with the
    pid of the module process that sent it (not the main process's)."""
    mark = cpm_core.mark()
    tag = "pm%d" % os.getpid()
    for i in range(REQS):
        send_req(("127.0.0.1", 2526),
                 ["+47992%02d%03d" % (i, k) for k in range(RCPTS)], "%s-%d" % (tag, i))
    want = REQS * RCPTS
    wait_until(lambda: len(core_call_ids(cpm_core, mark, r"\+47992")) >= want, 60, step=0.5)
    ids = core_call_ids(cpm_core, mark, r"\+47992")
    assert len(ids) >= want, "only %d of %d MESSAGEs reached the CPM core" % (len(ids), want)
    # the UDP client retransmits unanswered requests: those repeat legitimately
    # only if the core saw them before answering; it answers at once, so
    # count distinct Call-IDs against MESSAGEs
    dup = len(ids) - len(set(ids))
    assert dup == 0, "%d of %d MESSAGEs reused another's Call-ID, e.g. %s" % (
        dup, len(ids), sorted(c for c in set(ids) if ids.count(c) > 1)[:3])
    procs = processes(iwf.ctl)
    ours = {pid for pid, dsc in procs if dsc.startswith("cpm_mms MM4")}
    main = [pid for pid, dsc in procs if "main" in dsc.lower()]
    assert ours, "no cpm_mms process in core.psx: %s" % procs
    pids = set()
    for c in ids:
        mo = re.search(r"-(\d+)@", c)
        assert mo, "Call-ID %s has no tm pid suffix" % c
        pids.add(int(mo.group(1)))
    assert pids <= ours, ("Call-IDs carry pids %s, the module's processes are %s (main %s): "
                          "tm's child_init did not run there" % (sorted(pids), sorted(ours), main))


SQLOPS_ROUTE = """event_route[cpm-mms:mm4-request] {
	if (sql_query("corr", "select count(*) from cpm_mms_corr", "ra")) {
		xlog("L_NOTICE", "sqlops in the event route: $dbr(ra=>rows) row(s), count $dbr(ra=>[0,0]) for $mm4(to)\\n");
		sql_result_free("ra");
	} else {
		xlog("L_ERR", "sqlops in the event route failed for $mm4(to)\\n");
	}
}
"""


def start_with_route(procs, name, route, modules, sip_port, mm4_port, db):
    """The sample with its event route replaced by this one and these
    lines after loadmodule "db_sqlite.so"; listening on these ports."""
    with open(SAMPLE_CFG, encoding="utf-8") as f:
        cfg = f.read()
    start = cfg.index("event_route[cpm-mms:mm4-request] {")
    end = cfg.index("\n}\n", start) + 3
    cfg = cfg[:start] + route + cfg[end:]
    cfg = cfg.replace('loadmodule "db_sqlite.so"\n', 'loadmodule "db_sqlite.so"\n' + modules, 1)
    path = os.path.join(OUT, name + ".cfg")
    with open(path, "w", encoding="utf-8") as f:
        f.write(cfg)
    with open(SCHEMA, "rb") as f:
        subprocess.run(["sqlite3", db], input=f.read(), check=True, timeout=30)
    ctl = "unix:" + os.path.join(OUT, name + "_ctl.sock")
    env = {"CPM_MMS_SIP_LISTEN": "udp:127.0.0.1:%d" % sip_port,
           "CPM_MMS_MM4_LISTEN": "127.0.0.1:%d" % mm4_port,
           "CPM_MMS_MM4_PORT": str(PEER_MM4[1]), "CPM_MMS_DOMAIN": IWF_DOMAIN,
           "CPM_MMS_ENUM_SERVER": "127.0.0.1:53", "CPM_MMS_MM4_PEERS": "127.0.0.0/8",
           "CPM_MMS_CPM_ROUTE": "sip:%s:%d" % CORE_SIP, "CPM_MMS_URI_FORM": "sip",
           "CPM_MMS_DB_URL": "sqlite:///" + db, "CPM_MMS_CTL": ctl, "CPM_MMS_MODULE": MODULE,
           "_CTL": ctl}
    return start_kamailio(procs, name, path, env, sip_port, mm4_port)


def test_event_route_can_use_sqlops(netns, procs, dns, mm4_peer, cpm_core):
    """An operator's event route that queries a DB through sqlops (which
    connects in child_init) works in the MM4 delivery process."""
    db = os.path.join(OUT, "corr-sqlops.sqlite")
    k = start_with_route(procs, "iwf-sqlops", SQLOPS_ROUTE,
                         'loadmodule "sqlops.so"\n'
                         'modparam("sqlops", "sqlcon", "corr=>sqlite://%s")\n' % ("/" + db),
                         5062, 2527, db)
    try:
        mark = k.mark()
        tid = "sqlops-%d" % os.getpid()
        send_req(("127.0.0.1", 2527), ["+4799300001"], tid)
        got = wait_until(lambda: k.lines(mark, r"sqlops in the event route"), 10)
        assert got, "the event route did not run:\n%s" % "\n".join(k.lines(mark)[-15:])
        assert "failed" not in got[0] and re.search(r": 1 row\(s\), count \d+ for ", got[0]), \
            "sqlops in the event route: %s" % got[0]
    finally:
        procs.stop(k.proc)
        time.sleep(0.2)


SLOW_ROUTE = """event_route[cpm-mms:mm4-request] {
	xlog("L_NOTICE", "slow event route in pid $pp for $mm4(to)\\n");
	usleep("%d");
}
"""
SLOW_US = 800000


def greeting_time(addr):
    """Seconds from connect to the listener's 220 greeting."""
    t0 = time.monotonic()
    with socket.create_connection(addr, timeout=10) as s:
        s.settimeout(10)
        line = s.recv(512)
        took = time.monotonic() - t0
        s.sendall(b"QUIT\r\n")
    assert line.startswith(b"220"), "greeting: %r" % line
    return took


def test_slow_event_route_does_not_hold_the_listener(netns, procs, dns, mm4_peer, cpm_core):
    """The event route runs in the MM4 delivery process: a route that sleeps
    0.8 s per recipient (3 recipients) holds up neither the REQ's 250 nor
    another peer's greeting."""
    db = os.path.join(OUT, "corr-slow.sqlite")
    k = start_with_route(procs, "iwf-slow", SLOW_ROUTE % SLOW_US,
                         'loadmodule "cfgutils.so"\n', 5063, 2528, db)
    try:
        mark = k.mark()
        tid = "slow-%d" % os.getpid()
        t0 = time.monotonic()
        sender = subprocess.Popen(
            [PY, PEER, "send-req", "--to", "127.0.0.1:2528", "--bind", PEER_MM4[0],
             "--from", plmn("+4791000001", PEER_DOMAIN), "--tid", '"%s"' % tid,
             "--message-id", '"%s@%s"' % (tid, PEER_DOMAIN), "--ack", "Yes",
             "--text", "slow route"] +
            sum((["--rcpt", plmn("+479940000%d" % i, IWF_DOMAIN)] for i in range(3)), []),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert wait_until(lambda: k.lines(mark, r"slow event route in pid"), 10), \
            "the event route did not run:\n%s" % "\n".join(k.lines(mark)[-15:])
        took = greeting_time(("127.0.0.1", 2528))
        out, _ = sender.communicate(timeout=30)
        acked = time.monotonic() - t0
        out = out.decode("utf-8", "replace")
        assert '"ok": true' in out, "the REQ was not taken: %s" % out[-600:]
        assert took < 0.4, "another peer waited %.2f s for the greeting while the " \
            "event route slept" % took
        # 3 x 0.8 s of event route would come before a 250 given after delivery
        assert acked < 1.6, "the REQ's 250 took %.2f s: it waited for the event route" % acked
        ran = wait_until(lambda: len(k.lines(mark, r"slow event route in pid")) >= 3, 10)
        assert ran, "the event route ran %d time(s)" % len(k.lines(mark, r"slow event route"))
        pids = {int(re.search(r"in pid (\d+)", ln).group(1))
                for ln in k.lines(mark, r"slow event route in pid")}
        delivery = {pid for pid, dsc in processes(k.ctl) if dsc == "cpm_mms MM4 delivery"}
        assert pids and pids <= delivery, \
            "the event route ran in %s, the MM4 delivery process is %s" % (
                sorted(pids), sorted(delivery))
    finally:
        procs.stop(k.proc)
        time.sleep(0.2)
