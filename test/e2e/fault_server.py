#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Misbehaving servers for the cpm_mms fault matrix (test_3_instances.py).

    fault_server.py blackhole IP:PORT   TCP: accept, read, never answer
    fault_server.py middata IP:PORT     SMTP until DATA, then close mid-DATA
    fault_server.py dnshole IP:PORT     UDP: read DNS questions, never answer

Runs until SIGTERM; bounded by --max-seconds (default 600).
"""
import signal
import socket
import sys
import threading
import time


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def blackhole(conn):
    conn.settimeout(30)
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass
    conn.close()


def middata(conn):
    conn.settimeout(30)
    f = conn.makefile("rb")
    try:
        conn.sendall(b"220 middata.test ESMTP\r\n")
        for line in f:
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO") or cmd.startswith(b"HELO"):
                conn.sendall(b"250 middata.test\r\n")
            elif cmd.startswith(b"MAIL") or cmd.startswith(b"RCPT"):
                conn.sendall(b"250 ok\r\n")
            elif cmd == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                f.readline()   # take one line of the mail, then hang up
                break
            elif cmd == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                break
            else:
                conn.sendall(b"250 ok\r\n")
    except OSError:
        pass
    conn.close()


def main():
    mode, addr = sys.argv[1], hostport(sys.argv[2])
    limit = 600
    if "--max-seconds" in sys.argv:
        limit = int(sys.argv[sys.argv.index("--max-seconds") + 1])
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    end = time.time() + limit
    if mode == "dnshole":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(addr)
        s.settimeout(1)
        while time.time() < end:
            try:
                s.recvfrom(4096)
            except socket.timeout:
                pass
        return
    handler = {"blackhole": blackhole, "middata": middata}[mode]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(16)
    s.settimeout(1)
    while time.time() < end:
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
