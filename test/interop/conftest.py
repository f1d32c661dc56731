# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures of the cpm_mms interop tests (see README.md).

Everything runs inside a private network + mount namespace that the pytest
process enters itself (test/lib/nsproc.py, before any fixture starts a
process), so ports 25/53/5060 and /etc/resolv.conf are ours and nothing
reaches a real network.  Every process is started through `Procs` and
stopped by its PID (TERM, a bounded wait, then KILL).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

sys.path.insert(0, os.path.join(TOP, "test", "lib"))

from linphone_client import LinphoneDaemon, LinphoneProfile  # noqa: E402
from nsproc import Procs, enter_private_namespace, port_bound, sh, wait_until  # noqa: E402,F401

OUT = os.path.join(HERE, "out")
PY = "/usr/bin/python3"
KAMAILIO = os.environ.get("KAMAILIO", "/usr/sbin/kamailio")
# CPM_MMS_INTEROP_CFG: another sample cfg (to check the suite against older trees)
SAMPLE_CFG = os.environ.get("CPM_MMS_INTEROP_CFG") or os.path.join(TOP, "kamailio.cfg.sample")
CORE_CFG = os.path.join(HERE, "cpm_core.cfg")
# CPM_MMS_INTEROP_MODULE: another build of the module (e.g. an older one)
MODULE = os.environ.get("CPM_MMS_INTEROP_MODULE") or \
    os.path.join(TOP, "modules", "cpm_mms", "cpm_mms.so")
SCHEMA = os.path.join(TOP, "sql", "cpm_mms-sqlite.sql")
PEER = os.path.join(TOP, "test", "e2e", "mm4_peer.py")
ENUM_DATA = os.path.join(TOP, "test", "e2e", "enum.data")

# the topology (all on loopback addresses inside the namespace)
IWF_SIP = ("127.0.0.1", 5060)
IWF_MM4 = ("127.0.0.1", 2526)
CORE_SIP = ("127.0.0.1", 5080)
PEER_MM4 = ("127.0.0.2", 25)
LINPHONE_IP = "127.0.0.3"
LINPHONE_PORT = 5070
DNS = ("127.0.0.1", 53)
IWF_DOMAIN = "mms.iwf.test"
PEER_DOMAIN = "mms.peer.test"
CPM_DOMAIN = "cpm.interop.test"
RES_TIMEOUT = 5



# ---------------------------------------------------------------------------
# processes (test/lib/nsproc.py)
# ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def procs(netns):
    pr = Procs()
    yield pr
    pr.stop_all()


# ---------------------------------------------------------------------------
# the private network namespace
# ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def netns():
    """Enter a new network + mount namespace; lo with 127.0.0.2/.3; private
    resolv.conf (nameserver 127.0.0.1) and hosts."""
    enter_private_namespace(
        "interop", OUT,
        ("ip", "ss", "mount", "kamcmd", "sqlite3", "ldns-testns", "linphone-daemon",
         KAMAILIO, PY),
        (MODULE, SAMPLE_CFG, PEER, ENUM_DATA, SCHEMA), addrs=(PEER_MM4[0], LINPHONE_IP))
    # liblinphone calls the network down (and never registers) when its
    # local address toward the internet is 127.0.0.1: a default route over
    # lo from 127.0.0.3 gives it one; nothing leaves the namespace anyway
    sh("ip", "route", "add", "default", "dev", "lo", "src", LINPHONE_IP)
    # liblinphone writes ~/.local/share/linphone if a path is missing
    os.environ["HOME"] = OUT
    yield OUT


def tail(path, n=25):
    try:
        with open(path, "rb") as f:
            return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
    except OSError:
        return "(no %s)" % path


# ---------------------------------------------------------------------------
# ldns-testns
# ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def dns(netns, procs):
    log = os.path.join(OUT, "ldns-testns.log")
    with open(log, "wb") as f:
        p = procs.popen(["ldns-testns", "-p", str(DNS[1]), ENUM_DATA], name="ldns-testns",
                        stdout=f, stderr=subprocess.STDOUT)
    if not wait_until(lambda: p.poll() is not None or port_bound("u", DNS[1]), 5) \
            or p.poll() is not None:
        pytest.fail("ldns-testns did not start:\n" + tail(log), False)
    return p


# ---------------------------------------------------------------------------
# the MM4 peer (test/e2e/mm4_peer.py, the independent checker)
# ---------------------------------------------------------------------------
class PeerLog:
    def __init__(self, path):
        self.path = path

    def records(self):
        recs = []
        try:
            with open(self.path, encoding="utf-8") as f:
                for ln in f:
                    ln = ln.strip()
                    if ln:
                        try:
                            recs.append(json.loads(ln))
                        except ValueError:
                            pass
        except OSError:
            pass
        return recs

    def find(self, pred):
        for r in self.records():
            if pred(r):
                return r
        return None

    def wait(self, pred, timeout=15.0):
        return wait_until(lambda: self.find(pred), timeout, 0.2)

    def summary(self, n=8):
        out = []
        for r in self.records()[-n:]:
            out.append("  %s %s %s %s" % (r.get("event"), r.get("message_type"),
                                          (r.get("hdr") or {}).get("x-mms-message-id"),
                                          r.get("failures")))
        return "\n".join(out) or "  (nothing logged)"


class Peer:
    def __init__(self, log):
        self.log = log

    def send(self, mode, *args, timeout=30):
        """mm4_peer.py send-req / send-report into the IWF's listener; the
        JSON result of the SMTP session."""
        argv = [PY, PEER, mode, "--to", "%s:%d" % IWF_MM4, "--bind", PEER_MM4[0]] + list(args)
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        lines = [ln for ln in r.stdout.decode("utf-8", "replace").splitlines()
                 if ln.startswith("{")]
        if not lines:
            raise AssertionError("mm4_peer.py %s gave no result (exit %d): %s"
                                 % (mode, r.returncode, r.stderr.decode(errors="replace")))
        return json.loads(lines[-1])


@pytest.fixture(scope="session")
def mm4_peer(netns, procs, dns):
    log = os.path.join(OUT, "peer.jsonl")
    err = os.path.join(OUT, "peer.stderr")
    with open(err, "wb") as f:
        p = procs.popen([PY, PEER, "--listen", "%s:%d" % PEER_MM4,
                         "--res-to", "%s:%d" % IWF_MM4, "--domain", PEER_DOMAIN,
                         "--iwf-domain", IWF_DOMAIN, "--log", log,
                         "--pidfile", os.path.join(OUT, "peer.pid")],
                        name="mm4_peer", stdout=f, stderr=subprocess.STDOUT)
    if not wait_until(lambda: p.poll() is not None or port_bound("t", PEER_MM4[1]), 10) \
            or p.poll() is not None:
        pytest.fail("mm4_peer.py did not start:\n" + tail(err), False)
    return Peer(PeerLog(log))


# ---------------------------------------------------------------------------
# Kamailio: the CPM core and the IWF
# ---------------------------------------------------------------------------
class Kamailio:
    def __init__(self, name, proc, log, ctl):
        self.name = name
        self.proc = proc
        self.log = log
        self.ctl = ctl

    def text(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def mark(self):
        return len(self.text())

    def lines(self, since=0, regex="."):
        return [ln for ln in self.text()[since:].splitlines() if re.search(regex, ln)]

    def alive(self):
        return self.proc.poll() is None


def start_kamailio(procs, name, cfg, env, sip_port, tcp_port=None, cwd=TOP):
    log = os.path.join(OUT, name + ".log")
    ctl = env["_CTL"]
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("CPM_")}
    run_env.update({k: v for k, v in env.items() if not k.startswith("_")})
    with open(log, "wb") as f:
        p = procs.popen([KAMAILIO, "-DD", "-E", "-f", cfg, "-P", os.path.join(OUT, name + ".pid"),
                         "-w", OUT, "-Y", OUT], name=name, stdout=f,
                        stderr=subprocess.STDOUT, env=run_env, cwd=cwd)

    def up():
        if p.poll() is not None:
            return True
        if not port_bound("u", sip_port) or (tcp_port and not port_bound("t", tcp_port)):
            return False
        return subprocess.run(["kamcmd", "-s", ctl, "core.uptime"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=5).returncode == 0

    if not wait_until(up, 15) or p.poll() is not None:
        procs.stop(p)
        pytest.fail("%s did not start:\n%s" % (name, tail(log)), False)
    time.sleep(0.3)   # the module's own processes finish child_init
    return Kamailio(name, p, log, ctl)


@pytest.fixture(scope="session")
def cpm_core(netns, procs):
    ctl = "unix:" + os.path.join(OUT, "core_ctl.sock")
    env = {"CPM_CORE_LISTEN": "udp:%s:%d" % CORE_SIP, "CPM_CORE_DOMAIN": CPM_DOMAIN,
           "CPM_CORE_IWF": "sip:%s:%d" % IWF_SIP, "CPM_CORE_IWF_IP": IWF_SIP[0],
           "CPM_CORE_IWF_PORT": str(IWF_SIP[1]), "CPM_CORE_CTL": ctl, "_CTL": ctl}
    return start_kamailio(procs, "cpm_core", CORE_CFG, env, CORE_SIP[1])


def sample_knobs():
    """The CPM_MMS_* names kamailio.cfg.sample reads."""
    with open(SAMPLE_CFG, encoding="utf-8") as f:
        return set(re.findall(r"^#!trydefenvs?\s+(CPM_MMS_\w+)", f.read(), re.M))


@pytest.fixture(scope="session")
def iwf(netns, procs, dns, mm4_peer, cpm_core):
    """The IWF: kamailio.cfg.sample unedited, configured by CPM_MMS_* only."""
    db = os.path.join(OUT, "corr.sqlite")
    with open(SCHEMA, "rb") as f:
        r = subprocess.run(["sqlite3", db], input=f.read(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
    if r.returncode != 0:
        pytest.fail("sqlite3 %s < %s: %s" % (db, SCHEMA, r.stdout.decode(errors="replace")),
                    False)
    ctl = "unix:" + os.path.join(OUT, "iwf_ctl.sock")
    env = {
        "CPM_MMS_SIP_LISTEN": "udp:%s:%d" % IWF_SIP,
        "CPM_MMS_MM4_LISTEN": "%s:%d" % IWF_MM4,
        "CPM_MMS_MM4_PORT": str(PEER_MM4[1]),
        "CPM_MMS_DOMAIN": IWF_DOMAIN,
        "CPM_MMS_ENUM_SUFFIX": "e164.arpa",
        "CPM_MMS_ENUM_SERVER": "%s:%d" % DNS,
        "CPM_MMS_MM4_PEERS": "127.0.0.0/8",
        "CPM_MMS_RES_TIMEOUT": str(RES_TIMEOUT),
        "CPM_MMS_CPM_ROUTE": "sip:%s:%d" % CORE_SIP,
        # MESSAGEs and IMDNs toward CPM as sip:+E164@<core domain>;user=phone
        "CPM_MMS_URI_FORM": "sip",
        "CPM_MMS_CPM_DOMAIN": CPM_DOMAIN,
        "CPM_MMS_DB_URL": "sqlite:///" + db,
        "CPM_MMS_CTL": ctl,
        "CPM_MMS_MODULE": MODULE,
        "_CTL": ctl,
    }
    k = start_kamailio(procs, "iwf", SAMPLE_CFG, env, IWF_SIP[1], IWF_MM4[1])
    knobs = sample_knobs()
    k.missing_knobs = sorted(n for n in ("CPM_MMS_URI_FORM", "CPM_MMS_CPM_DOMAIN")
                             if n not in knobs)
    return k


# ---------------------------------------------------------------------------
# linphone
# ---------------------------------------------------------------------------
class Client:
    """A fresh linphone profile for one test, with its daemon running."""

    def __init__(self, procs, user, path):
        self.procs = procs
        self.profile = LinphoneProfile(path, user, CPM_DOMAIN, "%s:%d" % CORE_SIP,
                                       LINPHONE_IP, LINPHONE_PORT)
        self.daemon = None
        self.starts = 0
        self.exits = []      # (run name, exit status) of every stopped run

    def start(self):
        self.starts += 1
        self.daemon = LinphoneDaemon(self.profile, self.procs,
                                     "daemon%d" % self.starts).start()
        if not self.daemon.wait_registered():
            out = self.daemon.tail()
            rc = self.stop()
            raise AssertionError("linphone-daemon (%s) did not register at the CPM core "
                                 "(exit status %s); its output:\n%s"
                                 % (self.profile.identity, rc, out))
        return self.daemon

    def stop(self):
        if self.daemon is None:
            return None
        rc = self.daemon.stop()
        self.exits.append((self.daemon.name, rc))
        self.daemon = None
        return rc


@pytest.fixture
def linphone(request, netns, procs, iwf):
    """linphone_factory(user): a fresh profile for that user, registered."""
    clients = []

    def factory(user):
        path = os.path.join(OUT, "linphone", re.sub(r"\W", "_", request.node.name))
        shutil.rmtree(path, ignore_errors=True)
        c = Client(procs, user, path)
        clients.append(c)
        c.start()
        return c

    yield factory
    for c in clients:
        c.stop()
