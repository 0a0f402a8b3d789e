"""Branch, ShortCircuit and Oozie decision outcomes.

- Airflow branch: the chosen ids (task or TaskGroup ids) must be direct
  downstreams (else the branch task fails, as ``skip_all_except`` raises);
  every *other* direct downstream is set SKIPPED, except one that is itself
  downstream of a followed task (Airflow's special case for a branch that
  points straight at its join). The skip then cascades through trigger rules.
- ShortCircuit: a false condition skips every descendant directly
  (``ignore_downstream_trigger_rules=True``, the default) or only the direct
  downstreams (False).
- Oozie decision (``cases``/``default``): without a scenario choice the cases
  are evaluated in document order with ``wfconv.ir.expr.evaluate``; the first
  true one wins, else ``default``. A case that cannot be evaluated sends the
  run to ``default`` with a note.
- Without a scenario choice an Airflow branch follows its first downstream in
  IR order, and a ShortCircuit condition is true; both say so in a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wfconv.runtime.graph import CompiledWorkflow

NOTE_BRANCH_DEFAULT = "RT101"
NOTE_DECISION_UNEVALUATED = "RT102"
NOTE_SHORT_CIRCUIT_DEFAULT = "RT103"
NOTE_DECISION_EVALUATED = "RT104"


@dataclass
class BranchOutcome:
    skip: list[int]  # tasks to set SKIPPED directly
    error: str | None = None  # the branch task fails with this reason
    note: tuple[str, str] | None = None  # (code, message)


def _expand(cw: CompiledWorkflow, i: int, chosen: list[str]) -> tuple[set[int], list[str]]:
    """Direct downstreams named by ``chosen`` (task ids or group ids) and the
    ids that name none of them."""
    downs = cw.downs[i]
    followed: set[int] = set()
    bad: list[str] = []
    for cid in chosen:
        j = cw.index.get(cid)
        if j is not None and j in downs:
            followed.add(j)
            continue
        members = [d for d in downs if cw.in_group(d, cid)]
        if members:
            followed.update(members)
        else:
            bad.append(cid)
    return followed, bad


def _evaluate_cases(fields: dict[str, Any], env: Any) -> tuple[str | None, str | None]:
    """(target, problem): the first true case's target (``default`` when none
    holds), or (None, why) when a case cannot be evaluated."""
    from wfconv.ir.expr import ExprError, evaluate_bool, parse

    for case in fields.get("cases") or []:
        try:
            expr = case.get("expr")
            if expr is None:
                expr = parse(case.get("when") or "")
            if evaluate_bool(expr, env):
                return case.get("to"), None
        except ExprError as exc:
            return None, f"case {case.get('when')!r} cannot be evaluated: {exc}"
    return fields.get("default"), None


def decide(
    cw: CompiledWorkflow, i: int, chosen: list[str] | None, env: dict[str, Any]
) -> BranchOutcome:
    task = cw.tasks[i]
    fields = task.action.fields
    tid = task.id
    downs = cw.downs[i]
    if fields.get("short_circuit"):
        note = None
        if chosen is None:
            condition = True
            note = (
                NOTE_SHORT_CIRCUIT_DEFAULT,
                f"short-circuit {tid!r}: no scenario choice; condition taken as true",
            )
        else:
            condition = bool(chosen) and chosen not in (["false"], ["False"])
        if condition:
            return BranchOutcome([], note=note)
        ignore = fields.get("ignore_downstream_trigger_rules", True)
        targets = sorted(cw.descendants(i)) if ignore is not False else list(downs)
        return BranchOutcome(targets, note=note)
    note = None
    if chosen is None:
        if "cases" in fields or "default" in fields:
            target, problem = _evaluate_cases(fields, env)
            if problem is not None:
                target = fields.get("default")
                note = (
                    NOTE_DECISION_UNEVALUATED,
                    f"decision {tid!r}: {problem}; followed default {target!r}",
                )
            else:
                note = (NOTE_DECISION_EVALUATED, f"decision {tid!r}: evaluated to {target!r}")
            chosen = [target] if target is not None else []
        else:
            if not downs:
                return BranchOutcome([])
            chosen = [cw.ids[downs[0]]]
            note = (
                NOTE_BRANCH_DEFAULT,
                f"branch {tid!r}: no scenario choice; followed its first downstream {chosen[0]!r}",
            )
    followed, bad = _expand(cw, i, chosen)
    if bad:
        return BranchOutcome(
            [],
            error=f"branch {tid!r} chose {', '.join(map(repr, bad))}, which is not a direct downstream",
            note=note,
        )
    keep: set[int] = set(followed)
    for j in followed:
        keep |= cw.descendants(j)
    return BranchOutcome([d for d in downs if d not in keep], note=note)
