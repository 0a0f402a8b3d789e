"""Inline called sub-workflows as task groups (IR -> IR).

``wfconv convert --subworkflow taskgroup`` asks a backend to replace each
``subworkflow`` task whose child is in the same bundle by the child's tasks,
grouped under the calling task's id: child task ``load`` of call ``ingest``
becomes ``ingest.load`` in group ``ingest`` (Airflow's TaskGroup spelling).
Edges into the call go to the child's first tasks; the call's trigger rule
moves to them. A closing empty task ``<call>.end`` (rule ``none_failed``: the
child run's outcome by Airflow's leaf rule) follows the child's last tasks,
and edges out of the call leave from it.

What is lost is reported with the caller's code (each backend passes its own):
the child's own run (state, retries of the call, its schedule) disappears,
which docs/semantics.md §5 lists as "a sub-run's lifecycle is lost".
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from wfconv.ir.model import Action, Diagnostic, Edge, Group, Task, Workflow

MAX_DEPTH = 8


def inline_subworkflows(
    w: Workflow,
    workflows: dict[str, Workflow],
    report: Callable[[Task, str], Diagnostic],
    depth: int = 0,
) -> tuple[Workflow, list[Diagnostic]]:
    """A copy of ``w`` with known sub-workflow calls inlined, and the losses.

    ``report(task, message)`` builds the ledger entry (the backend's code).
    Calls to workflows outside the bundle, or nested deeper than MAX_DEPTH
    (a recursive call), stay as they are."""
    out = copy.deepcopy(w)
    losses: list[Diagnostic] = []
    calls = [
        t
        for t in out.tasks
        if t.action.kind == "subworkflow"
        and t.action.get("workflow") in workflows
        and t.action.get("workflow") != w.id
    ]
    if not calls or depth >= MAX_DEPTH:
        return out, losses
    for call in calls:
        child, more = inline_subworkflows(
            workflows[call.action.get("workflow")], workflows, report, depth + 1
        )
        if not child.tasks:
            continue  # nothing to inline: keep the call
        losses += more
        _inline_one(out, call, child)
        lost = ["the child's own run state"]
        if call.retries:
            lost.append(f"{call.retries} retries of the call")
        if call.action.get("conf"):
            lost.append("the conf passed to it")
        losses.append(
            report(
                call, f"sub-workflow {child.id!r} inlined as a task group; lost: {', '.join(lost)}"
            )
        )
    return out, losses


def _inline_one(w: Workflow, call: Task, child: Workflow) -> None:
    prefix = call.id + "."
    ids = {t.id: prefix + t.id for t in child.tasks}
    w.groups.append(Group(call.id, parent=call.group, label=call.id, source=call.source))
    for g in child.groups:
        w.groups.append(
            Group(
                prefix + g.id,
                parent=prefix + g.parent if g.parent else call.id,
                label=g.label,
                tooltip=g.tooltip,
                source=g.source,
            )
        )
    roots = [t.id for t in child.tasks if not child.upstream(t.id)]
    leaves = [t.id for t in child.tasks if not child.downstream(t.id)]
    # The call succeeded when the child run would have: no leaf failed (a
    # skipped leaf, e.g. an unused error handler, is fine). That is Airflow's
    # none_failed rule on a closing empty task, which the call's downstream
    # tasks then wait for.
    end = "end"
    while end in ids:
        end += "_"
    end_id = prefix + end
    new_tasks = []
    for t in child.tasks:
        nt = copy.deepcopy(t)
        nt.id = ids[t.id]
        nt.group = prefix + t.group if t.group else call.id
        if t.id in roots and call.trigger_rule != "all_success" and t.trigger_rule == "all_success":
            nt.trigger_rule = call.trigger_rule
        new_tasks.append(nt)
    new_tasks.append(
        Task(end_id, Action("empty"), trigger_rule="none_failed", group=call.id, source=call.source)
    )
    at = w.tasks.index(call)
    w.tasks[at : at + 1] = new_tasks
    edges: list[Edge] = []
    for e in w.edges:
        if e.dst == call.id:
            edges += [Edge(e.src, ids[r], e.kind) for r in roots]
        elif e.src == call.id:
            edges.append(Edge(end_id, e.dst, e.kind))
        else:
            edges.append(e)
    edges += [Edge(ids[e.src], ids[e.dst], e.kind) for e in child.edges]
    edges += [Edge(ids[leaf], end_id) for leaf in leaves]
    w.edges = []
    for e in edges:
        w.add_edge(e.src, e.dst, e.kind)
