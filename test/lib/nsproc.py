# SPDX-License-Identifier: GPL-2.0-or-later
"""What the pytest suites (test/e2e, test/interop) share: a private network
and mount namespace the test process enters itself, and the processes it
starts, each stopped by its PID (TERM, a bounded wait, then KILL)."""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000


# ---------------------------------------------------------------------------
# processes
# ---------------------------------------------------------------------------
def children_of(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        # the ppid is the 2nd field after the ")" that closes the comm
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1 and fields[1] == str(pid):
            kids.append(int(d))
    return kids


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def proc_state(pid):
    """'pid state wchan' of a live process, for a stop that needed KILL."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rpartition(")")[2].split()[0]
        with open("/proc/%d/wchan" % pid) as f:
            wchan = f.read().strip() or "-"
    except OSError:
        return "%d gone" % pid
    return "%d %s %s" % (pid, state, wchan)


class Procs:
    """Every process a suite starts in the background; stopped by PID,
    newest first."""

    def __init__(self):
        self.procs = []
        self.stuck = []   # what the last stop that needed KILL found alive

    def popen(self, argv, name, **kw):
        p = subprocess.Popen(argv, **kw)
        p.cpm_name = name
        self.procs.append(p)
        return p

    def stop(self, p, grace=5.0):
        """TERM, wait up to grace, KILL; its children (Kamailio's) the same.
        True if all of them ended on TERM."""
        clean = True
        if p.poll() is None:
            kids = children_of(p.pid)
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                clean = False
                self.stuck = [proc_state(k) for k in [p.pid] + kids if pid_alive(k)]
                p.kill()
                p.wait(5)
            for _ in range(30):
                kids = [k for k in kids if pid_alive(k)]
                if not kids:
                    break
                time.sleep(0.1)
            if kids and clean:
                self.stuck = [proc_state(k) for k in kids]
            for k in kids:
                clean = False
                try:
                    os.kill(k, signal.SIGKILL)
                except OSError:
                    pass
        if p in self.procs:
            self.procs.remove(p)
        return clean

    def wait(self, p, timeout):
        """Wait up to timeout for p to end by itself, then stop it."""
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop(p)
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode

    def stop_all(self):
        for p in reversed(list(self.procs)):
            self.stop(p)


def run(argv, timeout=30, **kw):
    """A short-lived command: its exit status and output (stdout + stderr)."""
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        return 124, (e.output or b"").decode("utf-8", "replace") + "\n(timed out)"
    return r.returncode, r.stdout.decode("utf-8", "replace")


def sh(*argv):
    rc, out = run(list(argv))
    if rc != 0:
        raise RuntimeError("%s: %s" % (" ".join(argv), out))


def port_bound(proto, port):
    rc, out = run(["ss", "-Hln" + proto, "sport = :%d" % port], timeout=10)
    return bool(out.strip())


def wait_until(pred, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / step) + 2):
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)
    return pred()


# ---------------------------------------------------------------------------
# the private namespace
# ---------------------------------------------------------------------------
def enter_private_namespace(suite, out, tools, files, addrs=()):
    """Check the prerequisites (tools on PATH, files, python3-aiosmtpd, root),
    then enter a new network + mount namespace: lo up with the extra
    loopback addresses, out made anew, a private resolv.conf (nameserver
    127.0.0.1) and hosts bind-mounted.  Fails the session otherwise."""
    missing = [t for t in tools if not shutil.which(t)]
    for f in files:
        if not os.path.exists(f):
            missing.append(f + (" (run make)" if f.endswith(".so") else ""))
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        missing.append("python3-aiosmtpd")
    if missing:
        pytest.fail("missing prerequisites: %s (make deps)" % ", ".join(missing), False)
    if os.geteuid() != 0:
        pytest.fail("the %s tests need root (network namespace, ports 25/53)" % suite, False)
    # unshare(CLONE_NEWNS) needs a single-threaded process
    if threading.active_count() != 1 or len(os.listdir("/proc/self/task")) != 1:
        pytest.fail("pytest has more than one thread: cannot unshare", False)
    host_net = os.readlink("/proc/self/ns/net")
    host_mnt = os.readlink("/proc/self/ns/mnt")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS | CLONE_NEWNET) != 0:
        pytest.fail("unshare(CLONE_NEWNS|CLONE_NEWNET): %s"
                    % os.strerror(ctypes.get_errno()), False)
    if os.readlink("/proc/self/ns/net") == host_net or \
            os.readlink("/proc/self/ns/mnt") == host_mnt:
        pytest.fail("still in the host's namespaces after unshare", False)
    # mounts below must not propagate to the host
    sh("mount", "--make-rprivate", "/")
    sh("ip", "link", "set", "lo", "up")
    for a in addrs:
        sh("ip", "addr", "add", a + "/32", "dev", "lo")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    with open(os.path.join(out, "resolv.conf"), "w") as f:
        f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:2\n")
    with open(os.path.join(out, "hosts"), "w") as f:
        f.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n127.0.0.1\t%s\n"
                % socket.gethostname())
    sh("mount", "--bind", os.path.join(out, "resolv.conf"), "/etc/resolv.conf")
    sh("mount", "--bind", os.path.join(out, "hosts"), "/etc/hosts")
