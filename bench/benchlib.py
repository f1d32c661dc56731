#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers of bench/run.sh: CPU snapshots, step verdicts, results.md.

  benchlib.py cpusnap FILE name=PID[+] ...
      /proc snapshot: system CPU ticks and, per name, utime+stime of PID
      ("PID+" = PID and its direct children, e.g. all Kamailio processes).
  benchlib.py sipp-step --scenario S --rate R --count N --dir D
                        --cpu0 F --cpu1 F --jsonl F [--p99-max MS]
      verdict of one sipp UAC step (stat.csv + *_rtt.csv in D).
  benchlib.py gen-step  --scenario S --rate R --count N --gen-out F
                        --cpu0 F --cpu1 F --jsonl F [--p99-max MS]
      verdict of one mm4bench gen step.
  Both append one JSON line to --jsonl, print a summary line, and exit 0 if
  the step passed (0 failures, p99 <= limit, rate reached), else 1.
  benchlib.py report --jsonl F --capdir D --machine F --cmd S --out F
      writes results.md.
"""

import argparse
import glob
import json
import os
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")
RATE_TOLERANCE = 0.95   # a step must reach 95 % of its target rate


def proc_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return 0, None
    rest = s[s.rindex(")") + 2:].split()
    # rest[0] = state (field 3); utime = field 14, stime = 15, ppid = 4
    return int(rest[11]) + int(rest[12]), int(rest[1])


def children_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        if int(rest[1]) == pid:
            out.append(int(d))
    return out


def udp_drops():
    """UDP datagrams dropped for a full receive buffer (this netns)"""
    try:
        with open("/proc/net/snmp") as f:
            rows = [ln.split() for ln in f if ln.startswith("Udp:")]
        return int(dict(zip(rows[0][1:], rows[1][1:])).get("RcvbufErrors", 0))
    except (OSError, IndexError, ValueError):
        return 0


def cmd_cpusnap(a):
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    snap = {"t": time.monotonic(), "sys_total": sum(cpu[:8]),
            "sys_idle": cpu[3] + cpu[4], "sys_softirq": cpu[5] + cpu[6],
            "sys_steal": cpu[7], "groups": {}, "udp_drops": udp_drops()}
    for spec in a.specs:
        name, _, p = spec.partition("=")
        if not p or p in ("0", "0+"):
            continue
        tree = p.endswith("+")
        pid = int(p.rstrip("+"))
        pids = [pid] + (children_of(pid) if tree else [])
        ticks = 0
        per = {}
        for q in pids:
            t = proc_ticks(q)[0]
            per[str(q)] = t
            ticks += t
        snap["groups"][name] = {"ticks": ticks, "nproc": len(pids), "pids": per}
    with open(a.file, "w") as f:
        json.dump(snap, f)


def read_psx(path):
    """kamcmd core.psx output -> {pid: process kind}"""
    kinds = {}
    pid = None
    try:
        with open(path) as f:
            for ln in f:
                ln = ln.strip()
                if ln.startswith("PID:"):
                    pid = ln.split(":", 1)[1].strip()
                elif ln.startswith("DSC:") and pid:
                    d = ln.split(":", 1)[1].strip()
                    # "udp receiver child=0 sock=..." -> "udp receiver"
                    d = d.split(" child=")[0].split(" sock=")[0]
                    d = d.replace("main process - attendant", "main")
                    kinds[pid] = d
                    pid = None
    except OSError:
        pass
    return kinds


def cpu_delta(f0, f1, psx=None):
    s0 = json.load(open(f0))
    s1 = json.load(open(f1))
    wall = s1["t"] - s0["t"]
    res = {"wall_s": round(wall, 3),
           "udp_drops": s1.get("udp_drops", 0) - s0.get("udp_drops", 0)}
    k0 = s0["groups"].get("kamailio", {}).get("pids", {})
    k1 = s1["groups"].get("kamailio", {}).get("pids", {})
    if k1 and wall > 0:
        kinds = read_psx(psx) if psx else {}
        by = {}
        for pid, t in k1.items():
            kind = kinds.get(pid, "other")
            by[kind] = by.get(kind, 0) + t - k0.get(pid, 0)
        res["kam_procs"] = {k: round(100.0 * v / HZ / wall, 1)
                            for k, v in sorted(by.items(), key=lambda x: -x[1])}
    ours = 0
    for name, g1 in s1["groups"].items():
        g0 = s0["groups"].get(name, {"ticks": 0})
        d = g1["ticks"] - g0["ticks"]
        ours += d
        res["cpu_" + name] = round(100.0 * d / HZ / wall, 1) if wall > 0 else 0
        res["ticks_" + name] = d
    tot = s1["sys_total"] - s0["sys_total"]
    idle = s1["sys_idle"] - s0["sys_idle"]
    ncpu = os.cpu_count() or 1
    # interrupt time is charged to no process: on loopback it is mostly the
    # benchmark's own TCP/UDP processing; steal is CPU the hypervisor gave
    # to other guests; the rest is busy CPU of processes that are not ours
    sirq = s1.get("sys_softirq", 0) - s0.get("sys_softirq", 0)
    steal = s1.get("sys_steal", 0) - s0.get("sys_steal", 0)
    res["cpu_softirq"] = round(100.0 * sirq / tot * ncpu, 1) if tot > 0 else 0
    res["cpu_steal"] = round(100.0 * steal / tot * ncpu, 1) if tot > 0 else 0
    res["cpu_other"] = round(100.0 * max(tot - idle - ours - sirq - steal, 0)
                             / tot * ncpu, 1) if tot > 0 else 0
    res["cpu_idle"] = round(100.0 * idle / tot * ncpu, 1) if tot > 0 else 0
    return res


def percentile(sorted_vals, p):
    if not sorted_vals:
        return None
    i = int(p / 100.0 * len(sorted_vals) + 0.5) - 1
    i = min(max(i, 0), len(sorted_vals) - 1)
    return sorted_vals[i]


def read_sipp_stat(path):
    with open(path) as f:
        lines = [ln.rstrip("\n") for ln in f if ln.strip()]
    head = lines[0].split(";")
    last = lines[-1].split(";")
    return dict(zip(head, last))


def verdict(rec, p99_max):
    why = []
    if rec["failed"] > 0:
        why.append("%d failed" % rec["failed"])
    if rec["ok"] < rec["count"]:
        why.append("%d of %d answered" % (rec["ok"], rec["count"]))
    if rec["p99_ms"] is None or rec["p99_ms"] > p99_max:
        why.append("p99 %s ms > %s" % (rec["p99_ms"], p99_max))
    if rec.get("cpu_gen", 0) >= 95:
        why.append("generator saturated (%.0f%% CPU)" % rec["cpu_gen"])
    if rec["achieved_rate"] < RATE_TOLERANCE * rec["rate"]:
        why.append("rate %.0f/s < %.0f%% of target (generator or system "
                   "saturated)" % (rec["achieved_rate"], 100 * RATE_TOLERANCE))
    rec["pass"] = not why
    rec["why"] = "; ".join(why)
    return rec


def noise(s):
    """interrupts / steal / other CPU % of a step"""
    return "%s / %s / %s" % (fmt(s.get("cpu_softirq")), fmt(s.get("cpu_steal")),
                             fmt(s.get("cpu_other")))


def emit(rec, jsonl):
    with open(jsonl, "a") as f:
        f.write(json.dumps(rec) + "\n")
    kam_ms = rec.get("kam_cpu_ms_per_msg")
    print("  %-14s %6d/s  ok=%-6d fail=%-5d p50=%-6s p99=%-6s rate=%-7.0f "
          "kam=%5.1f%% (%s ms/msg) gen=%5.1f%% irq=%4.1f%% steal=%4.1f%% "
          "other=%4.1f%%  %s" % (
              rec["scenario"], rec["rate"], rec["ok"], rec["failed"],
              rec["p50_ms"], rec["p99_ms"], rec["achieved_rate"],
              rec.get("cpu_kamailio", 0),
              "-" if kam_ms is None else "%.3f" % kam_ms,
              rec.get("cpu_gen", 0), rec.get("cpu_softirq", 0),
              rec.get("cpu_steal", 0), rec.get("cpu_other", 0),
              "PASS" if rec["pass"] else "FAIL: " + rec["why"]), flush=True)
    return 0 if rec["pass"] else 1


def add_cpu(rec, a):
    rec.update(cpu_delta(a.cpu0, a.cpu1, a.psx))
    if a.gen_rusage:
        try:
            secs = float(open(a.gen_rusage).read().strip())
            rec["cpu_gen"] = round(100.0 * secs / rec["wall_s"], 1) if rec["wall_s"] > 0 else 0
        except (OSError, ValueError):
            pass
    ticks = rec.get("ticks_kamailio")
    if ticks is not None and rec["ok"] > 0:
        rec["kam_cpu_ms_per_msg"] = round(1000.0 * ticks / HZ / rec["ok"], 4)


def cmd_sipp_step(a):
    rec = {"scenario": a.scenario, "rate": a.rate, "count": a.count,
           "tool": "sipp", "attempt": a.attempt}
    try:
        st = read_sipp_stat(os.path.join(a.dir, "stat.csv"))
        rec["ok"] = int(st.get("SuccessfulCall(C)", 0))
        rec["failed"] = int(st.get("FailedCall(C)", 0))
        rec["created"] = int(st.get("TotalCallCreated", 0))
        rec["retrans"] = int(st.get("Retransmissions(C)", 0))
    except (OSError, IndexError, ValueError):
        rec.update(ok=0, failed=a.count, created=0, retrans=0)
    rtts, dates = [], []
    for path in glob.glob(os.path.join(a.dir, "*_rtt.csv")):
        with open(path) as f:
            for ln in f:
                parts = ln.strip().split(";")
                if len(parts) < 2:
                    continue
                try:
                    dates.append(float(parts[0]))
                    rtts.append(float(parts[1]))
                except ValueError:
                    continue
    rtts.sort()
    rec["p50_ms"] = percentile(rtts, 50)
    rec["p99_ms"] = percentile(rtts, 99)
    rec["max_ms"] = rtts[-1] if rtts else None
    # completions per second over the step (sipp's own call rate at -rp 1s)
    if len(dates) > 1 and max(dates) > min(dates):
        rec["achieved_rate"] = round((len(dates) - 1) / ((max(dates) - min(dates))
                                                         / 1000.0), 1)
    else:
        rec["achieved_rate"] = 0.0
    add_cpu(rec, a)
    verdict(rec, a.p99_max)
    return emit(rec, a.jsonl)


def cmd_gen_step(a):
    rec = {"scenario": a.scenario, "rate": a.rate, "count": a.count,
           "tool": "mm4bench", "attempt": a.attempt}
    kv = {}
    try:
        with open(a.gen_out) as f:
            for ln in f:
                if "target_rate=" in ln:
                    kv = dict(x.split("=", 1) for x in ln.split())
    except OSError:
        pass

    def num(k, d=0.0):
        try:
            v = float(kv.get(k, d))
            return None if v < 0 else v
        except ValueError:
            return d
    rec["ok"] = int(num("res_ok") or 0)
    rec["failed"] = int((num("smtp_fail") or 0) + (num("res_err") or 0)
                        + (num("res_missing") or 0) + (num("not_sent") or 0))
    rec["smtp_ok"] = int(num("smtp_ok") or 0)
    rec["requeued"] = int(num("requeued") or 0)
    rec["p50_ms"] = num("p50_ms", -1)
    rec["p99_ms"] = num("p99_ms", -1)
    rec["max_ms"] = num("max_ms", -1)
    rec["ack_p50_ms"] = num("ack_p50_ms", -1)
    rec["max_lag_ms"] = num("max_lag_ms", -1)
    rec["achieved_rate"] = num("achieved_rate") or 0.0
    if not kv:
        rec["failed"] = a.count
    add_cpu(rec, a)
    verdict(rec, a.p99_max)
    return emit(rec, a.jsonl)


# ---------------------------------------------------------------- report

SCEN_TITLES = [
    ("reply", "Baseline: stateful reply (t_newtran + t_reply 200)"),
    ("relay", "Baseline: stateful relay (t_relay to a sipp UAS)"),
    ("iwf_cpm2mms", "IWF CPM -> MMS (MESSAGE -> MM4_forward.REQ -> RES -> 200)"),
    ("iwf_mms2cpm", "IWF MMS -> CPM (MM4_forward.REQ -> MESSAGE -> 200 -> RES)"),
]


def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        if nd == 1 and v < 1 and v >= 0 and v == int(v):
            return "<1"
        return ("%." + str(nd) + "f") % v
    return str(v)


def fmt_ms(v, tool):
    if v is None or v < 0:
        return "-"
    if tool == "sipp":
        # sipp times in whole milliseconds
        return "<1" if v < 1 else "%d" % v
    return "%.2f" % v


def read_kv(path):
    kv = {}
    try:
        with open(path) as f:
            for ln in f:
                ln = ln.strip()
                if "=" in ln and not ln.startswith("#"):
                    k, _, v = ln.partition("=")
                    kv[k.strip()] = v.strip()
    except OSError:
        pass
    return kv


def cmd_run(a):
    """run a command in the foreground, bounded, and record its CPU time"""
    import resource
    import signal
    import subprocess
    argv = a.argv[1:] if a.argv and a.argv[0] == "--" else a.argv
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = open(a.stdout, "w") if a.stdout else None
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT if out else None,
                         cwd=a.cwd)

    def forward(sig, _frame):
        try:
            p.send_signal(sig)
        except OSError:
            pass
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        rc = p.wait(timeout=a.timeout)
    except subprocess.TimeoutExpired:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        rc = 124
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if a.rusage:
        with open(a.rusage, "w") as f:
            f.write("%.3f\n" % ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)))
    return rc


def cmd_perf_summary(a):
    """perf report --sort pid,dso,sym -> top symbols per Kamailio process kind"""
    kinds = read_psx(a.psx)
    by = {}
    total = {}
    with open(a.input) as f:
        for ln in f:
            parts = ln.split()
            if len(parts) < 5 or not parts[0].endswith("%") or ":" not in parts[1]:
                continue
            try:
                p = float(parts[0].rstrip("%"))
            except ValueError:
                continue
            pid = parts[1].split(":")[0]
            kind = kinds.get(pid, "pid " + pid)
            sym = "%s %s" % (parts[2], " ".join(parts[4:]))
            d = by.setdefault(kind, {})
            d[sym] = d.get(sym, 0) + p
            total[kind] = total.get(kind, 0) + p
    with open(a.out, "w") as f:
        for kind in sorted(total, key=lambda k: -total[k]):
            f.write("== %s: %.1f %% of the samples (listed symbols)\n" % (kind, total[kind]))
            for sym, p in sorted(by[kind].items(), key=lambda x: -x[1])[:a.top]:
                f.write("  %6.2f%%  %s\n" % (p, sym))
    return 0


def cmd_report(a):
    steps = []
    if os.path.exists(a.jsonl):
        with open(a.jsonl) as f:
            steps = [json.loads(ln) for ln in f if ln.strip()]
    best = {}
    for s in steps:
        if s["pass"] and (s["scenario"] not in best
                          or s["rate"] > best[s["scenario"]]["rate"]):
            best[s["scenario"]] = s
    relay = best.get("relay")
    relay_rate = relay["rate"] if relay else None
    relay_cpu = relay.get("kam_cpu_ms_per_msg") if relay else None
    out = []
    w = out.append
    w("# cpm_mms benchmark results")
    w("")
    w("Generated by `%s` on %s." % (a.cmd, time.strftime("%Y-%m-%d %H:%M:%S %Z")))
    w("")
    w("The rate scenarios climb one ladder of offered rates together (%s "
      "msg/s, then bisecting steps between each one's last pass and first "
      "failure), ~%s s per step: at each rate every scenario still passing "
      "runs one step, back to back, each on a freshly started Kamailio (same "
      "binary, same global configuration, children=4), so that the "
      "baselines and the IWF meet the machine within a minute of each "
      "other. A scenario stops at its first step with a failure, p99 > %s ms "
      "or less than %d %% of the offered rate reached (generator or machine "
      "saturated). %s Ratios compare this run's numbers." % (
          a.rates, a.step_s, a.p99_max, int(100 * RATE_TOLERANCE),
          "No failed step was run again." if a.steal_retry == "never" else
          "A failed step that ran while the hypervisor took at least %s %% "
          "of a core (steal) is run again, up to %s times, each once a 3 s "
          "window shows less steal (waiting 90 s at most), and the best "
          "attempt counts, for every scenario alike." % (a.steal_retry, a.retries)))
    w("")
    w("| scenario | max rate with 0 failures (msg/s) | p50 (ms) | p99 (ms) | "
      "kamailio CPU % | kamailio CPU ms/msg | ratio to stateful relay (rate) | "
      "ratio to stateful relay (CPU/msg) | interrupts / steal / other (CPU %) |")
    w("|---|---|---|---|---|---|---|---|---|")
    for key, title in SCEN_TITLES:
        s = best.get(key)
        if not any(x["scenario"] == key for x in steps):
            continue
        if not s:
            w("| %s | none passed (lowest step failed) | - | - | - | - | - | - | - |"
              % title)
            continue
        ratio = "%.2f" % (s["rate"] / relay_rate) if relay_rate else "-"
        cpu_ms = s.get("kam_cpu_ms_per_msg")
        cratio = ("%.2fx" % (cpu_ms / relay_cpu)) if (cpu_ms and relay_cpu) else "-"
        w("| %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
            title, s["rate"], fmt_ms(s.get("p50_ms"), s["tool"]),
            fmt_ms(s.get("p99_ms"), s["tool"]),
            fmt(s.get("cpu_kamailio")), "-" if cpu_ms is None else "%.3f" % cpu_ms,
            ratio, cratio, noise(s)))
    w("")
    w("*Rate*: the highest offered rate whose step had 0 failures, p99 <= %s ms "
      "and reached the offered rate. *Kamailio CPU %%*: sum of utime+stime of "
      "all Kamailio processes over that step (/proc/<pid>/stat), 100 %% = one "
      "core of %d. *CPU ms/msg*: the same CPU time divided by the messages "
      "completed - the cost per message, less sensitive to the steps' "
      "granularity than the rate. *Ratio (CPU/msg)*: how many times the "
      "stateful relay's cost one message takes. *Interrupts*: CPU in "
      "hardware and soft interrupts, charged to no process (on loopback "
      "mostly the benchmark's own TCP/UDP processing). *Steal*: CPU the "
      "hypervisor gave to other guests (the machine's noise). *Other*: busy "
      "CPU of processes outside this benchmark during that step. sipp measures in whole milliseconds (\"<1\" = below 1 ms); "
      "mm4bench measures MM4_forward.REQ MAIL FROM written -> "
      "MM4_forward.RES received." % (a.p99_max, os.cpu_count() or 1))
    w("")
    w("## Ladder")
    w("")
    w("Each rate's steps in the order they ran (p99 in ms; steal = "
      "hypervisor steal during the step, % of a core).")
    w("")
    ladder_scens = [k for k, _ in SCEN_TITLES if any(x["scenario"] == k for x in steps)]
    rates = []
    for x in steps:
        if x["rate"] not in rates:
            rates.append(x["rate"])
    if ladder_scens:
        w("| offered/s | " + " | ".join(ladder_scens) + " |")
        w("|---|" + "---|" * len(ladder_scens))
        for r in rates:
            cells = []
            for k in ladder_scens:
                tries = [x for x in steps if x["scenario"] == k and x["rate"] == r]
                cells.append("; ".join("%s (p99 %s, steal %s)" % (
                    "pass" if x["pass"] else "fail",
                    fmt_ms(x.get("p99_ms"), x["tool"]), fmt(x.get("cpu_steal")))
                    for x in tries) or "-")
            w("| %d | %s |" % (r, " | ".join(cells)))
        w("")
    w("## Where Kamailio's CPU goes")
    w("")
    w("CPU % per kind of Kamailio process (kamcmd core.psx) in each "
      "scenario's best step; 100 % = one core.")
    w("")
    kinds = []
    for key, _ in SCEN_TITLES:
        for k in (best.get(key) or {}).get("kam_procs", {}):
            if k not in kinds:
                kinds.append(k)
    if kinds:
        present = [k for k, _ in SCEN_TITLES if best.get(k)]
        w("| process | " + " | ".join("%s @ %d/s" % (k, best[k]["rate"])
                                       for k in present) + " |")
        w("|---|" + "---|" * len(present))
        for kind in kinds:
            w("| %s | " % kind + " | ".join(
                fmt(best[k].get("kam_procs", {}).get(kind)) for k in present) + " |")
        w("")
    w("## Every step")
    w("")
    w("| scenario | offered/s | reached/s | answered | failed | p50 ms | p99 ms | "
      "max ms | kamailio CPU % | ms/msg | generator CPU % | peer/UAS CPU % | "
      "DNS CPU % | interrupts / steal / other CPU % | UDP drops | verdict |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s in steps:
        peer = s.get("cpu_peer", s.get("cpu_uas"))
        w("| %s | %s | %.0f | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            s["scenario"], "%d%s" % (s["rate"], " (attempt %d)" % s["attempt"] if s.get("attempt", 1) > 1 else ""), s["achieved_rate"], s["ok"], s["failed"],
            fmt_ms(s.get("p50_ms"), s["tool"]), fmt_ms(s.get("p99_ms"), s["tool"]),
            fmt_ms(s.get("max_ms"), s["tool"]), fmt(s.get("cpu_kamailio")),
            "-" if s.get("kam_cpu_ms_per_msg") is None
            else "%.3f" % s["kam_cpu_ms_per_msg"],
            fmt(s.get("cpu_gen")), fmt(peer), fmt(s.get("cpu_dns")),
            noise(s), s.get("udp_drops", "-"),
            "pass" if s["pass"] else s["why"]))
    w("")
    w("## Capacity: suspended transactions")
    w("")
    iwf = read_kv(os.path.join(a.capdir, "cap_iwf.txt"))
    hold = read_kv(os.path.join(a.capdir, "cap_hold.txt"))
    if iwf or hold:
        w(iwf.get("method", hold.get("method", "")))
        w("")
        w("| | IWF (peer withholds every RES) | baseline (t_newtran + t_suspend) |")
        w("|---|---|---|")
        rows = [
            ("MESSAGEs offered", "offered"),
            ("offered at (msg/s)", "rate"),
            ("answered as expected (202 / 408)", "answered"),
            ("failed calls (503 or other answer)", "refused"),
            ("never answered (sipp gave up)", "unanswered"),
            ("held at the measurement (pending / tm current)", "held"),
            ("pending_peak (cpm_mms.stats)", "pending_peak"),
            ("MM4 REQs not yet sent at the measurement", "queued"),
            ("shm real_used before (bytes)", "shm0"),
            ("shm real_used while held (bytes)", "shm_held"),
            ("shm per held transaction (bytes)", "per_txn"),
            ("shm real_used after the drain (bytes)", "shm_end"),
            ("after the drain minus before (bytes)", "shm_leftover"),
            ("held transactions left after the drain", "left"),
        ]
        for label, k in rows:
            w("| %s | %s | %s |" % (label, iwf.get(k, "-"), hold.get(k, "-")))
        w("")
        try:
            extra = float(iwf["per_txn"]) - float(hold["per_txn"])
            w("**shm per pending MESSAGE beyond tm's own: %.0f bytes** "
              "(IWF per held transaction minus the baseline's; target <= 1024)."
              % extra)
        except (KeyError, ValueError):
            w("shm per pending MESSAGE beyond tm's own: not measured.")
        try:
            held = int(iwf["held"])
            w("")
            w("**Pending transactions held: %d** (pending_peak %s; target >= "
              "20000)%s" % (held, iwf.get("pending_peak", "-"),
                            (". " + iwf["note"]) if iwf.get("note") else "."))
        except (KeyError, ValueError):
            pass
    else:
        w("not run")
    w("")
    w("## Machine")
    w("")
    w("```")
    try:
        w(open(a.machine).read().rstrip())
    except OSError:
        w("(unknown)")
    w("```")
    w("")
    w("## Command")
    w("")
    w("```")
    w(a.cmd)
    w("```")
    if a.incidents and os.path.exists(a.incidents):
        w("")
        w("## Incidents")
        w("")
        w(open(a.incidents).read().rstrip())
    if a.notes and os.path.exists(a.notes):
        w("")
        w(open(a.notes).read().rstrip())
    with open(a.out, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cpusnap")
    c.add_argument("file")
    c.add_argument("specs", nargs="*")
    c.set_defaults(fn=cmd_cpusnap)
    for name, fn in (("sipp-step", cmd_sipp_step), ("gen-step", cmd_gen_step)):
        c = sub.add_parser(name)
        c.add_argument("--scenario", required=True)
        c.add_argument("--rate", type=int, required=True)
        c.add_argument("--count", type=int, required=True)
        c.add_argument("--dir")
        c.add_argument("--gen-out")
        c.add_argument("--cpu0", required=True)
        c.add_argument("--cpu1", required=True)
        c.add_argument("--jsonl", required=True)
        c.add_argument("--p99-max", type=float, default=50)
        c.add_argument("--gen-rusage")
        c.add_argument("--psx")
        c.add_argument("--attempt", type=int, default=1)
        c.set_defaults(fn=fn)
    c = sub.add_parser("perf-summary")
    c.add_argument("--psx", required=True)
    c.add_argument("--input", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--top", type=int, default=12)
    c.set_defaults(fn=cmd_perf_summary)
    c = sub.add_parser("run")
    c.add_argument("--timeout", type=float, required=True)
    c.add_argument("--rusage")
    c.add_argument("--stdout")
    c.add_argument("--cwd")
    c.add_argument("argv", nargs=argparse.REMAINDER)
    c.set_defaults(fn=cmd_run)
    c = sub.add_parser("report")
    c.add_argument("--jsonl", required=True)
    c.add_argument("--capdir", required=True)
    c.add_argument("--machine", required=True)
    c.add_argument("--cmd", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--rates", default="")
    c.add_argument("--step-s", default="")
    c.add_argument("--p99-max", default="50")
    c.add_argument("--notes")
    c.add_argument("--incidents")
    c.add_argument("--steal-retry", default="10")
    c.add_argument("--retries", default="2")
    c.set_defaults(fn=cmd_report)
    a = p.parse_args()
    sys.exit(a.fn(a) or 0)


if __name__ == "__main__":
    main()
