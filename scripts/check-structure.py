#!/usr/bin/env python3
"""Checks what CODE_STYLE.md asks of the code's shape and clippy cannot see:

- no import circles between the modules of a crate (`crate::` and `super::` paths outside comments and
  test modules);
- the same for the browser client's modules (`assets/web/*.js`);
- no source file over 400 lines unless a line near its top says why ("Over 400 lines: ..."), or it is in
  TO_SPLIT below (known, and shrinking).
"""
import os
import re
import sys

CRATES = ["src", "signaling-server/src"] + sorted(
    os.path.join("crates", c, "src") for c in os.listdir("crates") if os.path.isdir(os.path.join("crates", c, "src"))
)
MAX_LINES = 400
# Files known to be over the limit, to be split (issue 15). Remove a line when its file is split.
TO_SPLIT = {
}


def strip(src):
    """The code without comments, strings' contents of doc links, and `#[cfg(test)]` modules."""
    src = re.sub(r"#\[cfg\(test\)\]\s*(pub(\([a-z]+\))?\s+)?mod \w+\s*\{.*", "", src, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in src.split("\n"))


def modules(root):
    mods = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".rs"):
                path = os.path.join(dirpath, f)
                parts = os.path.relpath(path, root)[:-3].split(os.sep)
                if parts[-1] in ("mod", "lib", "main"):
                    parts = parts[:-1]
                with open(path, encoding="utf-8") as fh:
                    mods["::".join(parts)] = (path, fh.read())
    return mods


def graph(mods):
    g = {}
    for name, (_, src) in mods.items():
        code = strip(src)
        deps = set()
        for ref in re.findall(r"\bcrate::((?:[a-z_0-9]+::)*[a-z_0-9]+)", code):
            parts = ref.split("::")
            for k in range(len(parts), 0, -1):
                if "::".join(parts[:k]) in mods:
                    deps.add("::".join(parts[:k]))
                    break
        parent = name.rsplit("::", 1)[0] if "::" in name else ""
        for ref in re.findall(r"\bsuper::([a-z_0-9]+)", code):
            target = f"{parent}::{ref}" if parent else ref
            if target in mods:
                deps.add(target)
        # A module and its own ancestors or descendants are one unit here.
        g[name] = {d for d in deps if d != name and not d.startswith(name + "::") and not name.startswith(d + "::")}
    return g


def cycles(g):
    found, state, stack = [], {}, []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(g.get(u, ())):
            if state.get(v) == 1:
                found.append(stack[stack.index(v):] + [v])
            elif v not in state:
                visit(v)
        stack.pop()
        state[u] = 2

    for u in sorted(g):
        if u not in state:
            visit(u)
    return found


def web_modules(root="assets/web"):
    """The browser client's modules and what each imports (`from '/x.js'` and `import('/x.js')`)."""
    mods = {}
    for f in sorted(os.listdir(root)):
        if f.endswith(".js"):
            path = os.path.join(root, f)
            with open(path, encoding="utf-8") as fh:
                src = fh.read()
            deps = set(re.findall(r"""(?:from\s+|import\()['"]/([\w-]+)\.js['"]""", src))
            mods[f[:-3]] = (path, src, deps - {f[:-3]})
    return mods


def main():
    problems = []
    web = web_modules()
    for cycle in cycles({name: deps for name, (_, _, deps) in web.items()}):
        problems.append(f"assets/web: import circle {' -> '.join(cycle)}")
    for path, src, _ in web.values():
        lines = src.count("\n")
        head = "\n".join(src.split("\n")[:15])
        if lines > MAX_LINES and path not in TO_SPLIT and "Over 400 lines:" not in head:
            problems.append(f"{path}: {lines} lines, and no 'Over 400 lines: why' at its top")
    for root in CRATES:
        mods = modules(root)
        for cycle in cycles(graph(mods)):
            problems.append(f"{root}: import circle {' -> '.join(cycle)}")
        for path, src in mods.values():
            lines = src.count("\n")
            head = "\n".join(src.split("\n")[:15])
            if lines > MAX_LINES and path not in TO_SPLIT and "Over 400 lines:" not in head:
                problems.append(f"{path}: {lines} lines, and no 'Over 400 lines: why' at its top")
    for path in sorted(TO_SPLIT):
        if os.path.exists(path) and open(path, encoding="utf-8").read().count("\n") <= MAX_LINES:
            problems.append(f"{path}: no longer over {MAX_LINES} lines; take it off TO_SPLIT")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
