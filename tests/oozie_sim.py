"""Two tiny reference interpreters used by tests/test_oozie_frontend.py.

- ``run_oozie``: Oozie's token semantics read straight from the workflow XML
  (independent of the frontend): actions take ``ok``/``error``, decisions
  take the scenario's choice, forks spawn tokens, a join fires when every
  token of its fork frame arrived, ``kill`` -> KILLED, ``end`` -> SUCCEEDED.
- ``run_airflow``: Airflow's trigger rules (docs/semantics.md R1) with branch
  skipping over the IR the frontend produced.

A scenario is (set of failing action names, {decision name: case index, or
the number of cases for the default}).
"""

from __future__ import annotations

from collections import Counter

from lxml import etree


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def oozie_nodes(path: str, text: str | None = None) -> dict[str, dict]:
    root = etree.fromstring(text.encode()) if text is not None else etree.parse(path).getroot()
    nodes: dict[str, dict] = {}
    for el in root:
        tag = _local(el)
        if tag == "start":
            nodes["::start"] = {"kind": "start", "to": el.get("to")}
        elif tag in ("end", "kill"):
            nodes[el.get("name")] = {"kind": tag}
        elif tag == "fork":
            nodes[el.get("name")] = {
                "kind": "fork",
                "paths": [p.get("start") for p in el if _local(p) == "path"],
            }
        elif tag == "join":
            nodes[el.get("name")] = {"kind": "join", "to": el.get("to")}
        elif tag == "decision":
            sw = [c for c in el if _local(c) == "switch"][0]
            cases = [c.get("to") for c in sw if _local(c) == "case"]
            default = [c.get("to") for c in sw if _local(c) == "default"][0]
            nodes[el.get("name")] = {"kind": "decision", "targets": cases + [default]}
        elif tag == "action":
            ok = [c.get("to") for c in el if _local(c) == "ok"][0]
            err = [c.get("to") for c in el if _local(c) == "error"][0]
            nodes[el.get("name")] = {"kind": "action", "ok": ok, "error": err}
    return nodes


def run_oozie(
    nodes: dict[str, dict], failing: set[str], choices: dict[str, int]
) -> tuple[str, list[str]]:
    """(SUCCEEDED|KILLED, executed actions in order)."""
    executed: list[str] = []
    tokens: list[tuple[str, tuple]] = [(nodes["::start"]["to"], ())]
    waiting: Counter = Counter()
    forks: dict[tuple, int] = {}
    ended = False
    steps = 0
    while tokens:
        steps += 1
        assert steps < 10_000, "runaway workflow"
        name, frames = tokens.pop(0)
        n = nodes[name]
        kind = n["kind"]
        if kind == "kill":
            return "KILLED", executed
        if kind == "end":
            ended = True
            continue
        if kind == "action":
            executed.append(name)
            tokens.append((n["error"] if name in failing else n["ok"], frames))
        elif kind == "decision":
            tokens.append((n["targets"][choices.get(name, len(n["targets"]) - 1)], frames))
        elif kind == "fork":
            frame = (name, steps)
            forks[frame] = len(n["paths"])
            for p in n["paths"]:
                tokens.append((p, (*frames, frame)))
        elif kind == "join":
            frame = frames[-1]
            waiting[(name, frame)] += 1
            if waiting[(name, frame)] == forks[frame]:
                tokens.append((n["to"], frames[:-1]))
    return ("SUCCEEDED" if ended else "STUCK"), executed


# --- Airflow ------------------------------------------------------------------


def _rule(rule: str, states: list[str]) -> str | None:
    """'run', 'skipped', 'upstream_failed' or None (wait), per docs/semantics.md R1."""
    c = Counter(states)
    s, k, f, u = c["success"], c["skipped"], c["failed"], c["upstream_failed"]
    n = len(states)
    done = s + k + f + u == n
    if n == 0:
        return "run"
    if rule == "all_success":
        if f + u:
            return "upstream_failed"
        if k:
            return "skipped"
        return "run" if s == n else None
    if rule == "one_failed":
        if f + u:
            return "run"
        return "skipped" if done else None
    if rule == "one_success":
        if s:
            return "run"
        if done:
            return "skipped" if k == n else "upstream_failed"
        return None
    if rule == "one_done":
        if s + f:
            return "run"
        return "skipped" if done else None
    if rule == "none_failed_min_one_success":
        if f + u:
            return "upstream_failed"
        if done:
            return "skipped" if k == n else "run"
        return None
    if rule == "none_failed":
        if f + u:
            return "upstream_failed"
        return "run" if done else None
    if rule == "none_skipped":
        if k:
            return "skipped"
        return "run" if done else None
    if rule == "all_done":
        return "run" if done else None
    if rule == "all_skipped":
        if s + f + u:
            return "skipped"
        return "run" if k == n else None
    raise AssertionError(f"rule {rule} not simulated")


def run_airflow(workflow, failing: set[str], choices: dict[str, int]) -> tuple[str, list[str]]:
    """(success|failed, executed Oozie actions in order) for one IR workflow."""
    tasks = {t.id: t for t in workflow.tasks}
    ups: dict[str, list[str]] = {t: [] for t in tasks}
    downs: dict[str, list[str]] = {t: [] for t in tasks}
    for e in workflow.edges:
        ups[e.dst].append(e.src)
        downs[e.src].append(e.dst)
    state: dict[str, str] = {}
    executed: list[str] = []
    changed = True
    while changed:
        changed = False
        for tid, t in tasks.items():
            if tid in state:
                continue
            verdict = _rule(t.trigger_rule, [state.get(u, "none") for u in ups[tid]])
            if verdict is None:
                continue
            changed = True
            if verdict != "run":
                state[tid] = verdict
                continue
            kind = t.action.kind
            node = t.extra.get("oozie", {}).get("node")
            if node == "action":
                executed.append(tid)
            if kind == "fail" or tid in failing:
                state[tid] = "failed"
            elif kind == "branch":
                state[tid] = "success"
                cases = t.action.fields["cases"]
                i = choices.get(tid, len(cases))
                follow = cases[i]["to"] if i < len(cases) else t.action.fields["default"]
                for d in downs[tid]:
                    if d != follow and d not in state:
                        state[d] = "skipped"
            else:
                state[tid] = "success"
    leaves = [t for t in tasks if not downs[t]]
    failed = any(state.get(t) in ("failed", "upstream_failed") for t in leaves)
    assert all(t in state for t in tasks), (
        f"tasks never decided: {[t for t in tasks if t not in state]}"
    )
    return ("failed" if failed else "success"), executed


# --- random Oozie workflows -----------------------------------------------------


class WorkflowGen:
    """Random *valid* Oozie workflows (hypothesis ``draw``): nested sequences,
    forks (2-3 paths, nested), decisions (cases to blocks, to the
    continuation, to ``end`` or ``kill``), and every error-transition shape
    (kill, end, a handler that rejoins, kills or ends). Nothing in a fork
    path goes to ``end`` (Oozie refuses that)."""

    def __init__(self, draw, st):
        self.draw = draw
        self.st = st
        self.n = 0
        self.xml: list[str] = []

    def name(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def pick(self, options):
        return self.draw(self.st.sampled_from(options))

    def action(self, name: str, ok: str, error: str) -> None:
        self.xml.append(
            f'<action name="{name}"><shell xmlns="uri:oozie:shell-action:0.3"><exec>{name}.sh</exec></shell>'
            f'<ok to="{ok}"/><error to="{error}"/></action>'
        )

    def error_target(self, cont: str, in_fork: bool) -> str:
        shapes = ["kill", "kill", "rejoin", "handler-kill"] + (
            [] if in_fork else ["end", "handler-end"]
        )
        shape = self.pick(shapes)
        if shape in ("kill", "end"):
            return shape
        h = self.name("h")
        self.action(
            h, {"rejoin": cont, "handler-kill": "kill", "handler-end": "end"}[shape], "kill"
        )
        return h

    def block(self, cont: str, depth: int, in_fork: bool) -> str:
        kinds = ["action", "action"] + (
            ["seq", "fork", "decision", "inverted"] if depth < 3 else []
        )
        kind = self.pick(kinds)
        if kind == "inverted":
            # a check whose success kills the job and whose failure carries on
            a = self.name("a")
            self.action(a, "kill", cont)
            return a
        if kind == "action":
            a = self.name("a")
            self.action(a, cont, self.error_target(cont, in_fork))
            return a
        if kind == "seq":
            return self.block(self.block(cont, depth + 1, in_fork), depth + 1, in_fork)
        if kind == "fork":
            j = self.name("j")
            self.xml.append(f'<join name="{j}" to="{cont}"/>')
            k = self.draw(self.st.integers(2, 3))
            paths = [self.block(j, depth + 1, True) for _ in range(k)]
            f = self.name("f")
            self.xml.append(
                f'<fork name="{f}">' + "".join(f'<path start="{p}"/>' for p in paths) + "</fork>"
            )
            return f
        d = self.name("d")
        k = self.draw(self.st.integers(1, 2))
        targets = [self.block(cont, depth + 1, in_fork) for _ in range(k)]
        extra = self.pick(["none", "cont", "kill"] + ([] if in_fork else ["end"]))
        if extra != "none":
            targets.append(cont if extra == "cont" else extra)
        default = self.pick([cont, targets[0]])
        cases = "".join(f'<case to="{t}">${{x eq {i}}}</case>' for i, t in enumerate(targets))
        self.xml.append(
            f'<decision name="{d}"><switch>{cases}<default to="{default}"/></switch></decision>'
        )
        return d

    def workflow(self) -> str:
        first = self.block("end", 0, False)
        body = "".join(self.xml)
        return (
            '<workflow-app xmlns="uri:oozie:workflow:0.5" name="gen">'
            f'<start to="{first}"/>{body}<kill name="kill"><message>k</message></kill><end name="end"/>'
            "</workflow-app>"
        )
