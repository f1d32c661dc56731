#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Mark a linphone profile's chat rooms read, headless.

    lp_markread.py LINPHONERC LOGFILE

Neither linphonec nor linphone-daemon (linphone-cli 5.1) has a command that
calls linphone_chat_room_mark_as_read(), the call with which a linphone UI
tells liblinphone that the user saw a chat and which makes it send the
display IMDNs.  This opens the same profile (the daemon must be stopped:
one core per profile and SIP port) with Debian's liblinphone.so.10 itself,
through ctypes (no headers, nothing compiled), waits for the account to
register, marks every chat room with unread messages read, then keeps
iterating the core so the IMDN MESSAGEs are sent and answered, until
"quit" on stdin (or 30 s).  One JSON object per line on stdout.
"""

import ctypes
import json
import os
import select
import sys
import time

REG_OK = 2            # LinphoneRegistrationOk
LOG_MESSAGE = 1 << 2  # LinphoneLogLevelMessage (and above)


def out(**kw):
    print(json.dumps(kw), flush=True)


class BctbxList(ctypes.Structure):
    pass


BctbxList._fields_ = [("next", ctypes.POINTER(BctbxList)),
                      ("prev", ctypes.POINTER(BctbxList)),
                      ("data", ctypes.c_void_p)]


def main():
    rc, logfile = sys.argv[1], sys.argv[2]
    lp = ctypes.CDLL("liblinphone.so.10")
    vp = ctypes.c_void_p
    for name, res, args in (
            ("linphone_factory_get", vp, []),
            ("linphone_factory_create_core_3", vp, [vp, ctypes.c_char_p, ctypes.c_char_p, vp]),
            ("linphone_logging_service_get", vp, []),
            ("linphone_logging_service_set_log_file", None,
             [vp, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]),
            ("linphone_logging_service_set_log_level", None, [vp, ctypes.c_int]),
            ("linphone_core_start", ctypes.c_int, [vp]),
            ("linphone_core_iterate", None, [vp]),
            ("linphone_core_get_default_account", vp, [vp]),
            ("linphone_account_get_state", ctypes.c_int, [vp]),
            ("linphone_core_get_chat_rooms", ctypes.POINTER(BctbxList), [vp]),
            ("linphone_chat_room_get_unread_messages_count", ctypes.c_int, [vp]),
            ("linphone_chat_room_get_peer_address", vp, [vp]),
            ("linphone_address_as_string", ctypes.c_void_p, [vp]),
            ("linphone_chat_room_mark_as_read", None, [vp]),
            ("linphone_core_stop", None, [vp]),
            ("linphone_core_unref", None, [vp])):
        f = getattr(lp, name)
        f.restype = res
        f.argtypes = args

    log = lp.linphone_logging_service_get()
    lp.linphone_logging_service_set_log_file(log, os.path.dirname(logfile).encode(),
                                             os.path.basename(logfile).encode(), 0)
    lp.linphone_logging_service_set_log_level(log, LOG_MESSAGE)
    core = lp.linphone_factory_create_core_3(lp.linphone_factory_get(), rc.encode(), None, None)
    if not core:
        out(event="error", error="linphone_factory_create_core_3 failed")
        return 1
    if lp.linphone_core_start(core) != 0:
        out(event="error", error="linphone_core_start failed")
        return 1
    out(event="started")

    deadline = time.monotonic() + 30
    registered = marked = False
    for _ in range(30 * 50):   # 20 ms per iteration, 30 s at most
        lp.linphone_core_iterate(core)
        if not registered:
            acc = lp.linphone_core_get_default_account(core)
            if acc and lp.linphone_account_get_state(acc) == REG_OK:
                registered = True
                out(event="registered")
        if registered and not marked:
            rooms = []
            node = lp.linphone_core_get_chat_rooms(core)
            for _ in range(1000):
                if not node:
                    break
                cr = node.contents.data
                n = lp.linphone_chat_room_get_unread_messages_count(cr)
                addr = lp.linphone_address_as_string(lp.linphone_chat_room_get_peer_address(cr))
                peer = ctypes.string_at(addr).decode("utf-8", "replace") if addr else None
                if n > 0:
                    lp.linphone_chat_room_mark_as_read(cr)
                rooms.append({"peer": peer, "unread": n})
                node = node.contents.next
            marked = True
            out(event="marked", rooms=rooms)
        r, _, _ = select.select([sys.stdin], [], [], 0.02)
        if r:
            line = sys.stdin.readline()
            if not line or line.strip() == "quit":
                break
        if time.monotonic() > deadline:
            out(event="timeout", registered=registered)
            break
    lp.linphone_core_stop(core)
    lp.linphone_core_unref(core)
    out(event="stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
