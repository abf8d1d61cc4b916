#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
No circle of calls among the files of user/ and bpf/ (user/README.md):
file A calls a function defined in file B, and B, directly or through
others, one defined in A. A function is defined where a line at column
0 names it before its parameters and the body's "{" opens the next
line; statics count only within their own .c file. Prints each circle;
exits 1 if there is one.
"""
import glob
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
files = sorted(glob.glob(os.path.join(root, "user/*/*.c")) +
               glob.glob(os.path.join(root, "bpf/*.h")) +
               glob.glob(os.path.join(root, "bpf/*.c")))
DEF = re.compile(r"^(static\s+)?[A-Za-z_][^;{}()=]*?\b(\w+)\(([^;{}]*?)\)\s*\n\{",
                 re.M)


def strip(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


texts = {f: strip(open(f).read()) for f in files}
defined = {}
for f, t in texts.items():
    for m in DEF.finditer(t):
        if m.group(1) and f.endswith(".c"):
            continue
        defined.setdefault(m.group(2), set()).add(f)
calls = {f: set() for f in files}
for f, t in texts.items():
    for name, where in defined.items():
        if f in where:
            continue
        if re.search(r"\b%s\s*\(" % re.escape(name), t):
            calls[f] |= where

# Tarjan's strongly connected components.
sys.setrecursionlimit(10000)
num, low, stack, on, circles = {}, {}, [], set(), []


def visit(v):
    num[v] = low[v] = len(num)
    stack.append(v)
    on.add(v)
    for w in calls[v]:
        if w not in num:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], num[w])
    if low[v] == num[v]:
        c = []
        while True:
            w = stack.pop()
            on.discard(w)
            c.append(w)
            if w == v:
                break
        if len(c) > 1:
            circles.append(c)


for f in files:
    if f not in num:
        visit(f)
for c in circles:
    print("circle: " + " ".join(sorted(os.path.relpath(x, root) for x in c)))
sys.exit(1 if circles else 0)
