#!/usr/bin/env python3
# cpm_mms - the module's layering, read from its #include lines:
#  - a pure unit (PURE_SRC in the Makefile) includes no Kamailio header and
#    no glue header;
#  - the glue units' dependencies (A.c or A.h includes B.h, B.c exists)
#    form no cycle; a cycle is printed as A -> B -> ... -> A;
#  - every header has the .c of its name (so the includes name the units).
# Last line: "N passed, M failed"; exit status 1 on any failure.
#
# Copyright (C) 2026 cpm_mms authors
# SPDX-License-Identifier: GPL-2.0-or-later
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MOD = os.path.join(TOP, "modules", "cpm_mms")
INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

passed = failed = 0


def ok(msg):
    global passed
    passed += 1
    print("ok   " + msg)


def bad(msg):
    global failed
    failed += 1
    print("FAIL " + msg)


def makefile_list(name):
    text = open(os.path.join(TOP, "Makefile")).read().replace("\\\n", " ")
    m = re.search(r"^%s\s*:=\s*(.*)$" % name, text, re.M)
    return m.group(1).split() if m else []


def includes(path):
    try:
        return INC.findall(open(path, encoding="utf-8").read())
    except OSError:
        return []


def unit_deps(unit, units):
    """units that 'unit' (its .c and .h) includes, by their header"""
    deps = set()
    for ext in (".c", ".h"):
        for inc in includes(os.path.join(MOD, unit + ext)):
            base = inc[:-2] if inc.endswith(".h") else inc
            if base != unit and base in units:
                deps.add(base)
    return deps


pure = [f[:-2] for f in makefile_list("PURE_SRC")]
glue = [f[:-2] for f in makefile_list("GLUE_SRC")]
if not pure or not glue:
    bad("PURE_SRC / GLUE_SRC not found in the Makefile")
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1)

# every .c of the module is in one of the lists
for f in sorted(os.listdir(MOD)):
    if f.endswith(".c") and f[:-2] not in pure and f[:-2] not in glue:
        bad("%s is in neither PURE_SRC nor GLUE_SRC" % f)

# dependencies are read by header name: each header belongs to its unit
for f in sorted(os.listdir(MOD)):
    if f.endswith(".h") and not os.path.exists(os.path.join(MOD, f[:-2] + ".c")):
        bad("%s has no %s.c: a header of shared declarations hides who "
            "depends on whom" % (f, f[:-2]))

for u in pure:
    wrong = []
    for ext in (".c", ".h"):
        for inc in includes(os.path.join(MOD, u + ext)):
            if inc.startswith(("core/", "modules/", "lib/")):
                wrong.append(inc)
            elif inc.endswith(".h") and inc[:-2] in glue:
                wrong.append(inc)
    if wrong:
        bad("pure unit %s includes %s" % (u, ", ".join(sorted(set(wrong)))))
    else:
        ok("pure unit %s includes no Kamailio or glue header" % u)

graph = {u: unit_deps(u, set(glue)) for u in glue}

# Tarjan's strongly connected components: any with more than one unit is
# a cycle
index, low, on_stack, stack, sccs = {}, {}, set(), [], []
counter = [0]


def strongconnect(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on_stack.add(v)
    for w in sorted(graph[v]):
        if w not in index:
            strongconnect(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            comp.append(w)
            if w == v:
                break
        sccs.append(comp)


sys.setrecursionlimit(10000)
for v in sorted(graph):
    if v not in index:
        strongconnect(v)


def one_cycle(comp):
    """a shortest path from comp[0] back to itself inside the component"""
    start = sorted(comp)[0]
    members = set(comp)
    prev = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return comp


cycles = [c for c in sccs if len(c) > 1]
if cycles:
    for c in cycles:
        bad("glue units in a dependency cycle: %s (%s)"
            % (", ".join(sorted(c)), " -> ".join(one_cycle(c))))
else:
    ok("no dependency cycle among the %d glue units" % len(glue))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
