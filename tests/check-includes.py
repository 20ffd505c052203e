#!/usr/bin/env python3
"""check-includes.py - fails on an include cycle between strait's modules.

Two graphs are drawn from the `#include "dir/file.h"` lines of every .c/.h
file under the source folders (tests/ and deploy/ excluded):

  1. top-level folders (cmd, common, broker, sidecar, mirror, ...), the
     broker's sub-folders collapsed into `broker`;
  2. inside broker/: the root files (broker/*.c, broker/*.h) as the node
     `broker` and each sub-folder (broker/net, broker/proto, ...) as a node.

An arrow A -> B means a file of A includes a header of B. The layering in
docs/architecture.md wants every arrow to point down; a cycle (a strongly
connected component of more than one node) means some arrow points up.
Every cycle is printed with the include lines that make it, and the exit
status is 1. With --graph the arrows are printed too (for the docs).

Usage: tests/check-includes.py [--graph] [ROOT]
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SKIP = {"tests", "deploy", "docs", "build", "build-asan", "build-fuzz", ".git", ".ci"}


def sources(root):
    for top in sorted(os.listdir(root)):
        path = os.path.join(root, top)
        if top in SKIP or top.startswith(".") or not os.path.isdir(path):
            continue
        for dirpath, _, files in os.walk(path):
            for name in sorted(files):
                if name.endswith((".c", ".h")):
                    full = os.path.join(dirpath, name)
                    yield os.path.relpath(full, root)


def top_node(path):
    return path.split("/", 1)[0]


def broker_node(path):
    parts = path.split("/")
    if parts[0] != "broker":
        return None
    return "broker" if len(parts) == 2 else "broker/" + parts[1]


def edges(root, node_of):
    out = {}
    for src in sources(root):
        a = node_of(src)
        if a is None:
            continue
        with open(os.path.join(root, src), encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m or "/" not in m.group(1):
                    continue
                b = node_of(m.group(1))
                if b is None or b == a or not os.path.isdir(os.path.join(root, b)):
                    continue
                out.setdefault((a, b), []).append(f"{src}:{lineno}: #include \"{m.group(1)}\"")
    return out


def cycles(graph_edges):
    """Tarjan's strongly connected components; returns those of size > 1."""
    succ = {}
    for a, b in graph_edges:
        succ.setdefault(a, set()).add(b)
        succ.setdefault(b, set())
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
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
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(succ):
        if v not in index:
            visit(v)
    return found


def main(argv):
    show = "--graph" in argv
    args = [a for a in argv if a != "--graph"]
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    bad = 0
    for title, node_of in (("top-level folders", top_node), ("broker/ sub-folders", broker_node)):
        graph = edges(root, node_of)
        if show:
            print(f"# {title}")
            for (a, b), where in sorted(graph.items()):
                print(f"{a} -> {b}  ({len(where)} includes)")
        for comp in cycles(graph):
            bad = 1
            print(f"include cycle between {title}: {' <-> '.join(comp)}")
            for (a, b), where in sorted(graph.items()):
                if a in comp and b in comp:
                    print(f"  {a} -> {b}:")
                    for w in where:
                        print(f"    {w}")
    if not bad and not show:
        print("check-includes: no include cycle between modules")
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
