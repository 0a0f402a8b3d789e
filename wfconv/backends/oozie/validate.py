"""Self-check of a ``workflow.xml``: the 1.0 schema shape (local XSD) and the
graph rules Oozie enforces at submission."""

from __future__ import annotations

from lxml import etree

from wfconv.backends.oozie.context import _q

# ---------------------------------------------------------------------------
# self-check: schema shape and the graph rules Oozie enforces at submission

_XSD_PATH = __file__.rsplit("/", 1)[0] + "/oozie_workflow_1_0.xsd"


def _schema():
    global _SCHEMA
    try:
        return _SCHEMA
    except NameError:
        _SCHEMA = etree.XMLSchema(etree.parse(_XSD_PATH))
        return _SCHEMA


def validate_workflow_xml(text: str | bytes, error_paths_leave_forks: bool = False) -> list[str]:
    """Problems of a workflow.xml: the 1.0 schema shape (local XSD), then what
    Oozie's validator checks: unique names, transitions to known nodes, every
    node reachable from start, no cycle, and properly nested fork/join (each
    fork's paths meet at one join, nothing leaves a fork except to a kill)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed: {exc}"]
    schema = _schema()
    problems = (
        [f"schema: line {e.line}: {e.message}" for e in schema.error_log]
        if not schema.validate(root)
        else []
    )
    nodes: dict[str, etree._Element] = {}
    for el in root:
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname
        if local in ("decision", "fork", "join", "kill", "action", "end"):
            name = el.get("name")
            if name in nodes:
                problems.append(f"duplicate node name {name!r}")
            nodes[name] = el

    def targets(el) -> list[str]:
        local = etree.QName(el).localname
        if local == "action":
            return [
                c.get("to")
                for c in el
                if isinstance(c.tag, str) and etree.QName(c).localname in ("ok", "error")
            ]
        if local == "decision":
            return [
                c.get("to")
                for c in el.iter()
                if isinstance(c.tag, str) and etree.QName(c).localname in ("case", "default")
            ]
        if local == "fork":
            return [c.get("start") for c in el if isinstance(c.tag, str)]
        if local == "join":
            return [el.get("to")]
        return []

    start = root.find(_q("start"))
    first = start.get("to") if start is not None else None
    for name, el in nodes.items():
        for t in targets(el):
            if t not in nodes:
                problems.append(f"{name!r} goes to unknown node {t!r}")
    if first not in nodes:
        problems.append(f"start goes to unknown node {first!r}")
    if any("unknown node" in p for p in problems):
        return problems
    # reachability and cycles (iterative DFS with colours)
    colour: dict[str, int] = {}
    stack: list[tuple[str, int]] = [(first, 0)]
    while stack:
        n, i = stack.pop()
        if i == 0:
            if colour.get(n) == 1:
                problems.append(f"cycle through {n!r}")
                continue
            if colour.get(n) == 2:
                continue
            colour[n] = 1
        succ = [t for t in targets(nodes[n]) if t in nodes]
        if i < len(succ):
            stack.append((n, i + 1))
            stack.append((succ[i], 0))
        else:
            colour[n] = 2
    for name in nodes:
        if name not in colour:
            problems.append(f"node {name!r} is not reachable from start")
    if any(p.startswith("cycle") for p in problems):
        return problems

    memo: dict[str, frozenset[str]] = {}

    def ok_exits(n: str) -> frozenset[str]:
        """Joins (or 'end') a path starting at ``n`` reaches, skipping over
        nested fork/join pairs; kill nodes end a path without an exit."""
        if n in memo:
            return memo[n]
        el = nodes[n]
        local = etree.QName(el).localname
        out: frozenset[str]
        if local == "join":
            out = frozenset({n})
        elif local == "end":
            out = frozenset({"end"})
        elif local == "kill":
            out = frozenset()
        elif local == "action":
            ok = el.find(_q("ok")).get("to")
            out = ok_exits(ok)
            err = el.find(_q("error")).get("to")
            if etree.QName(nodes[err]).localname != "kill" and not error_paths_leave_forks:
                out = out | ok_exits(err)
        elif local == "decision":
            out = frozenset().union(*(ok_exits(t) for t in targets(el)))
        else:  # fork
            joins: set[str] = set()
            for p in targets(el):
                joins |= ok_exits(p)
            if len(joins) != 1 or "end" in joins:
                problems.append(
                    f"fork {n!r}: paths meet at {sorted(joins)} (need exactly one join)"
                )
                out = frozenset()
            else:
                (j,) = joins
                out = ok_exits(nodes[j].get("to"))
        memo[n] = out
        return out

    top = ok_exits(first)
    stray = sorted(x for x in top if x != "end")
    if stray:
        problems.append(f"join(s) {stray} reached outside their fork")
    return problems
