# SPDX-License-Identifier: GPL-2.0-or-later
"""The end of each mode: CHUNKING (sysdns), the Kamailio logs of the mode,
a clean stop."""

import glob
import re

import pytest

import e2elib
from conftest import MM4, MM4_MODES, plmn


@pytest.mark.modes("sysdns")
def test_chunking_every_mail_bdat(mode, kam):
    """CHUNKING: every mail both ways went in BDAT chunks (the IWF's REQs and
    reports by libesmtp, the peer's RESs, REQs and reports into the IWF's
    listener): a message each way of its own, then every mail of the mode"""
    mode.msg_case("200")
    if mode.name in MM4_MODES:
        mode.ensure_uas()
        mode.mm4_case(["send-req", "--to", MM4, "--rcpt", plmn("+4730000065")],
                      r"^tel:\+4730000065$")
    recs = e2elib.read_events(mode.peer_log, 0)
    sends = e2elib.read_events(mode.sends_log, 0)
    mails = [r for r in recs if r.get("event") in ("mail", "rx_res", "rx_report")]
    res = [r for r in recs if r.get("event") == "res" and r.get("sent")]
    data = [r for r in sends if r.get("stage") == "data"]
    bad = (["mail %s" % r.get("seq") for r in mails if not r.get("chunks")]
           + ["res %s" % r.get("seq") for r in res if r.get("bdat") is not True]
           + ["send %s" % r.get("tid") for r in data if r.get("bdat") is not True])
    print("%d mails in, %d RESs and %d mails out" % (len(mails), len(res), len(data)))
    assert mails and res, "no mail or no RES in the peer's log"
    assert not bad, "not by BDAT: %s" % bad[:8]


@pytest.mark.modes("sysdns")
def test_chunking_listener(mode, kam):
    """CHUNKING: the listener reads a refused BDAT chunk as data (503, then
    NOOP 250); BDAT without a size -> 501 and closed"""
    ok, out = mode.probe("bdat", MM4, 5)
    assert ok, out


def test_kamailio_log_clean(mode, kam):
    """kamailio log has no CRITICAL/BUG/out-of-memory lines (every instance
    of the mode; receive_fd EOF: Kamailio's TCP main notices a child that
    exited first during a shutdown, not an error)"""
    bad = []
    for path in sorted(glob.glob(mode.path("kamailio*.log"))):
        with open(path, "rb") as f:
            for ln in f.read().decode("utf-8", "replace").splitlines():
                if re.search(r"CRITICAL|BUG|exited by a signal|segfault|Segmentation|"
                             r"core dumped|shm_mem_destroy|out of memory|no more (shm|pkg)", ln) \
                        and "receive_fd(): EOF on" not in ln:
                    bad.append(ln)
    assert not bad, "\n".join(bad[:3])


def test_kamailio_stops_cleanly(mode, kam):
    """kamailio stops cleanly on SIGTERM"""
    assert kam.alive(), "not running"
    assert mode.kam.stop(), "needed SIGKILL; alive after SIGTERM (pid state wchan; the " \
        "log's second column is the pid): %s" % mode.procs.stuck
