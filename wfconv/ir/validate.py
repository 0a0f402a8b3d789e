"""Graph validation with networkx.

Problems become error diagnostics on the workflow (codes IR0xx) rather than
exceptions: ``wfconv parse`` still shows a cyclic workflow so that it can be
inspected, while commands that need a valid graph call ``require_valid``.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wfconv.errors import InputError
from wfconv.ir.model import ACTION_KINDS, TRIGGER_RULES, Bundle, Diagnostic, Workflow

# Stable codes (documented in README "Diagnostic codes").
DUPLICATE_TASK = "IR001"
UNKNOWN_EDGE_END = "IR002"
UNKNOWN_TRIGGER_RULE = "IR003"
CYCLE = "IR004"
UNKNOWN_GROUP = "IR005"
DUPLICATE_WORKFLOW = "IR006"
UNKNOWN_ACTION = "IR007"
SELF_LOOP = "IR004"

if TYPE_CHECKING:
    import networkx as nx

SHAPE = "IR008"
BAD_CRON = "IR009"
RETRIES_CAPPED = "IR010"
DURATION_CAPPED = "IR011"

# Retries an IR task may have. No engine stores more than 2**31 - 1, and
# beyond a few thousand attempts nothing a run does changes: every consumer
# (the runtime failing a task "always", a writer's per-retry delays, verify's
# per-retry bounds) works per retry, so 200,000,000 retries cost gigabytes.
MAX_RETRIES = 10_000
# Durations (seconds) an IR field may hold: a century. Longer ones, infinity
# (``retry_delay_seconds=1e999``) or integers too large for a float cannot be
# scheduled by any engine, and made writers overflow.
MAX_SECONDS = 100 * 365 * 86400

VALIDATION_CODES = {
    DUPLICATE_TASK,
    UNKNOWN_EDGE_END,
    UNKNOWN_TRIGGER_RULE,
    CYCLE,
    UNKNOWN_GROUP,
    BAD_CRON,
}

# Action fields whose shape every writer relies on (ACTION_FIELDS in
# wfconv.ir.model). A reader that could only keep a run-time expression there
# (``env=os.environ.get("X")``) leaves its source text, a string no writer can
# use as a mapping or a list: such a field is dropped with an IR008 warning
# that keeps the text (values *inside* a mapping stay, as ``{"__expr__": ...}``).
FIELD_SHAPES: dict[tuple[str, str], type] = {
    ("shell", "env"): dict,
    ("shell", "args"): list,
    ("python", "op_args"): list,
    ("python", "op_kwargs"): dict,
    ("subworkflow", "conf"): dict,
    ("sensor", "args"): dict,
    ("container", "cmds"): list,
    ("container", "arguments"): list,
    ("hadoop", "args"): list,
    ("hadoop", "properties"): dict,
}
# The same, by action kind: _fix_shapes looks at a task's own kind only.
_SHAPES_BY_KIND: dict[str, list[tuple[str, type]]] = {}
for (_kind, _name), _shape in FIELD_SHAPES.items():
    _SHAPES_BY_KIND.setdefault(_kind, []).append((_name, _shape))


def build_graph(w: Workflow) -> nx.DiGraph:
    """The task graph: nodes in task order, edges in edge order (known tasks only)."""
    # Imported here: networkx takes ~60 ms to import, and a valid graph
    # (``_acyclic``) never needs it.
    import networkx as nx

    g = nx.DiGraph()
    ids = set()
    for t in w.tasks:
        g.add_node(t.id)
        ids.add(t.id)
    for e in w.edges:
        if e.src in ids and e.dst in ids:
            g.add_edge(e.src, e.dst)
    return g


def _index(w: Workflow) -> dict[str, int]:
    """A number for each distinct task id, in task order."""
    ids = [t.id for t in w.tasks]
    index = dict(zip(ids, range(len(ids)), strict=True))
    if len(index) == len(ids):
        return index  # the usual workflow: no id repeats
    return {tid: i for i, tid in enumerate(dict.fromkeys(ids))}


def _kahn(w: Workflow, index: dict[str, int]) -> tuple[bool, bool]:
    """(acyclic, an edge names an unknown task), in one pass over the edges.

    Kahn's algorithm over the known tasks, by number: almost every workflow
    is acyclic, so networkx is only needed to explain a bad graph (building
    its DiGraph cost a tenth of a parse), and numbers instead of ids keep
    the check linear in practice (ids as dict keys cost 6 us an edge on
    100k tasks, one cache miss after another)."""
    get = index.get
    srcs = list(map(get, [e.src for e in w.edges]))
    dsts = list(map(get, [e.dst for e in w.edges]))
    if None not in srcs and None not in dsts and all(map(int.__lt__, srcs, dsts)):
        # Every edge leads to a later task (the usual order of a file): the
        # task order is a topological order, no walk needed.
        return True, False
    n = len(index)
    indeg = [0] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    unknown = self_loop = False
    for a, b in zip(srcs, dsts, strict=True):
        if a is None or b is None:
            unknown = True
        elif a == b:
            self_loop = True
        else:
            succ[a].append(b)
            indeg[b] += 1
    if self_loop:
        return False, unknown
    ready = [i for i, d in enumerate(indeg) if not d]
    seen = 0
    while ready:
        i = ready.pop()
        seen += 1
        for j in succ[i]:
            indeg[j] -= 1
            if not indeg[j]:
                ready.append(j)
    return seen == n, unknown


def _acyclic(w: Workflow) -> bool:
    return _kahn(w, _index(w))[0]


def find_cycles(w: Workflow) -> list[list[str]]:
    """One cycle per strongly connected component, as a closed path
    (first node repeated at the end), starting at the component's earliest
    task in document order. Deterministic."""
    if _acyclic(w):
        return []
    import networkx as nx

    g = build_graph(w)
    order = {tid: i for i, tid in enumerate(w.task_ids())}
    cycles: list[list[str]] = []
    for comp in nx.strongly_connected_components(g):
        if len(comp) == 1:
            (n,) = comp
            if g.has_edge(n, n):
                cycles.append([n, n])
            continue
        start = min(comp, key=lambda n: order.get(n, 0))
        sub = g.subgraph(comp)
        # Shortest cycle through `start`: BFS back to it.
        best: list[str] | None = None
        for succ in sorted(sub.successors(start), key=lambda n: order.get(n, 0)):
            try:
                p = nx.shortest_path(sub, succ, start)
            except nx.NetworkXNoPath:
                continue
            cand = [start, *p]
            if best is None or len(cand) < len(best):
                best = cand
        if best:
            cycles.append(best)
    cycles.sort(key=lambda c: order.get(c[0], 0))
    return cycles


def _first_line(w: Workflow, task_id: str) -> int | None:
    for t in w.tasks:
        if t.id == task_id and t.source is not None:
            return t.source.line
    return None


def _known_names(tasks, group_ids: set[str]) -> bool:
    """Every task's trigger rule, action kind and group is known: the usual
    workflow, told by three sets instead of a look at each task."""
    try:
        return (
            {t.trigger_rule for t in tasks} <= _TRIGGER_RULES
            and {t.action.kind for t in tasks} <= _ACTION_KINDS
            and {t.group for t in tasks} - {None} <= group_ids
        )
    except TypeError:  # a name that is not a string (not from a reader): look task by task
        return False


_TRIGGER_RULES = frozenset(TRIGGER_RULES)
_ACTION_KINDS = frozenset(ACTION_KINDS)


def validate_workflow(w: Workflow) -> list[Diagnostic]:
    """Return the validation diagnostics of one workflow (does not attach them)."""
    path = w.source.path if w.source else None
    out: list[Diagnostic] = []
    index = _index(w)
    # Counted only when some id repeats (the usual workflow has none).
    counts = Counter(w.task_ids()) if len(index) != len(w.tasks) else None
    seen: set[str] = set()
    group_ids = {g.id for g in w.groups}
    bad_groups = []
    for t in () if counts is None and _known_names(w.tasks, group_ids) else w.tasks:
        if counts is not None and counts[t.id] > 1 and t.id not in seen:
            seen.add(t.id)
            out.append(
                Diagnostic(
                    "error",
                    DUPLICATE_TASK,
                    f"duplicate task id {t.id!r} ({counts[t.id]} tasks share it)",
                    path,
                    t.source.line if t.source else None,
                )
            )
        if t.trigger_rule not in TRIGGER_RULES:
            out.append(
                Diagnostic(
                    "error",
                    UNKNOWN_TRIGGER_RULE,
                    f"task {t.id!r}: unknown trigger rule {t.trigger_rule!r}",
                    path,
                    t.source.line if t.source else None,
                )
            )
        if t.action.kind not in ACTION_KINDS:
            out.append(
                Diagnostic(
                    "error",
                    UNKNOWN_ACTION,
                    f"task {t.id!r}: unknown action kind {t.action.kind!r}",
                    path,
                    t.source.line if t.source else None,
                )
            )
        if t.group is not None and t.group not in group_ids:
            bad_groups.append(t)
    for t in bad_groups:
        out.append(
            Diagnostic(
                "error",
                UNKNOWN_GROUP,
                f"task {t.id!r} names unknown group {t.group!r}",
                path,
                t.source.line if t.source else None,
            )
        )
    acyclic, unknown = _kahn(w, index)
    for e in w.edges if unknown else ():
        if e.src in index and e.dst in index:
            continue
        for end in (e.src, e.dst):
            if end not in index:
                other = e.dst if end == e.src else e.src
                out.append(
                    Diagnostic(
                        "error",
                        UNKNOWN_EDGE_END,
                        f"dependency {e.src!r} -> {e.dst!r} names unknown task {end!r}",
                        path,
                        _first_line(w, other),
                    )
                )

    cron_problem = _bad_cron(w)
    if cron_problem is not None:
        out.append(
            Diagnostic("error", BAD_CRON, cron_problem, path, w.source.line if w.source else None)
        )

    for cyc in () if acyclic else find_cycles(w):
        out.append(
            Diagnostic(
                "error",
                CYCLE,
                "cycle: " + " -> ".join(cyc),
                path,
                _first_line(w, cyc[0]),
            )
        )
    return out


_REPLACED_CODES = VALIDATION_CODES | {UNKNOWN_ACTION}


def _bad_cron(w: Workflow) -> str | None:
    """Why the workflow's cron expression cannot run (``*/0``, a field out of
    range, thousands of digits), or None. Every writer and the runtime step
    through the ticks, so an invalid expression is an invalid workflow."""
    s = w.schedule
    if s.kind != "cron" or not s.cron or s.cron.strip().startswith("@"):
        return None
    from cronsim import CronSim, CronSimError

    try:
        CronSim(s.cron, datetime(2000, 1, 1))
    except (CronSimError, ValueError, OverflowError) as exc:
        return f"cron schedule {s.cron[:60]!r} is not valid: {exc}"
    return None


def _duration(value: Any) -> tuple[Any, bool]:
    """(the value an IR duration field keeps, whether it changed)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value, False
    if isinstance(value, float) and math.isnan(value):
        return None, True
    if value > MAX_SECONDS or value < -MAX_SECONDS:
        return (float(MAX_SECONDS) if value > 0 else 0.0), True
    return value, False


def _fix_durations(w: Workflow, path: str | None) -> list[Diagnostic]:
    """Durations beyond a century (or not numbers at all: NaN) become a
    century, with IR011; an infinite timeout is no timeout."""
    out: list[Diagnostic] = []

    def fixed(owner: Any, name: str, what: str, line: int | None) -> None:
        value = getattr(owner, name)
        if isinstance(value, list):
            pairs = [_duration(v) for v in value]
            new: Any = [v for v, _ in pairs]
            changed = any(c for _, c in pairs)
        else:
            new, changed = _duration(value)
            if changed and name == "timeout_s" and isinstance(value, float) and value > 0:
                new = None  # an infinite timeout: none
        if changed:
            setattr(owner, name, new)
            out.append(
                Diagnostic(
                    "warning",
                    DURATION_CAPPED,
                    f"{what} {_short_number(value)} s is not a duration any engine schedules: "
                    f"kept as {_short_number(new)}",
                    path,
                    line,
                )
            )

    line = w.source.line if w.source else None
    fixed(w, "timeout_s", "workflow timeout", line)
    fixed(w.schedule, "seconds", "schedule interval", line)
    for t in w.tasks:
        # The usual task (no duration, or a plain number within a century)
        # needs no look at each field: decided here in one expression.
        a, b, c = t.retry_delay_s, t.max_retry_delay_s, t.timeout_s
        if (
            (a is None or (type(a) in _PLAIN_NUMBER and -MAX_SECONDS <= a <= MAX_SECONDS))
            and (b is None or (type(b) in _PLAIN_NUMBER and -MAX_SECONDS <= b <= MAX_SECONDS))
            and (c is None or (type(c) in _PLAIN_NUMBER and -MAX_SECONDS <= c <= MAX_SECONDS))
        ):
            continue  # (a NaN fails the comparisons: it is looked at below)
        tline = t.source.line if t.source else None
        for name in ("retry_delay_s", "max_retry_delay_s", "timeout_s"):
            fixed(t, name, f"task {t.id!r}: {name}", tline)
    return out


_PLAIN_NUMBER = (int, float)


def _short_number(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 30 else f"{text[:12]}...({len(text)} digits)"


def _fix_shapes(w: Workflow) -> list[Diagnostic]:
    """Drop action fields of the wrong shape (see FIELD_SHAPES), cap retries
    at MAX_RETRIES and durations at MAX_SECONDS, saying so."""
    out: list[Diagnostic] = []
    path = w.source.path if w.source else None
    out.extend(_fix_durations(w, path))
    for t in w.tasks:
        if isinstance(t.retries, int) and t.retries > MAX_RETRIES:
            out.append(
                Diagnostic(
                    "warning",
                    RETRIES_CAPPED,
                    f"task {t.id!r}: {t.retries:,} retries kept as {MAX_RETRIES:,} "
                    "(more attempts change nothing a run does, and cost memory per retry)",
                    path,
                    t.source.line if t.source else None,
                )
            )
            t.retries = MAX_RETRIES
        fields = t.action.fields
        for name, shape in _SHAPES_BY_KIND.get(t.action.kind, ()):
            value = fields.get(name)
            if value is None or isinstance(value, shape):
                continue
            del fields[name]
            what = "a mapping" if shape is dict else "a list"
            text = value if isinstance(value, str) else repr(value)
            out.append(
                Diagnostic(
                    "warning",
                    SHAPE,
                    f"task {t.id!r}: {name} is `{text[:200]}`, known only at run time, "
                    f"not {what}: dropped",
                    path,
                    t.source.line if t.source else None,
                )
            )
    return out


def finalize(w: Workflow) -> Workflow:
    """Attach validation diagnostics (idempotent: earlier IR0xx ones are
    replaced) and drop action fields no writer can use (IR008)."""
    w.diagnostics = [d for d in w.diagnostics if d.code not in _REPLACED_CODES]
    w.diagnostics.extend(_fix_shapes(w))
    w.diagnostics.extend(validate_workflow(w))
    return w


def validate_bundle(b: Bundle) -> Bundle:
    for w in b.workflows:
        finalize(w)
    return b


def graph_errors(w: Workflow) -> list[Diagnostic]:
    return [d for d in validate_workflow(w) if d.severity == "error"]


def require_valid(b: Bundle, read: bool = False) -> None:
    """Refuse a bundle whose graphs are not valid (for convert, run, verify).

    ``read=True``: the bundle is as the frontends returned it, and each
    workflow carries the diagnostics ``finalize`` attached as it was read:
    they are looked up instead of validating every graph a second time."""
    for w in b.workflows:
        if read:
            errs = [d for d in w.diagnostics if d.code in _REPLACED_CODES and d.severity == "error"]
        else:
            errs = graph_errors(w)
        if errs:
            d = errs[0]
            raise InputError(d.path, d.line, f"workflow {w.id!r}: {d.message}")
