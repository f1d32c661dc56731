# SPDX-License-Identifier: GPL-2.0-or-later
"""Debian's liblinphone as the CPM client of the interop tests.

LinphoneProfile  a linphonerc + chat DB directory for one account
LinphoneDaemon   linphone-daemon (linphone-cli) on that profile, driven on
                 its stdin; its stdout (responses and events) goes to a file
ChatDB           read-only view of the profile's linphone.db (liblinphone's
                 own record of every chat message and its state)
lp_markread.py   (separate process) marks the profile's chat rooms read,
                 which is what makes liblinphone send its display IMDNs:
                 neither linphonec nor linphone-daemon 5.1 has a command
                 for linphone_chat_room_mark_as_read()

The configuration keys and the DB schema are those of liblinphone 5.1.65
(see README.md in this directory for where each one comes from).
"""

import os
import re
import sqlite3
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"

# LinphoneChatMessageState (include/linphone/enums/chat-message-enums.h)
STATE_NAMES = {0: "Idle", 1: "InProgress", 2: "Delivered", 3: "NotDelivered",
               4: "FileTransferError", 5: "FileTransferDone",
               6: "DeliveredToUser", 7: "Displayed", 8: "FileTransferInProgress"}
DELIVERED, NOT_DELIVERED, DELIVERED_TO_USER, DISPLAYED = 2, 3, 6, 7
OUTGOING, INCOMING = 1, 0


def state_name(s):
    return "%s (%s)" % (s, STATE_NAMES.get(s, "?"))


class LinphoneProfile:
    """One account's linphonerc and chat DB under `path`."""

    def __init__(self, path, user, domain, proxy, ip, port):
        self.path = path
        self.user = user            # "+4798765401"
        self.domain = domain        # the CPM core's domain
        self.proxy = proxy          # "127.0.0.1:5080"
        self.ip = ip
        self.port = port
        self.rc = os.path.join(path, "linphonerc")
        self.db = os.path.join(path, "linphone.db")
        self.identity = "sip:%s@%s" % (user, domain)
        os.makedirs(path, exist_ok=True)
        self.write_rc()

    def write_rc(self):
        proxy = "<sip:%s;transport=udp>" % self.proxy
        route = "<sip:%s;transport=udp;lr>" % self.proxy
        rc = f"""\
[sip]
# UDP only, on our own namespace address (no TCP/TLS listeners)
sip_port={self.port}
sip_tcp_port=0
sip_tls_port=0
bind_address={self.ip}
use_ipv6=0
# IMDN: ask for and send delivery and display notifications
im_notif_policy=all
default_proxy=0
ping_with_options=0

[net]
firewall_policy=0

[proxy_0]
reg_proxy={proxy}
reg_route={route}
reg_identity={self.identity}
reg_expires=600
reg_sendregister=1
publish=0
# CPIM in basic chat rooms: the key liblinphone writes per account ...
cpim_in_basic_chat_rooms_enabled=1

# ... and where 5.1.65 reads it from: AccountParams(lc, index) reads it with
# linphone_config_get_default_int(), i.e. from "<section>_default_values"
[proxy_default_values]
cpim_in_basic_chat_rooms_enabled=1

[storage]
uri={self.db}
call_logs_db_uri={os.path.join(self.path, "call-history.db")}
zrtp_secrets_db_uri={os.path.join(self.path, "zrtp-secrets.db")}

[misc]
enable_basic_to_client_group_chat_room_migration=0
"""
        with open(self.rc, "w", encoding="utf-8") as f:
            f.write(rc)


class LinphoneDaemon:
    """linphone-daemon on a profile; commands on stdin, output to a file."""

    def __init__(self, profile, procs, name):
        self.profile = profile
        self.procs = procs
        self.name = name
        self.out_path = os.path.join(profile.path, name + ".out")
        self.log_path = os.path.join(profile.path, name + ".log")
        self.proc = None
        self.returncode = None

    def start(self):
        self.out = open(self.out_path, "wb")
        self.proc = self.procs.popen(
            ["linphone-daemon", "--config", self.profile.rc, "--log", self.log_path,
             "--disable-stats-events"],
            name=self.name, stdin=subprocess.PIPE, stdout=self.out,
            stderr=subprocess.STDOUT, cwd=self.profile.path)
        return self

    def output(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send(self, line):
        if not self.alive():
            raise AssertionError("%s is not running (exit status %s); its output:\n%s"
                                 % (self.name, self.proc.poll(), self.tail()))
        self.proc.stdin.write((line + "\n").encode("utf-8"))
        self.proc.stdin.flush()

    def tail(self, n=30):
        return "\n".join(self.output().splitlines()[-n:])

    def wait_output(self, regex, since=0, timeout=10.0, step=0.1):
        """First match of regex in the output after offset `since`."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / step) + 2):
            out = self.output()
            m = re.search(regex, out[since:], re.M)
            if m:
                return m
            if not self.alive() or time.monotonic() > deadline:
                return None
            time.sleep(step)
        return None

    def wait_registered(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.5) + 2):
            mark = len(self.output())
            self.send("register-status ALL")
            m = self.wait_output(r"^State: (LinphoneRegistration\w+)", mark, 2.0)
            if m and m.group(1) == "LinphoneRegistrationOk":
                return True
            if not self.alive() or time.monotonic() > deadline:
                return False
            time.sleep(0.5)
        return False

    def message(self, uri, text):
        """Send text to uri; the daemon's id of the message (or None)."""
        if "\n" in text:
            raise ValueError("the daemon takes one line per command")
        mark = len(self.output())
        self.send("message %s %s" % (uri, text))
        m = self.wait_output(r"^Id: (\S+)", mark, 5.0)
        return m.group(1) if m else None

    def events(self, kind):
        """Every event of that type so far, as dicts of its body lines."""
        evs = []
        for block in re.split(r"\n(?=Event-type: )", self.output()):
            if not block.startswith("Event-type: %s\n" % kind):
                continue
            ev = {}
            for ln in block.splitlines()[1:]:
                k, sep, v = ln.partition(": ")
                if sep and k and k not in ev:
                    ev[k] = v
                elif ln.startswith("daemon-linphone>") or ln.startswith("Status:"):
                    break
            evs.append(ev)
        return evs

    def stop(self, timeout=10.0):
        """quit, then TERM/KILL by PID; the exit status (negative: signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.stdin.close()
            except (OSError, AssertionError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.procs.stop(self.proc)
        self.returncode = self.proc.returncode
        self.out.close()
        return self.returncode


def run_markread(profile, procs, peer_wait, timeout=20.0):
    """lp_markread.py on the (stopped) profile: registers, marks every chat
    room read, stays up until peer_wait() is true or timeout, quits.  Returns
    (exit status, its JSON output lines)."""
    out_path = os.path.join(profile.path, "markread.out")
    with open(out_path, "wb") as out:
        p = procs.popen([PY, os.path.join(HERE, "lp_markread.py"), profile.rc,
                         os.path.join(profile.path, "markread.log")],
                        name="lp_markread", stdin=subprocess.PIPE, stdout=out,
                        stderr=subprocess.STDOUT, cwd=profile.path)
        deadline = time.monotonic() + timeout
        done = False
        for _ in range(int(timeout / 0.2) + 2):
            if p.poll() is not None or time.monotonic() > deadline:
                break
            with open(out_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            if '"event": "marked"' in text and peer_wait():
                done = True
                break
            time.sleep(0.2)
        if p.poll() is None:
            try:
                p.stdin.write(b"quit\n")
                p.stdin.close()
                p.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        procs.stop(p)
    with open(out_path, "rb") as f:
        lines = f.read().decode("utf-8", "replace").splitlines()
    return p.returncode, lines, done


class ChatDB:
    """Read-only queries on liblinphone's main DB (src/db/main-db.cpp)."""

    QUERY = """
        SELECT e.event_id, e.imdn_message_id, e.state, e.direction,
               e.delivery_notification_required, e.display_notification_required,
               e.marked_as_read, f.value, t.value, ct.value, c.body
        FROM conference_chat_message_event e
        JOIN sip_address f ON f.id = e.from_sip_address_id
        JOIN sip_address t ON t.id = e.to_sip_address_id
        LEFT JOIN chat_message_content c ON c.event_id = e.event_id
        LEFT JOIN content_type ct ON ct.id = c.content_type_id
        ORDER BY e.event_id"""
    KEYS = ("event_id", "imdn_message_id", "state", "direction", "delivery_required",
            "display_required", "marked_as_read", "from", "to", "content_type", "body")

    def __init__(self, path):
        self.path = path

    def messages(self):
        if not os.path.exists(self.path):
            return []
        con = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=5)
        try:
            rows = con.execute(self.QUERY).fetchall()
        except sqlite3.Error:
            return []   # schema not created yet
        finally:
            con.close()
        return [dict(zip(self.KEYS, r)) for r in rows]

    def chat_rooms(self):
        """(peer, local) addresses of every chat room liblinphone stored."""
        con = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=5)
        try:
            return con.execute(
                "SELECT p.value, l.value FROM chat_room r"
                " JOIN sip_address p ON p.id = r.peer_sip_address_id"
                " JOIN sip_address l ON l.id = r.local_sip_address_id").fetchall()
        except sqlite3.Error as e:
            return "(%s)" % e
        finally:
            con.close()

    def find(self, direction, body=None, pred=None):
        for m in self.messages():
            if m["direction"] != direction:
                continue
            if body is not None and m["body"] != body:
                continue
            if pred is not None and not pred(m):
                continue
            return m
        return None

    def wait(self, direction, body=None, pred=None, timeout=10.0, step=0.2):
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / step) + 2):
            m = self.find(direction, body, pred)
            if m is not None or time.monotonic() > deadline:
                return m
            time.sleep(step)
        return None

    def dump(self):
        return "\n".join("  %s" % {k: (state_name(v) if k == "state" else v)
                                   for k, v in m.items()} for m in self.messages()) \
            or "  (no chat messages)"
