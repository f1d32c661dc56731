# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures of the cpm_mms end-to-end tests (see README.md).

The pytest process enters a private network + mount namespace itself
(test/lib/nsproc.py, shared with test/interop) before any fixture starts a
process, so ports 25/53/5060 and /etc/resolv.conf are ours.  Every process is started through
`Procs` and stopped by its PID with a bounded wait; every loop is bounded in
count and time.

The DNS mode is a session-scoped parameter (`mode`): pytest groups the tests
by it, so each mode's MM4 peer and ordinary Kamailio start once.  Tests that
need another Kamailio (faults, restarts, another cpm_route or db_url) take a
dedicated fixture; the next test that wants the ordinary instance gets it
started again.
"""

import json
import os
import re
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "test", "lib"))

import e2elib  # noqa: E402
from nsproc import (Procs, children_of, enter_private_namespace,  # noqa: E402,F401
                    port_bound, run, wait_until)
from e2elib import Fail  # noqa: E402

OUT = os.path.join(HERE, "out")
PY = "/usr/bin/python3"
KAMAILIO = os.environ.get("KAMAILIO", "/usr/sbin/kamailio")
SAMPLE_CFG = os.path.join(TOP, "kamailio.cfg.sample")
KEMI_CFG = os.path.join(TOP, "examples", "kemi", "kamailio.cfg")
KEMI_LUA = os.path.join(TOP, "examples", "kemi", "cpm_mms.lua")
MODULE = os.path.join(TOP, "modules", "cpm_mms", "cpm_mms.so")
SCHEMA = os.path.join(TOP, "sql", "cpm_mms-sqlite.sql")
PEER = os.path.join(HERE, "mm4_peer.py")
ENUM_DATA = os.path.join(HERE, "enum.data")
TEMPLATE = os.path.join(HERE, "uac_message.xml.in")
IMDN_TEMPLATE = os.path.join(HERE, "uac_imdn.xml.in")
UAS_SCEN = os.path.join(HERE, "cpm_uas.xml")
VECTORS = os.path.join(HERE, "mm4_vectors")
LISTENER_PROBE = os.path.join(HERE, "listener_probe.py")
FAULT_SERVER = os.path.join(HERE, "fault_server.py")

SIP_IP = "127.0.0.1"
SIP_PORT = 5060
MM4_LISTEN = ("127.0.0.1", 2526)
MM4 = "%s:%d" % MM4_LISTEN
PEER_IP = "127.0.0.2"
PEER_PORT = 25
IWF_DOMAIN = "mms.iwf.test"
PEER_DOMAIN = "mms.peer.test"
RES_TIMEOUT = 3
UAS_PORT = 5080                      # the CPM side of MMS -> CPM (cpm_route)
CPM_ROUTE = "sip:%s:%d" % (SIP_IP, UAS_PORT)
# Every instance: intl_prefix 00, national_prefix 0, country_code 47 and these
# routes (ENUM has nothing for +4788...: NXDOMAIN): the new form with a via to
# the peer for a domain without DNS, the old ip:port form, a domain without via
STATIC_ROUTES = "+4788100=>mms.static.test;via=%s,+4788200=>%s:%d,+4788300=>%s" % (
    PEER_IP, PEER_IP, PEER_PORT, PEER_DOMAIN)

# the knobs (see README.md)
ALL_MODES = ("ldns", "sysdns", "kemi")
MODES = os.environ.get("E2E_MODES", "ldns sysdns kemi").split()
MM4_MODES = os.environ.get("E2E_MM4_MODES", "ldns sysdns").split()
LOAD = int(os.environ.get("E2E_LOAD", "200") or 0)
SHM_MARGIN = int(os.environ.get("E2E_SHM_MARGIN", "65536") or 65536)
ENUM_SERVER = {"ldns": "127.0.0.1:53", "sysdns": "", "kemi": "127.0.0.1:53"}


# ---------------------------------------------------------------------------
# which tests run in which mode
# ---------------------------------------------------------------------------
def pytest_configure(config):
    config.addinivalue_line(
        "markers", "modes(*names): the DNS modes a test runs in (default: every mode); "
        "'mm4' stands for the modes of E2E_MM4_MODES")


def pytest_generate_tests(metafunc):
    """Parametrize every test that uses a mode fixture by the modes it runs in
    (its `modes` marker, intersected with E2E_MODES), session-scoped so that
    pytest groups the tests of one mode together."""
    if "mode" not in metafunc.fixturenames:
        return
    want = list(ALL_MODES)
    for mk in metafunc.definition.iter_markers("modes"):
        names = set()
        for n in mk.args:
            names |= set(MM4_MODES) if n == "mm4" else {n}
        want = [m for m in want if m in names]
    modes = [m for m in MODES if m in want]
    unknown = [m for m in MODES if m not in ALL_MODES]
    if unknown:
        raise pytest.UsageError("E2E_MODES: unknown mode(s) %s" % " ".join(unknown))
    metafunc.parametrize("mode", modes, indirect=True, scope="session")


def pytest_collection_modifyitems(config, items):
    # a test left with no mode at all (an empty parameter set) is left out
    keep = [it for it in items if not hasattr(it, "callspec")
            or it.callspec.params.get("mode", "ldns") in ALL_MODES]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[it for it in items if it not in keep])
        items[:] = keep


# ---------------------------------------------------------------------------
# processes (test/lib/nsproc.py)
# ---------------------------------------------------------------------------
def tail(path, n=25):
    try:
        with open(path, "rb") as f:
            return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
    except OSError:
        return "(no %s)" % path


def plmn(number, domain=IWF_DOMAIN):
    return "%s/TYPE=PLMN@%s" % (number, domain)


# ---------------------------------------------------------------------------
# the private network namespace, ldns-testns
# ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def netns():
    """Enter a new network + mount namespace; lo up with 127.0.0.2; private
    resolv.conf (nameserver 127.0.0.1) and hosts."""
    # a second loopback address (the peer's), and one that is not 127.0.0.1
    # so that getaddrinfo(AI_ADDRCONFIG) believes IPv4 is configured
    enter_private_namespace(
        "e2e", OUT,
        ("ip", "ss", "mount", "sipp", "ldns-testns", "kamcmd", "sqlite3", KAMAILIO, PY),
        (MODULE, SAMPLE_CFG, KEMI_CFG, PEER, ENUM_DATA, SCHEMA), addrs=(PEER_IP,))
    with open(os.path.join(OUT, "behaviour.json"), "w") as f:
        json.dump(e2elib.behaviour(), f, indent=1, sort_keys=True)
    yield OUT


@pytest.fixture(scope="session")
def procs(netns):
    pr = Procs()
    yield pr
    pr.stop_all()


@pytest.fixture(scope="session")
def dns(netns, procs):
    """ldns-testns on 127.0.0.1:53 answering from enum.data."""
    log = os.path.join(OUT, "ldns-testns.log")
    with open(log, "wb") as f:
        p = procs.popen(["ldns-testns", "-p", "53", ENUM_DATA], name="ldns-testns",
                        stdout=f, stderr=subprocess.STDOUT)
    if not wait_until(lambda: p.poll() is not None or port_bound("u", 53), 5) \
            or p.poll() is not None:
        pytest.fail("ldns-testns did not start:\n" + tail(log), False)
    return p


# ---------------------------------------------------------------------------
# Kamailio
# ---------------------------------------------------------------------------
class Kamailio:
    """One running instance."""

    def __init__(self, proc, log, ctl, db):
        self.proc, self.log, self.ctl, self.db = proc, log, ctl, db

    def alive(self):
        return self.proc.poll() is None

    def kamcmd(self, *args, timeout=10):
        return run(["kamcmd", "-s", self.ctl] + [str(a) for a in args], timeout=timeout)

    def out(self, *args):
        return self.kamcmd(*args)[1]

    def stats(self):
        rc, out = self.kamcmd("cpm_mms.stats")
        vals = e2elib.parse_stats(out) if rc == 0 else {}
        if not vals:
            raise Fail("kamcmd cpm_mms.stats failed: %s" % out[:300])
        return vals

    def stat(self, name):
        rc, out = self.kamcmd("cpm_mms.stats")
        mo = re.search(r"^\s*%s: (\S+)" % re.escape(name), out, re.M)
        return mo.group(1) if mo else None

    def shm(self):
        rc, out = self.kamcmd("core.shmmem")
        v = e2elib.parse_shm(out) if rc == 0 else None
        if v is None:
            raise Fail("kamcmd core.shmmem failed: %s" % out[:300])
        return v

    def cfg_get(self, name):
        return self.kamcmd("cfg.get", "cpm_mms", name)[1].strip()

    def cfg_set(self, name, value):
        return self.kamcmd("cfg.set", "cpm_mms", name, value)[1].strip()

    def text(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_mark(self):
        return len(self.text())

    def log_since(self, mark):
        return self.text()[mark:]

    def children(self):
        return children_of(self.proc.pid)

    def wait_idle(self, tenths=100):
        """Bounded wait for nothing pending (cpm_mms.stats pending 0)."""
        for _ in range(tenths):
            if self.stat("pending") == "0":
                return True
            time.sleep(0.1)
        return False

    def sql(self, query):
        return run(["sqlite3", "-cmd", ".timeout 5000", self.db, query])[1].strip()


class KamManager:
    """The Kamailio instances of one mode, one at a time (they share the
    ports): the ordinary one, started when a test wants it, and the
    dedicated ones of fault and restart tests."""

    def __init__(self, mode, procs):
        self.mode, self.procs = mode, procs
        self.cur, self.cur_key = None, None
        self.unclean = []        # logs of instances that needed SIGKILL
        self.logs = []

    def env(self, over):
        m = self.mode
        ks = dict(SIP_LISTEN="udp:%s:%d" % (SIP_IP, SIP_PORT), PEERS="127.0.0.0/8",
                  RES_TIMEOUT=RES_TIMEOUT, MAX_PENDING=20000, IDLE=60, SESSION=600,
                  PEER_CONNS=32, SMTP_SESSION_IDLE=100, STATIC_ROUTE=STATIC_ROUTES,
                  INTL_PREFIX="00", NATIONAL_PREFIX="0", COUNTRY_CODE="47",
                  CPM_ROUTE=CPM_ROUTE, URI_FORM="tel", DB_URL="sqlite:///" + m.db,
                  ENUM_SERVER=ENUM_SERVER[m.name])
        # KAM_<NAME> in the environment overrides a default for every start
        for k in list(ks):
            if "KAM_" + k in os.environ:
                ks[k] = os.environ["KAM_" + k]
        ks.update(over)
        return {
            "CPM_MMS_SIP_LISTEN": ks["SIP_LISTEN"],
            "CPM_MMS_MM4_LISTEN": MM4,
            "CPM_MMS_MM4_PORT": str(PEER_PORT),
            "CPM_MMS_DOMAIN": IWF_DOMAIN,
            "CPM_MMS_ENUM_SUFFIX": "e164.arpa",
            "CPM_MMS_ENUM_SERVER": ks["ENUM_SERVER"],
            "CPM_MMS_MM4_PEERS": ks["PEERS"],
            "CPM_MMS_RES_TIMEOUT": str(ks["RES_TIMEOUT"]),
            "CPM_MMS_MAX_PENDING": str(ks["MAX_PENDING"]),
            "CPM_MMS_MM4_IDLE_TIMEOUT": str(ks["IDLE"]),
            "CPM_MMS_MM4_SESSION_TIMEOUT": str(ks["SESSION"]),
            "CPM_MMS_MM4_PEER_CONNECTIONS": str(ks["PEER_CONNS"]),
            "CPM_MMS_SMTP_SESSION_IDLE": str(ks["SMTP_SESSION_IDLE"]),
            "CPM_MMS_STATIC_ROUTE": ks["STATIC_ROUTE"],
            "CPM_MMS_INTL_PREFIX": ks["INTL_PREFIX"],
            "CPM_MMS_NATIONAL_PREFIX": ks["NATIONAL_PREFIX"],
            "CPM_MMS_COUNTRY_CODE": ks["COUNTRY_CODE"],
            "CPM_MMS_CPM_ROUTE": ks["CPM_ROUTE"],
            "CPM_MMS_URI_FORM": ks["URI_FORM"],
            "CPM_MMS_DB_URL": ks["DB_URL"],
            "CPM_MMS_CTL": "unix:" + os.path.join(m.dir, "ctl.sock"),
            "CPM_MMS_LUA": KEMI_LUA if m.name == "kemi" else "",
        }

    def start(self, logname="kamailio", **over):
        """Stop the running instance, start one with these overrides
        (SIP_LISTEN, CPM_ROUTE, DB_URL, RES_TIMEOUT, MAX_PENDING, IDLE,
        SESSION, PEER_CONNS, SMTP_SESSION_IDLE, STATIC_ROUTE, INTL_PREFIX,
        NATIONAL_PREFIX, COUNTRY_CODE, URI_FORM, PEERS, ENUM_SERVER)."""
        self.stop()
        m = self.mode
        log = os.path.join(m.dir, logname + ".log")
        # the schema creates the file and keeps the rows of an earlier start
        with open(SCHEMA, "rb") as f:
            rc, out = run(["sqlite3", m.db], input=f.read())
        if rc != 0:
            raise Fail("sqlite3 %s < %s failed: %s" % (m.db, SCHEMA, out[:300]))
        env = {k: v for k, v in os.environ.items() if not k.startswith("CPM_MMS_")}
        kenv = self.env(over)
        env.update(kenv)
        cfg = KEMI_CFG if m.name == "kemi" else SAMPLE_CFG
        self.logs.append(log)
        with open(log, "ab") as f:
            p = self.procs.popen([KAMAILIO, "-DD", "-E", "-f", cfg,
                                  "-P", os.path.join(m.dir, "kamailio.pid"),
                                  "-w", m.dir, "-Y", m.dir], name=logname, stdout=f,
                                 stderr=subprocess.STDOUT, env=env, cwd=TOP)
        ctl = kenv["CPM_MMS_CTL"]
        k = Kamailio(p, log, ctl, m.db)
        tcp = "tcp:" in kenv["CPM_MMS_SIP_LISTEN"]

        def up():
            if p.poll() is not None:
                return True
            if not port_bound("u", SIP_PORT) or not port_bound("t", MM4_LISTEN[1]) \
                    or (tcp and not port_bound("t", SIP_PORT)):
                return False
            return k.kamcmd("core.uptime", timeout=5)[0] == 0

        if not wait_until(up, 15) or p.poll() is not None:
            self.procs.stop(p)
            raise Fail("kamailio (%s) did not start:\n%s" % (logname, tail(log)))
        time.sleep(0.3)   # the module's own processes finish child_init
        self.cur, self.cur_key = k, (logname, tuple(sorted(over.items())))
        return k

    def ensure(self, logname="kamailio", **over):
        """This instance, started unless it is the one running."""
        if self.cur is not None and self.cur.alive() and \
                self.cur_key == (logname, tuple(sorted(over.items()))):
            return self.cur
        return self.start(logname, **over)

    def ordinary(self):
        """The ordinary instance of the mode (started if another one runs)."""
        return self.ensure()

    def stop(self):
        """Stop the running instance; True if it and its children ended on
        SIGTERM (10 s for the main process, 3 s more for the children)."""
        k, self.cur, self.cur_key = self.cur, None, None
        if k is None:
            return True
        clean = self.procs.stop(k.proc, grace=10.0)
        if not clean:
            self.unclean.append(k.log)
        return clean


# ---------------------------------------------------------------------------
# one mode: the MM4 peer, the CPM UAS, Kamailio and the case helpers
# ---------------------------------------------------------------------------
class CaseResult:
    """What a case saw; attributes as named by the helper that made it."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


class Mode:
    def __init__(self, name, procs):
        self.name = name
        self.procs = procs
        self.dir = os.path.join(OUT, name)
        for d in ("scen", "sipp"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        self.db = os.path.join(self.dir, "corr.sqlite")
        self.peer_log = os.path.join(self.dir, "peer.jsonl")
        self.sends_log = os.path.join(self.dir, "sends.jsonl")
        self.uas_trace = os.path.join(self.dir, "uas.msg")
        self.chunking = name == "sysdns"
        # sysdns: every mail both ways in BDAT chunks (RFC 3030): the peer
        # offers CHUNKING and sends its own mails in chunks of 97 bytes
        self.peer_env = dict(os.environ)
        self.peer_env.pop("MM4_PEER_BDAT", None)
        if self.chunking:
            self.peer_env["MM4_PEER_BDAT"] = "97"
        self.kam = KamManager(self, procs)
        self.peer = None
        self.uas = None
        self.case_n = 0
        self.test = "?"

    # -- processes ---------------------------------------------------------
    def start_peer(self):
        open(self.peer_log, "w").close()
        err = os.path.join(self.dir, "peer.stderr")
        argv = [PY, PEER, "--listen", "%s:%d" % (PEER_IP, PEER_PORT), "--res-to", MM4,
                "--domain", PEER_DOMAIN, "--iwf-domain", IWF_DOMAIN, "--log", self.peer_log,
                "--behaviour", os.path.join(OUT, "behaviour.json"),
                "--pidfile", os.path.join(self.dir, "peer.pid")]
        if self.chunking:
            argv.append("--chunking")
        with open(err, "wb") as f:
            p = self.procs.popen(argv, name="mm4_peer", stdout=f, stderr=subprocess.STDOUT,
                                 env=self.peer_env)
        if not wait_until(lambda: p.poll() is not None or port_bound("t", PEER_PORT), 10) \
                or p.poll() is not None:
            raise Fail("mm4_peer.py did not start:\n" + tail(err))
        self.peer = p

    def ensure_uas(self):
        """The sipp CPM UAS on cpm_route (started once per mode)."""
        if self.uas is not None and self.uas.poll() is None:
            return
        if not os.path.exists(self.uas_trace):
            open(self.uas_trace, "w").close()
        err = os.path.join(self.dir, "uas.stderr")
        with open(err, "ab") as f:
            p = self.procs.popen(["sipp", "-sf", UAS_SCEN, "-i", SIP_IP, "-p", str(UAS_PORT),
                                  "-nostdin", "-trace_msg", "-message_file", self.uas_trace,
                                  "-trace_err", "-error_file",
                                  os.path.join(self.dir, "uas.err")],
                                 name="cpm_uas", stdout=subprocess.DEVNULL, stderr=f)
        if not wait_until(lambda: p.poll() is not None or port_bound("u", UAS_PORT), 5) \
                or p.poll() is not None:
            raise Fail("sipp CPM UAS on %s did not start:\n%s" % (CPM_ROUTE, tail(err)))
        self.uas = p

    def close(self):
        self.kam.stop()
        for p in (getattr(self, "dnshole", None), self.uas):
            if p is not None:
                self.procs.stop(p)
        if self.peer is not None:
            self.procs.stop(self.peer)

    # -- bookkeeping -------------------------------------------------------
    def case_id(self, suffix=""):
        self.case_n += 1
        cid = "c%03d%s" % (self.case_n, suffix)
        with open(os.path.join(self.dir, "cases.txt"), "a") as f:
            f.write("%s %s\n" % (cid, self.test))
        return cid

    def peer_mark(self):
        return e2elib.log_lines(self.peer_log)

    def uas_mark(self):
        return e2elib.trace_size(self.uas_trace)

    def path(self, *p):
        return os.path.join(self.dir, *p)

    # -- sipp --------------------------------------------------------------
    def scenario(self, cid, expect, fill, cpim=True, imdn=False):
        path = self.path("scen", cid + ".xml")
        vals = dict(fill)
        vals["EXPECT"] = expect
        e2elib.fill(IMDN_TEMPLATE if imdn else TEMPLATE, path, vals, imdn=imdn, cpim=cpim)
        return path

    def sipp_argv(self, cid, scen, port, calls, extra=(), trace=None, recv_timeout=15000,
                  timeout="120s"):
        """sipp toward the IWF; a message trace for single calls (it is what
        reports "got NNN")."""
        if trace is None:
            trace = calls <= 1
        argv = ["sipp", "-sf", scen, "-i", SIP_IP, "-p", str(port),
                "-recv_timeout", str(recv_timeout), "-timeout", timeout, "-timeout_error",
                "-nostdin"]
        if trace:
            argv += ["-trace_msg", "-message_file", self.path("sipp", cid + ".msg")]
        argv += ["-trace_err", "-error_file", self.path("sipp", cid + ".err"),
                 "-m", str(calls)] + list(extra) + ["%s:%d" % (SIP_IP, SIP_PORT)]
        return argv

    def sipp_run(self, cid, scen, port, calls, extra=(), timeout=150):
        """Run sipp to its end: CaseResult rc, got, code, elapsed, out."""
        t0 = time.time()
        with open(self.path("sipp", cid + ".out"), "wb") as f:
            try:
                rc = subprocess.run(self.sipp_argv(cid, scen, port, calls, extra), stdout=f,
                                    stderr=subprocess.STDOUT, timeout=timeout).returncode
            except subprocess.TimeoutExpired:
                rc = 124
        elapsed = time.time() - t0
        got = e2elib.sipp_codes(self.path("sipp", cid + ".msg"))
        codes = re.findall(r"\b(\d{3})\b", got)
        return CaseResult(rc=rc, got=got, code=int(codes[-1]) if codes else 0,
                          elapsed=elapsed, started=t0, cid=cid,
                          out=tail(self.path("sipp", cid + ".out"), 200))

    def sipp_bg(self, cid, scen, port, calls=1, extra=(), recv_timeout=15000, timeout="40s",
                trace=True):
        """sipp in the background (stop it with procs.wait / procs.stop)."""
        f = open(self.path("sipp", cid + ".out"), "wb")
        p = self.procs.popen(self.sipp_argv(cid, scen, port, calls, extra, trace=trace,
                                            recv_timeout=recv_timeout, timeout=timeout),
                             name="sipp-" + cid, stdout=f, stderr=subprocess.STDOUT)
        f.close()
        return p

    @staticmethod
    def sipp_stats(out):
        return "; ".join(" ".join(ln.split()) for ln in out.splitlines()
                         if re.search(r"Successful call|Failed call", ln))[-300:]

    # -- CPM -> MMS --------------------------------------------------------
    def msg_case(self, expect, rcpt=None, domain=PEER_DOMAIN, nomail=False, nobase=False,
                 mails=1, if200=False, cpim=True, port=5070, **fill):
        """One MESSAGE (uac_message.xml.in, KEY=VALUE placeholders) answered
        with one of the codes of expect ("404|604"); then the REQ(s) the peer
        got (mails of them, the common Table 1 checks unless nobase), or none
        (nomail).  CaseResult: code, elapsed, started, m, H, mails."""
        k = self.kam.cur
        if k is None or not k.alive():
            raise Fail("kamailio is not running")
        rcpt = rcpt or fill.get("RURI_USER", "+4712345678")
        cid = self.case_id()
        scen = self.scenario(cid, expect, fill, cpim=cpim)
        mark = self.peer_mark()
        s = self.sipp_run(cid, scen, port, 1)
        if s.rc != 0:
            raise Fail("expected %s, got: %s; sipp rc=%d, see out/%s/sipp/%s.*"
                       % (expect, s.got, s.rc, self.name, cid))
        res = CaseResult(code=s.code, elapsed=s.elapsed, started=s.started, m=None, H={},
                         mails=[], cid=cid)
        if if200 and s.code != 200:
            return res
        if nomail:
            time.sleep(0.2)
            ms = e2elib.mails_after(self.peer_log, mark)
            if ms:
                raise Fail("answered %d but the peer received %d mail(s), expected none (To %r)"
                           % (s.code, len(ms), ms[0].get("hdr", {}).get("to")))
            return res
        ms = e2elib.wait_for(lambda: e2elib.mails_after(self.peer_log, mark), mails, 3.0)
        if len(ms) != mails:
            raise Fail("answered %d but the peer received %d MM4 mail(s), expected %d"
                       % (s.code, len(ms), mails))
        if not nobase:
            for one in ms:
                e2elib.base_checks(one, rcpt if mails == 1 else None, domain)
        res.m, res.H, res.mails = ms[0], ms[0].get("hdr", {}), ms
        return res

    def wait_mail(self, mark, number, timeout=5.0, field="x-mms-transaction-id"):
        """A mail to number after mark: the value of its header field."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 2):
            for m in e2elib.mails_after(self.peer_log, mark):
                if any(e2elib.num(r.strip("<>")) == number for r in m.get("rcpt_tos", [])):
                    return m.get("hdr", {}).get(field.lower(), "")
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return None

    def send_res(self, tid, status):
        """mm4_peer.py send-res: (ok, output)."""
        rc, out = run([PY, PEER, "send-res", "--to", MM4, "--tid", tid, "--status", status],
                      timeout=60, env=self.peer_env)
        return rc == 0, out.strip()

    # -- MMS -> CPM --------------------------------------------------------
    def peer_send(self, args, timeout=60):
        """mm4_peer.py send-req / send-report ARGS: the JSON results."""
        rc, out = run([PY, PEER] + list(args), timeout=timeout, env=self.peer_env)
        sends = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
        if not sends:
            raise Fail("mm4_peer.py %s printed no result: %s" % (args[0], out[-400:]))
        with open(self.sends_log, "a", encoding="utf-8") as f:
            for one in sends:
                f.write(json.dumps(one, ensure_ascii=False) + "\n")
        return sends

    def uas_sel(self, offset, ruri_re, imdn=None):
        return [r for r in e2elib.uas_requests(self.uas_trace, offset)
                if r.get("method") == "MESSAGE" and re.search(ruri_re, r.get("ruri", ""))
                and (imdn is None or r.get("is_imdn") == imdn)]

    def mm4_case(self, send, ruri_re, smtp=250, stage="data", imdn=False, messages=1,
                 res="Ok", res_count=1, res_type=None, res_by_mid=False, res_dirty=False,
                 timeout=6.0, settle=0.6):
        """Send one MM4 mail with mm4_peer.py (send: send-req ... / send-report
        ...), then check the SMTP outcome, the MESSAGEs at the CPM UAS (ruri_re,
        messages, IMDNs or not) and the RES at the peer (res: status or
        "none"; matched by the X-Mms-Transaction-ID bytes or, res_by_mid, by
        the X-Mms-Message-ID).  CaseResult: S (send result), sends, r, reqs,
        H, C, P, X (the first MESSAGE: SIP headers, CPIM headers, payload,
        IMDN fields), e, res, RH (the first RES, its headers), started."""
        k = self.kam.cur
        if k is None or not k.alive():
            raise Fail("kamailio is not running")
        self.ensure_uas()
        self.case_id()
        mark = self.peer_mark()
        offset = self.uas_mark()
        started = time.time()
        sends = self.peer_send(send)
        S = sends[0]
        for one in sends:
            if one.get("code") != smtp or (smtp == 250 and not one.get("ok")) \
                    or (stage and one.get("stage") != stage):
                raise Fail("SMTP: expected %d at %s, got %s at %s (%s)" % (
                    smtp, stage, one.get("code"), one.get("stage"),
                    one.get("reply") or one.get("error")))
        res_type = res_type or {"req": "MM4_forward.RES", "dr": "MM4_delivery_report.RES",
                                "rr": "MM4_read_reply_report.RES"}[S.get("kind", "req")]

        def sel_uas():
            return self.uas_sel(offset, ruri_re, imdn)

        def sel_res():
            out = []
            for e in e2elib.events_after(self.peer_log, mark, "rx_res"):
                if e.get("message_type") != res_type:
                    continue
                if res_by_mid:
                    if e2elib.unq(e.get("hdr", {}).get("x-mms-message-id")) == \
                            e2elib.unq(S.get("message_id")):
                        out.append(e)
                elif e.get("tid_raw") == S.get("tid"):
                    out.append(e)
            return out
        want_res = 0 if res == "none" else res_count
        deadline = time.monotonic() + timeout
        # (a MESSAGE is in tm's hands before the REQ gets its 250, and the RES
        # comes after the MESSAGE's answer: wait for what is expected, then
        # settle seconds show what should not have come)
        if messages:
            e2elib.wait_for(sel_uas, messages, timeout)
        if want_res:
            e2elib.wait_for(sel_res, want_res, max(0.1, deadline - time.monotonic()))
        time.sleep(settle)
        reqs, rs = sel_uas(), sel_res()
        if len(reqs) != messages:
            raise Fail("the CPM UAS received %d %s(s) matching %r, expected %d%s" % (
                len(reqs), "IMDN" if imdn else "MESSAGE", ruri_re, messages,
                "; first: %s" % reqs[0].get("ruri") if reqs else ""))
        if len(rs) != want_res:
            others = [(x.get("message_type"), x.get("tid_raw"),
                       x.get("hdr", {}).get("x-mms-request-status-code"))
                      for x in e2elib.events_after(self.peer_log, mark, "rx_res")]
            raise Fail("the peer received %d %s for tid %s, expected %d (all RES since: %s)" % (
                len(rs), res_type, S.get("tid"), want_res, others))
        for e in rs:
            st = e.get("hdr", {}).get("x-mms-request-status-code", "").strip()
            if st != res:
                raise Fail("%s status %r, expected %r (X-Mms-Status-Text %r)" % (
                    res_type, st, res, e.get("hdr", {}).get("x-mms-status-text")))
            if e.get("failures") and not res_dirty:
                raise Fail("%s fails the peer's checks: %s" % (res_type, "; ".join(e["failures"])))
        r = reqs[0] if reqs else {}
        e = rs[0] if rs else {}
        return CaseResult(S=S, sends=sends, r=r, reqs=reqs, H=r.get("hdr", {}),
                          C=r.get("cpim", {}), P=r.get("payload", {}),
                          X=r.get("payload", {}).get("imdn", {}), e=e, res=rs,
                          RH=e.get("hdr", {}), started=started)

    def peer_wait(self, mark, event="rx_res", where=lambda e, H: True, count=1, exact=False,
                  timeout=5.0, settle=0.5):
        """Events of the peer's log after mark where where(e, H): count of
        them (exactly, with exact).  CaseResult e (the first), evs, H, ALL."""
        def sel():
            return [e for e in e2elib.events_after(self.peer_log, mark, event)
                    if where(e, e.get("hdr", {}))]
        got = e2elib.wait_for(sel, count, timeout, exact, settle)
        if len(got) < count or (exact and len(got) != count):
            raise Fail("the peer logged %d %s event(s), expected %s%d: %s" % (
                len(got), event, "" if exact else ">= ", count,
                json.dumps([g.get("hdr") for g in got], ensure_ascii=False)[:800]))
        e = got[0] if got else {}
        return CaseResult(e=e, evs=got, H=e.get("hdr", {}),
                          ALL=e2elib.read_events(self.peer_log, mark))

    def imdn_send(self, cid, expect, fill):
        """One IMDN to the IWF (uac_imdn.xml.in): the sipp CaseResult."""
        scen = self.scenario(cid, expect, fill, imdn=True)
        return self.sipp_run(cid, scen, 5073, 1)

    def imdn_case(self, expect, rtype, mid, **fill):
        """The CPM side sends an IMDN and expects expect; then the peer gets
        exactly one report rtype (MM4_delivery_report.REQ /
        MM4_read_reply_report.REQ) for X-Mms-Message-ID mid, with no check
        failures and answered by a RES, or (rtype None) no report at all.
        CaseResult e, H, ALL (peer_wait)."""
        k = self.kam.cur
        if k is None or not k.alive():
            raise Fail("kamailio is not running")
        cid = self.case_id()
        mark = self.peer_mark()
        s = self.imdn_send(cid, expect, fill)
        if s.rc != 0:
            raise Fail("IMDN answered %s, expected %s (sipp rc=%d, out/%s/sipp/%s.*)"
                       % (s.got, expect, s.rc, self.name, cid))
        same = lambda e, H: e2elib.unq(H.get("x-mms-message-id")) == e2elib.unq(mid)  # noqa
        if rtype is None:
            return self.peer_wait(mark, "rx_report", same, count=0, exact=True, timeout=1.5)
        w = self.peer_wait(mark, "rx_report", lambda e, H: e["message_type"] == rtype
                           and same(e, H), count=1, exact=True, settle=0.6)
        assert not w.e["failures"], w.e["failures"]
        assert any(x.get("event") == "res" and x.get("seq") == w.e["seq"] and x.get("sent")
                   for x in w.ALL), "the peer sent no RES for the report"
        return w

    def cpm_msg(self, num, iid, dispo, extra="", from_user=None):
        """A CPM MESSAGE to the MMS user num, 200 expected: the
        X-Mms-Message-ID of the REQ the peer got."""
        fill = {"RURI_USER": num, "IMDN_ID": iid, "DISPO": dispo, "CPIM_EXTRA": extra}
        if from_user:
            fill["FROM_USER"] = from_user
        cid = self.case_id()
        scen = self.scenario(cid, "200", fill)
        mark = self.peer_mark()
        s = self.sipp_run(cid, scen, 5070, 1)
        if s.rc != 0:
            raise Fail("prerequisite: the CPM MESSAGE to %s got %s, expected 200" % (num, s.got))
        mid = self.wait_mail(mark, num, 5.0, field="x-mms-message-id")
        if not mid:
            raise Fail("prerequisite: no MM4_forward.REQ (with X-Mms-Message-ID) for %s at "
                       "the peer" % num)
        return mid

    def probe(self, *args, timeout=60):
        """listener_probe.py ARGS: (ok, output)."""
        rc, out = run([PY, LISTENER_PROBE] + [str(a) for a in args], timeout=timeout,
                      env=self.peer_env)
        return rc == 0, out.strip()


@pytest.fixture(scope="session")
def mode(request, netns, procs, dns):
    """One DNS mode (ldns: CPM_MMS_ENUM_SERVER=127.0.0.1:53; sysdns: empty,
    Kamailio's DNS layer + system resolver, every mail in BDAT chunks; kemi:
    the ldns setting through examples/kemi) with its MM4 peer running."""
    m = Mode(request.param, procs)
    m.start_peer()
    yield m
    m.close()


@pytest.fixture(autouse=True)
def _name_cases(request):
    """Case ids in out/<mode>/cases.txt name the test that made them."""
    if "mode" in request.fixturenames:
        request.getfixturevalue("mode").test = request.node.nodeid
    yield


@pytest.fixture
def kam(mode):
    """The mode's ordinary Kamailio: kamailio.cfg.sample (examples/kemi in
    kemi) with the built module, started if it is not the one running."""
    return mode.kam.ordinary()


@pytest.fixture
def uas(mode, kam):
    """The sipp CPM UAS on cpm_route (the ordinary Kamailio running)."""
    mode.ensure_uas()
    return mode


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report shows the end of the running Kamailio's log."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call" or not rep.failed:
        return
    m = getattr(item, "funcargs", {}).get("mode")
    if isinstance(m, Mode) and m.kam.cur is not None:
        rep.sections.append(("last 40 lines of %s" % os.path.relpath(m.kam.cur.log, TOP),
                             tail(m.kam.cur.log, 40)))
