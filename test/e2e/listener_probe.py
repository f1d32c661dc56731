#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Probes of the IWF's MM4 listener limits (test_3_instances.py).

    listener_probe.py idle IP:PORT SECONDS      greeting, then silence: expect
                                               421 and close within SECONDS
    listener_probe.py trickle IP:PORT SECONDS   one byte a second (slowloris):
                                               expect close within SECONDS
    listener_probe.py perpeer IP:PORT N         N connections at once: all but
                                               the allowed ones get 421
    listener_probe.py deaf IP:PORT N            pipelines N HELPs and never
                                               reads a reply (a 4 KB receive
                                               buffer), holding the
                                               connection 4 s
    listener_probe.py junk IP:PORT N            EHLO and N + 1 NOOPs: N answered
                                               250, then 421 (junk commands,
                                               mm4_junk_commands N) and closed
    listener_probe.py rate IP:PORT N            N connections one after
                                               another: the first N - 1
                                               greeted 220, the last 421
    listener_probe.py bdat IP:PORT SECONDS      CHUNKING offered; a BDAT out of
                                               sequence is refused (503) after
                                               its bytes are read (they are
                                               not commands); a BDAT without
                                               a size -> 501 and closed
Prints one line; exit 0 when the listener behaved.
"""
import socket
import sys
import time


def connect(addr):
    h, p = addr.rsplit(":", 1)
    s = socket.create_connection((h, int(p)), timeout=5)
    return s


def read_all(s, limit):
    s.settimeout(limit)
    data = b""
    end = time.time() + limit
    while time.time() < end:
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            break
        except OSError:
            break
        if not chunk:
            return data, True
        data += chunk
    return data, False


def main():
    mode, addr, arg = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if mode == "idle":
        s = connect(addr)
        t0 = time.time()
        data, closed = read_all(s, arg)
        ok = closed and b"\r\n421 " in b"\r\n" + data
        print("idle: closed=%s after %.1f s, got %r" % (closed, time.time() - t0, data[-80:]))
        sys.exit(0 if ok else 1)
    if mode == "trickle":
        s = connect(addr)
        s.settimeout(1)
        t0 = time.time()
        s.recv(4096)   # greeting
        closed = False
        while time.time() - t0 < arg:
            try:
                s.send(b"N")
                time.sleep(1)
                if s.recv(4096) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except OSError:
                closed = True
                break
        print("trickle: closed=%s after %.1f s" % (closed, time.time() - t0))
        sys.exit(0 if closed else 1)
    if mode == "perpeer":
        conns, greet = [], []
        for _ in range(int(arg)):
            s = connect(addr)
            conns.append(s)
            s.settimeout(1)
            try:   # just the greeting line: the others must stay open
                data = s.recv(4096)
            except OSError:
                data = b""
            greet.append(data[:3].decode(errors="replace"))
        for s in conns:
            s.close()
        print("perpeer: greetings %s" % ",".join(greet))
        n220, n421 = greet.count("220"), greet.count("421")
        sys.exit(0 if n421 >= 1 and n220 >= 1 and n220 + n421 == len(greet) else 1)
    if mode == "deaf":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        h, p = addr.rsplit(":", 1)
        s.settimeout(5)
        s.connect((h, int(p)))
        s.recv(64)
        data = b"HELP\r\n" * int(arg)   # not junk: a 79-byte reply each
        s.settimeout(0.5)
        sent, t0 = 0, time.time()
        while sent < len(data) and time.time() - t0 < 3:
            try:
                sent += s.send(data[sent:sent + 65536])
            except socket.timeout:
                continue
            except OSError:
                break
        time.sleep(max(0.0, 4 - (time.time() - t0)))   # held, unread
        s.close()
        print("deaf: %d of %d bytes of commands taken in %.1f s" % (sent, len(data),
                                                                    time.time() - t0))
        sys.exit(0)
    if mode == "junk":
        s = connect(addr)
        n = int(arg)
        s.sendall(b"EHLO probe.test\r\n" + b"NOOP\r\n" * (n + 1))
        data, closed = read_all(s, 5)
        lines = data.split(b"\r\n")
        ok250 = sum(1 for ln in lines if ln.startswith(b"250 2.0.0 Ok"))
        last = [ln for ln in lines if ln][-1:]
        print("junk: %d NOOPs answered 250, then %r, closed=%s" % (ok250, last, closed))
        sys.exit(0 if ok250 == n and closed and last
                 and last[0].startswith(b"421 4.7.0") and b"junk" in last[0] else 1)
    if mode == "rate":
        greet = []
        for _ in range(int(arg)):
            try:
                s = connect(addr)
                s.settimeout(2)
                greet.append(s.recv(4096)[:3].decode(errors="replace"))
                s.close()
            except OSError:
                greet.append("err")
            time.sleep(0.2)   # closed before the next one opens
        print("rate: greetings %s" % ",".join(greet))
        sys.exit(0 if greet[:-1] == ["220"] * (len(greet) - 1) and greet[-1] == "421" else 1)
    if mode == "bdat":
        s = connect(addr)
        s.settimeout(arg)

        def replies(n):
            # n complete replies (multi-line ones count once)
            data = b""
            while data.count(b"\r\n") < 64:
                lines = data.split(b"\r\n")[:-1]
                if sum(1 for ln in lines if ln[3:4] != b"-") >= n:
                    return lines
                chunk = s.recv(4096)
                if not chunk:
                    return data.split(b"\r\n") + [b"<closed>"]
                data += chunk
            return data.split(b"\r\n")

        greet = replies(1)
        s.sendall(b"EHLO probe.test\r\n")
        ehlo = replies(1)
        # 6 chunk bytes that would be a command; then NOOP must be next
        s.sendall(b"BDAT 6\r\nRSET\r\nNOOP\r\n")
        seq = replies(2)
        s.sendall(b"BDAT 12x\r\n")
        bad = replies(1)
        data, closed = read_all(s, arg)
        print("bdat: greet %r ehlo %r seq %r bad %r closed=%s" % (
            greet[:1], [ln for ln in ehlo if b"CHUNKING" in ln], seq, bad, closed))
        ok = (any(ln == b"250-CHUNKING" for ln in ehlo)
              and [ln[:3] for ln in seq] == [b"503", b"250"]
              and bad[0].startswith(b"501 ") and closed)
        sys.exit(0 if ok else 1)
    sys.exit(2)


if __name__ == "__main__":
    main()
