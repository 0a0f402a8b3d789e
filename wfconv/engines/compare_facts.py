"""Compare what two engines (or an engine and the source IR) hold for one
workflow: structure, the first runs, and rendered payloads.

Facts are plain dicts in the shape ``airflow_child.py`` writes:
``tasks: {id: {upstream, trigger_rule, retries, retry_delay_s, exponential,
max_retry_delay_s, timeout_s, owner, pool}}``, ``runs: [{run_after,
logical_date, data_interval_start, data_interval_end}]`` and ``rendered:
[{task: {field: value}}]``. The source side is translated into the target's
task ids with verify's id map before comparing.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from wfconv.ir.model import Diagnostic, Workflow

# Fields of tasks compared as structure, with the words used in messages.
STRUCTURE_FIELDS = {
    "upstream": "upstream tasks",
    "trigger_rule": "trigger rule",
    "retries": "retries",
    "retry_delay_s": "retry delay (s)",
    "exponential": "exponential backoff",
    "max_retry_delay_s": "max retry delay (s)",
    "timeout_s": "execution timeout (s)",
    "owner": "owner",
    "pool": "pool",
}
# Workflow-level fields compared when both sides hold them (catchup as the
# engine resolved it: its default differs between Airflow 2 and 3).
DAG_FIELDS = {"catchup": "catchup", "timezone": "timezone"}
RETRY_FIELDS = ("retry_delay_s", "exponential", "max_retry_delay_s")
# Fields whose value is a shell command line: compared as argv.
SHELL_FIELDS = {"bash_command", "command", "cmd", "arguments", "ssh_command"}
RUN_FIELDS = ("run_after", "logical_date", "data_interval_start", "data_interval_end")


def ir_facts(w: Workflow) -> dict[str, Any]:
    """The source IR in the engines' fact shape (what an engine would hold if
    the source engine is not here to ask). Owner is absent from the IR."""
    tasks = {}
    for t in w.tasks:
        delay = t.retry_delay_s
        tasks[t.id] = {
            "upstream": sorted(w.upstream(t.id)),
            "trigger_rule": t.trigger_rule,
            "retries": t.retries,
            "retry_delay_s": None if isinstance(delay, list) else delay,
            "exponential": t.retry_backoff == "exponential",
            "max_retry_delay_s": t.max_retry_delay_s,
            "timeout_s": t.timeout_s,
            "pool": t.pool,
        }
    return {"tasks": tasks, "catchup": w.catchup}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) < 1e-6
    return a == b


# What a ledger entry must speak of (its message or its code's summary) to
# explain a rendered value that differs: any loss on the task did, so an
# owner dropped "explained" a changed command line.
ABOUT_PAYLOADS = re.compile(
    r"template|\{\{|command|render|macro|argument|quot|param|logical|interval|\bdates?\b"
    r"|\bds\b|\bts\b|\benv|xcom|path|\bsql\b|shell|run.?id|conf\b",
    re.I,
)


def _explainers(
    ledger: list[Diagnostic], task: str | None, about: re.Pattern | None = None
) -> list[str]:
    from wfconv import codes

    def speaks(d: Diagnostic) -> bool:
        entry = codes.get(d.code)
        return bool(about.search(d.message) or (entry and about.search(entry.summary)))

    return sorted(
        {
            d.code
            for d in ledger
            if d.severity in ("warning", "error")
            and d.task == task
            and (about is None or speaks(d))
        }
    )


def compare_structure(
    ref: dict[str, Any],
    got: dict[str, Any],
    id_map: dict[str, str],
    ledger: list[Diagnostic],
    defaults: dict[str, Any] | None = None,
) -> tuple[list[str], list[str]]:
    """(unexplained differences, explained ones). ``ref`` in source ids,
    ``got`` in target ids. A field the reference does not hold (owner from the
    IR) is not compared; ``defaults`` are values an engine gives an unset field
    (a None retry delay in the IR is Airflow's 300 s)."""
    defaults = defaults or {}
    bad: list[str] = []
    ok: list[str] = []
    inv = {v: k for k, v in id_map.items()}
    rtasks, gtasks = ref.get("tasks", {}), got.get("tasks", {})
    for sid, rt in rtasks.items():
        tid = id_map.get(sid, sid)
        why = _explainers(ledger, sid)
        if tid not in gtasks:
            (ok if why else bad).append(_with(f"task {sid!r} is missing", why))
            continue
        gt = gtasks[tid]
        never_retried = not rt.get("retries") and not gt.get("retries")
        for key, words in STRUCTURE_FIELDS.items():
            if key not in rt or key not in gt:
                continue
            if never_retried and key in RETRY_FIELDS:
                continue  # a delay before a retry that never happens
            a, b = rt[key], gt[key]
            if a is None and key in defaults:
                a = defaults[key]
            if key == "upstream":
                a = sorted(id_map.get(x, x) for x in a)
                b = sorted(b)
            if not _same(a, b):
                shown_b = sorted(inv.get(x, x) for x in b) if key == "upstream" else b
                shown_a = sorted(rt[key]) if key == "upstream" else rt[key]
                msg = f"task {sid!r}: {words} {shown_a!r} became {shown_b!r}"
                (ok if why else bad).append(_with(msg, why))
    why = _explainers(ledger, None)
    for key, words in DAG_FIELDS.items():
        a, b = ref.get(key), got.get(key)
        if a is None or b is None or _same(a, b):
            continue
        (ok if why else bad).append(_with(f"workflow: {words} {a!r} became {b!r}", why))
    known = {id_map.get(s, s) for s in rtasks}
    for tid in sorted(set(gtasks) - known):
        why = _explainers(ledger, None)
        (ok if why else bad).append(_with(f"extra task {tid!r}", why))
    return bad, ok


def _with(msg: str, why: list[str]) -> str:
    return f"{msg} (explained by {', '.join(why)})" if why else msg


def compare_runs(ref: list[dict], got: list[dict], fields=RUN_FIELDS) -> list[str]:
    """Run by run: the first differing field of each run (at most 3 lines)."""
    out = []
    if len(ref) != len(got):
        out.append(f"{len(ref)} run(s) in the source, {len(got)} after conversion")
    for i, (a, b) in enumerate(zip(ref, got, strict=False)):
        for key in fields:
            if a.get(key) != b.get(key):
                out.append(
                    f"run {i + 1}: {key} {a.get(key)} in the source, {b.get(key)} after conversion"
                )
                break
        if len(out) >= 3:
            break
    return out


def argv(value: Any) -> Any:
    """A shell command as its argv (what the shell would pass to the program);
    a value that does not split is kept as it is."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError:
            return value
    return value


def comparable_field(name: str, value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"error"}:
        # a template the engine cannot render here (a Variable, a Connection,
        # an upstream's output): the kind of error differs between releases,
        # a rendered value on the other side is a difference
        return {"error": "not renderable"}
    if name in SHELL_FIELDS:
        return argv(value)
    if isinstance(value, str):
        return value.strip()
    return value


def compare_payloads(
    ref: list[dict], got: list[dict], id_map: dict[str, str], ledger: list[Diagnostic]
) -> tuple[list[str], list[str], int]:
    """(unexplained differences, explained ones, fields compared). Fields are
    matched by name; a field only one side has is compared when the other
    side's task has no such template field at all (both engines' operators)."""
    bad: list[str] = []
    ok: list[str] = []
    n = 0
    for i, (rrun, grun) in enumerate(zip(ref, got, strict=False)):
        for sid, rfields in rrun.items():
            tid = id_map.get(sid, sid)
            gfields = grun.get(tid)
            if gfields is None:
                continue  # a missing task is a structure difference
            why = _explainers(ledger, sid, ABOUT_PAYLOADS)
            for name, rvalue in rfields.items():
                if name not in gfields or {"xcom": True} in (rvalue, gfields[name]):
                    continue  # an upstream's output exists only in a run
                n += 1
                a = comparable_field(name, rvalue)
                b = comparable_field(name, gfields[name])
                if a != b:
                    msg = f"run {i + 1}, task {sid!r}, {name}: {_short(a)} in the source, {_short(b)} after conversion"
                    (ok if why else bad).append(_with(msg, why))
    return bad, ok, n


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 160 else text[:157] + "..."
