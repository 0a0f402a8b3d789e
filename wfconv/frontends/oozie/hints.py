"""Hints wfconv's own Oozie backend leaves in workflow.xml comments.

Why: Oozie node names are narrower than IR task ids (``[a-zA-Z_][-_a-zA-Z0-9]{0,38}``,
``start``/``end`` reserved), and every action needs an ``error`` transition even
when the source workflow simply fails on an unhandled error. The backend writes
what it had to invent into comments at the top of the document:

- ``<!-- wfconv node names -> task ids: {"start_2": "start"} -->``
- ``<!-- wfconv kill node for unhandled errors: "kill" -->``
- ``<!-- wfconv implied edges: [["a", "c"]] -->``: edges a -> c the source had
  beside a longer path a -> b -> c (Oozie transitions keep only the path);
- in coordinator.xml, ``<!-- wfconv coordinator dates: {"start_date": ..., "end_date": ...,
  "model": ...} -->``: the source's own start/end dates and time model, which
  Oozie cannot hold when they are not ticks of the schedule (a coordinator
  starts at its first nominal time), when there is no end (a coordinator
  needs one), or when the source's runs see data intervals;

Reading them back restores the original task ids and turns ``error -> kill``
into "no error transition" (the IR's default: a failure fails the run, as the
kill does), instead of inventing a ``fail`` task the source never had.

The comments are untrusted text: each is parsed as JSON and accepted only when
its shape is right and it names nodes the document really has (a rename must
not collide with another node or task id). A hand-written workflow has no such
comments and is read exactly as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from wfconv.ir.model import TIME_MODELS

IDS_PREFIX = "wfconv node names -> task ids:"
KILL_PREFIX = "wfconv kill node for unhandled errors:"
DATES_PREFIX = "wfconv coordinator dates:"
IMPLIED_PREFIX = "wfconv implied edges:"


@dataclass
class Hints:
    ids: dict[str, str] = field(default_factory=dict)  # node name -> task id
    kill: str | None = None  # kill node that only stands for "the run fails"
    implied: list[tuple[str, str]] = field(default_factory=list)  # node names a -> c


def _comment_payloads(root) -> dict[str, str]:
    """Text after each known prefix, from comments that are children of the root."""
    out: dict[str, str] = {}
    for node in root.iterchildren():
        if not isinstance(node, etree._Comment):
            continue
        text = (node.text or "").strip()
        for prefix in (IDS_PREFIX, KILL_PREFIX, DATES_PREFIX, IMPLIED_PREFIX):
            if text.startswith(prefix) and prefix not in out:
                out[prefix] = text[len(prefix) :].strip()
    return out


def _json(text: str | None):
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def read_hints(root, node_kinds: dict[str, str]) -> Hints:
    """The hints of ``root`` that are consistent with its nodes
    (``node_kinds``: node name -> start|end|kill|decision|fork|join|action)."""
    raw = _comment_payloads(root)
    hints = Hints()
    kill = _json(raw.get(KILL_PREFIX))
    if isinstance(kill, str) and node_kinds.get(kill) == "kill":
        hints.kill = kill
    pairs = _json(raw.get(IMPLIED_PREFIX))
    task_kinds = ("action", "decision")
    if isinstance(pairs, list) and all(
        isinstance(p, list)
        and len(p) == 2
        and all(isinstance(x, str) and node_kinds.get(x) in task_kinds for x in p)
        for p in pairs
    ):
        hints.implied = [(a, c) for a, c in pairs]
    ids = _json(raw.get(IDS_PREFIX))
    if isinstance(ids, dict) and all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in ids.items()
    ):
        task_nodes = {n for n, kind in node_kinds.items() if kind in ("action", "decision", "kill")}
        keys_ok = all(k in task_nodes for k in ids)
        values = list(ids.values())
        # a restored id must not be the name of a node that keeps its name
        kept = task_nodes - set(ids)
        if keys_ok and len(set(values)) == len(values) and not (set(values) & kept):
            hints.ids = dict(ids)
    return hints


def read_dates_hint(root) -> dict[str, Any] | None:
    """The source schedule of a wfconv coordinator: ``{"start_date": str|None,
    "end_date": str|None}`` (ISO text or null), with the source's time model
    ``"model"`` and ``"interval_s"`` when the writer recorded them (older
    outputs did not: their dates are data-interval dates), else None. The
    caller checks that they give the same runs as the coordinator."""
    value = _json(_comment_payloads(root).get(DATES_PREFIX))
    if not isinstance(value, dict) or not {"start_date", "end_date"} <= set(value):
        return None
    if set(value) - {"start_date", "end_date", "model", "interval_s"}:
        return None
    if not all(
        value.get(k) is None or isinstance(value[k], str) for k in ("start_date", "end_date")
    ):
        return None
    if value.get("model") not in (None, *TIME_MODELS):
        return None
    iv = value.get("interval_s")
    if iv is not None and (isinstance(iv, bool) or not isinstance(iv, (int, float)) or iv <= 0):
        return None
    return value


def restore_implied(w, pairs: list[tuple[str, str]]) -> None:
    """Add back an edge a -> c (task ids) only where it changes nothing in the
    IR: c is ``all_success`` and a longer path a -> ... -> c runs through
    ``all_success`` tasks only, so c's upstreams already require a's success
    and carry its failure or skip."""
    from wfconv.ir.model import Edge, implied_by_all_success

    exact = implied_by_all_success(w)
    tasks = set(w.task_ids())
    have = {(e.src, e.dst) for e in w.edges}
    for a, c in pairs:
        if a in tasks and (a, c) not in have:
            if exact(a, c):
                w.edges.append(Edge(a, c, "control"))
                have.add((a, c))
