#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Probes of the IWF's MM4 listener limits (run.sh fault_cases).

    listener_probe.py idle IP:PORT SECONDS      greeting, then silence: expect
                                               421 and close within SECONDS
    listener_probe.py trickle IP:PORT SECONDS   one byte a second (slowloris):
                                               expect close within SECONDS
    listener_probe.py perpeer IP:PORT N         N connections at once: all but
                                               the allowed ones get 421
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
    sys.exit(2)


if __name__ == "__main__":
    main()
