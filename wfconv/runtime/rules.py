"""Airflow trigger rules as a table (docs/semantics.md §6 R1).

Each rule is one function of the counts over a task's *direct* upstreams:
``s`` success, ``k`` skipped, ``f`` failed, ``u`` upstream_failed, ``n`` total
(done = s + k + f + u). It answers what the scheduler does now:

- ``RUN``: the rule is met, the task may start;
- ``SKIP`` / ``UPSTREAM_FAILED``: the task is set to that state early (this is
  how skips and failures cascade);
- ``WAIT``: nothing yet.

Order matters and follows Airflow's ``TriggerRuleDep._evaluate_direct_relatives``:
the early-state check runs first (``flag_upstream_failed``), then the pass
check. So ``all_success`` with one failed upstream and one still running is
``upstream_failed`` at once, and ``one_success`` fires on the first success
without waiting for the others.
"""

from __future__ import annotations

from collections.abc import Callable

RUN = "run"
WAIT = "wait"
SKIP = "skipped"
UPSTREAM_FAILED = "upstream_failed"

Verdict = str
Rule = Callable[[int, int, int, int, int], Verdict]


def _all_success(s: int, k: int, f: int, u: int, n: int) -> Verdict:
    if f or u:
        return UPSTREAM_FAILED
    if k:
        return SKIP
    return RUN if s == n else WAIT


def _all_failed(s: int, k: int, f: int, u: int, n: int) -> Verdict:
    if s or k:
        return SKIP
    return RUN if f + u == n else WAIT


def _all_done(s: int, k: int, f: int, u: int, n: int) -> Verdict:
    return RUN if s + k + f + u == n else WAIT


def _all_done_min_one_success(s: int, k: int, f: int, u: int, n: int) -> Verdict:
    # Airflow 3.1 code (not its docs): any skipped upstream skips the task.
    if k:
        return SKIP
    if s + f + u >= n:
        return RUN if s else UPSTREAM_FAILED
    return WAIT


def _all_skipped(s: int, k: int, f: int, u: int, n: int) -> Verdict:
    if s or f or u:
        return SKIP
    return RUN if k == n else WAIT


def _one_success(s: int, k: int, f: int, u: int, n: int) -> Verdict:
    if s:
        return RUN
    if s + k + f + u == n:
        return SKIP if k == n else UPSTREAM_FAILED
    return WAIT


def _one_failed(s: int, k: int, f: int, u: int, n: int) -> Verdict:
    if f or u:
        return RUN
    return SKIP if s + k == n else WAIT


def _one_done(s: int, k: int, f: int, u: int, n: int) -> Verdict:
    # upstream_failed does not count as "done" for this rule.
    if s or f:
        return RUN
    return SKIP if k + u == n else WAIT


def _none_failed(s: int, k: int, f: int, u: int, n: int) -> Verdict:
    if f or u:
        return UPSTREAM_FAILED
    return RUN if s + k == n else WAIT


def _none_failed_min_one_success(s: int, k: int, f: int, u: int, n: int) -> Verdict:
    if f or u:
        return UPSTREAM_FAILED
    if k == n:
        return SKIP
    return RUN if s + k == n else WAIT


def _none_skipped(s: int, k: int, f: int, u: int, n: int) -> Verdict:
    if k:
        return SKIP
    return RUN if s + f + u == n else WAIT


def _always(s: int, k: int, f: int, u: int, n: int) -> Verdict:
    return RUN


def all_done_setup_success(
    s: int, k: int, f: int, u: int, n: int, setups: list[str] | tuple[str, ...] = ()
) -> Verdict:
    """Airflow's teardown rule: every direct upstream done; then, if some are
    setups (``setups``: their states), all of them skipped -> skipped, none
    succeeded -> upstream_failed. Without setup upstreams it is all_done."""
    if s + k + f + u < n:
        return WAIT
    if setups:
        if all(st == "skipped" for st in setups):
            return SKIP
        if not any(st == "success" for st in setups):
            return UPSTREAM_FAILED
    return RUN


RULES: dict[str, Rule] = {
    "all_success": _all_success,
    "all_failed": _all_failed,
    "all_done": _all_done,
    "all_done_min_one_success": _all_done_min_one_success,
    "all_skipped": _all_skipped,
    "one_success": _one_success,
    "one_failed": _one_failed,
    "one_done": _one_done,
    "none_failed": _none_failed,
    "none_failed_min_one_success": _none_failed_min_one_success,
    "none_skipped": _none_skipped,
    "always": _always,
    "all_done_setup_success": all_done_setup_success,
}


def evaluate(rule: str, s: int, k: int, f: int, u: int, n: int) -> Verdict:
    """Verdict of ``rule`` for the given upstream counts. A task without
    upstreams always runs (Airflow does not evaluate its rule)."""
    if n == 0:
        return RUN
    return RULES[rule](s, k, f, u, n)
