"""``wfconv compare``: for teams choosing an orchestrator.

For each target: is the conversion lossless, what does the ledger say, what
do verify's structural and behavioural checks conclude, how many lines of code
come out, and which features the source uses does each target support
natively, approximate, or lack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html import escape
from typing import Any

from wfconv.ir.model import Bundle, Workflow

NATIVE, APPROX, LACKS = "native", "approximated", "lacks"

# Feature -> (test on a workflow, one-line description).
FEATURES: dict[str, tuple[Any, str]] = {
    "trigger rules": (
        lambda w: any(t.trigger_rule != "all_success" for t in w.tasks),
        "tasks that run on other conditions than 'all upstreams succeeded'",
    ),
    "branches": (
        lambda w: any(t.action.kind == "branch" for t in w.tasks),
        "choosing a path at run time",
    ),
    "sensors": (
        lambda w: any(t.action.kind == "sensor" for t in w.tasks),
        "waiting for a condition",
    ),
    "error paths": (
        lambda w: any(e.kind == "error" for e in w.edges),
        "handlers that run when a task fails",
    ),
    "schedule": (lambda w: w.schedule.kind in ("cron", "interval"), "cron or interval schedule"),
    "catchup": (lambda w: bool(w.catchup), "creating the runs missed since start_date"),
    "dynamic mapping": (lambda w: any(t.mapped for t in w.tasks), "one task mapped over a list"),
    "retries": (lambda w: any(t.retries for t in w.tasks), "retrying failed tasks"),
    "per-attempt retry delays": (
        lambda w: any(
            isinstance(t.retry_delay_s, list) or t.retry_backoff == "exponential" for t in w.tasks
        ),
        "exponential backoff or a list of delays",
    ),
    "timeouts": (lambda w: any(t.timeout_s for t in w.tasks), "failing a task that runs too long"),
    "task groups": (lambda w: bool(w.groups), "visual/logical grouping of tasks"),
    "params": (lambda w: bool(w.params), "run parameters"),
}

# How each target holds each feature (docs/semantics.md §5, and the backends' ledgers).
SUPPORT: dict[str, dict[str, str]] = {
    "airflow": dict.fromkeys(FEATURES, NATIVE),
    "prefect": {
        "trigger rules": APPROX,  # allow_failure + explicit state checks
        "branches": APPROX,  # Python if; no SKIPPED state is recorded
        "sensors": APPROX,  # a polling task
        "error paths": APPROX,
        "schedule": NATIVE,  # serve(cron=/interval=)
        "catchup": LACKS,  # only future runs are created
        "dynamic mapping": APPROX,  # .map zips, Airflow's expand is a product
        "retries": NATIVE,
        "per-attempt retry delays": NATIVE,
        "timeouts": NATIVE,
        "task groups": APPROX,
        "params": NATIVE,
    },
    "luigi": {
        "trigger rules": LACKS,  # requires() = all_success only
        "branches": LACKS,
        "sensors": APPROX,  # polls inside run()
        "error paths": APPROX,  # FAILURE event handlers
        "schedule": APPROX,  # a cron line / RangeDaily entry point
        "catchup": APPROX,  # RangeDaily, at most 50 intervals a call
        "dynamic mapping": APPROX,
        "retries": APPROX,  # counts total failures, needs keep_alive
        "per-attempt retry delays": LACKS,
        "timeouts": APPROX,  # worker_timeout
        "task groups": LACKS,
        "params": NATIVE,
    },
    "oozie": {
        "trigger rules": APPROX,  # joins only; other rules need synthesized nodes
        "branches": NATIVE,  # decision
        "sensors": APPROX,  # coordinator datasets
        "error paths": NATIVE,  # error transitions
        "schedule": NATIVE,  # coordinator frequency
        "catchup": NATIVE,  # past nominal times materialize
        "dynamic mapping": LACKS,
        "retries": APPROX,  # whitelisted error codes only
        "per-attempt retry delays": LACKS,
        "timeouts": LACKS,  # no action run-time timeout
        "task groups": LACKS,
        "params": NATIVE,
    },
}


def features_used(w: Workflow) -> list[str]:
    return [name for name, (test, _) in FEATURES.items() if test(w)]


@dataclass
class TargetResult:
    target: str
    lossless: bool
    ledger: list[Any]
    structure_ok: bool
    behaviour_ok: bool
    equivalent_scenarios: int
    scenarios: int
    lines_of_code: int
    support: dict[str, str]
    summary: str
    differing_tasks: list[str] = field(default_factory=list)
    # verify's description of each scenario whose outcome differs
    differing_scenarios: list[str] = field(default_factory=list)
    back: Workflow | None = None
    error: str | None = None
    # per check class, the worst status (complete, loads, ... behaviour)
    checks: dict[str, str] = field(default_factory=dict)
    equivalent: bool = False
    unverified: list[str] = field(default_factory=list)


@dataclass
class WorkflowComparison:
    workflow: Workflow
    features: list[str]
    targets: list[TargetResult]


def _loc(files: dict[str, str]) -> int:
    return sum(1 for text in files.values() for line in text.splitlines() if line.strip())


def compare_workflow(w: Workflow, targets: list[str], engine: bool = False) -> WorkflowComparison:
    return compare_workflows([w], targets, engine=engine)[0]


def compare_workflows(
    workflows: list[Workflow], targets: list[str], engine: bool = False
) -> list[WorkflowComparison]:
    """Every workflow against every target; with ``engine`` each target's
    conversions go through the engine harness as one batch."""
    from wfconv.verify import verify_workflow, verify_workflows
    from wfconv.verify.behaviour import source_runs

    used = {id(w): features_used(w) for w in workflows}
    # The source's runs are the same for every target: run them once.
    runs = {w.id: source_runs(w) for w in workflows}
    per_target: dict[str, list[TargetResult]] = {}
    for target in targets:
        try:
            reports = verify_workflows(workflows, target, engine=engine, source_runs=runs)
            per_target[target] = [
                target_result(w, target, r, used[id(w)])
                for w, r in zip(workflows, reports, strict=True)
            ]
            continue
        except Exception:  # one workflow failing must not hide the others: one by one
            pass
        results = []
        for w in workflows:
            try:
                report = verify_workflow(w, target, engine=engine, source_runs=runs[w.id])
                results.append(target_result(w, target, report, used[id(w)]))
            except Exception as exc:  # one target failing must not hide the others
                results.append(failed_target(target, exc))
        per_target[target] = results
    return [
        WorkflowComparison(w, used[id(w)], [per_target[t][i] for t in targets])
        for i, w in enumerate(workflows)
    ]


def failed_target(target: str, exc: Exception) -> TargetResult:
    return TargetResult(
        target, False, [], False, False, 0, 0, 0, {}, "", error=f"{type(exc).__name__}: {exc}"
    )


def target_result(w: Workflow, target: str, report, used: list[str] | None = None) -> TargetResult:
    """What compare says about one target, from verify's report on it."""
    from wfconv.engines.harness import summarize

    used = features_used(w) if used is None else used
    # highlighted in the target's picture, so in the target's ids
    differing = sorted(
        report.id_map.get(t, t)
        for t in {v.task for v in report.behaviour if not v.equivalent and v.task}
        | {d.task for d in report.structure if d.task}
    )
    return TargetResult(
        target=target,
        lossless=report.lossless,
        ledger=report.ledger,
        structure_ok=report.structure_ok,
        behaviour_ok=report.behaviour_ok,
        equivalent_scenarios=sum(v.equivalent for v in report.behaviour),
        scenarios=len(report.behaviour),
        lines_of_code=_loc(report.files),
        support={f: SUPPORT[target][f] for f in used},
        summary=report.summary(),
        differing_tasks=differing,
        differing_scenarios=[v.describe() for v in report.behaviour if not v.equivalent],
        back=report.back,
        checks=summarize(report.checks),
        equivalent=report.equivalent,
        unverified=report.unverified if report.engines_consulted else [],
    )


def compare_bundle(
    bundle: Bundle, targets: list[str], engine: bool = False
) -> list[WorkflowComparison]:
    return compare_workflows(bundle.workflows, targets, engine=engine)


# ---------------------------------------------------------------------------
# rendering


def verdict(r: TargetResult) -> str:
    if r.error:
        return "error"
    failed = [k for k, status in r.checks.items() if status == "fail"]
    if failed:
        return "fails " + ", ".join(failed)
    if r.lossless and r.structure_ok and r.behaviour_ok:
        return "lossless"
    if r.behaviour_ok:
        return "equivalent, with approximations"
    return "behaviour differs"


def render_table(result: list[WorkflowComparison], stream=None) -> str:
    from wfconv.cli.term import table_text

    lines = []
    for wc in result:
        lines.append(
            f"== {wc.workflow.id}  ({len(wc.workflow.tasks)} tasks; features: {', '.join(wc.features) or 'none'})\n"
        )
        rows = []
        for r in wc.targets:
            losses = sum(d.severity in ("warning", "error") for d in r.ledger)
            sc = f"{r.equivalent_scenarios}/{r.scenarios}"
            rows.append((r.target, verdict(r), sc, losses, r.lines_of_code, r.error or ""))
        headers = ("target", "verdict", "scenarios", "losses", "LOC", "error")
        lines.append(table_text(headers, rows, stream=stream, indent=2, right=(2, 3, 4)))
        for r in wc.targets:
            if r.checks:
                shown = ", ".join(f"{k} {v}" for k, v in r.checks.items())
                lines.append(f"  {r.target} checks: {shown}\n")
        if wc.features:
            lines.append("  feature support:\n")
            ok = [r for r in wc.targets if not r.error]
            rows = [[f, *(r.support.get(f, "-") for r in ok)] for f in wc.features]
            lines.append(
                table_text(["feature", *(r.target for r in ok)], rows, stream=stream, indent=4)
            )
        lines.append("\n")
    return "".join(lines)


def target_dict(r: TargetResult) -> dict[str, Any]:
    from wfconv.ir.jsonio import _diag

    return {
        "target": r.target,
        "verdict": verdict(r),
        "lossless": r.lossless,
        "structure_ok": r.structure_ok,
        "behaviour_ok": r.behaviour_ok,
        "equivalent_scenarios": r.equivalent_scenarios,
        "scenarios": r.scenarios,
        "lines_of_code": r.lines_of_code,
        "support": r.support,
        "ledger": [_diag(d) for d in r.ledger],
        "differing_tasks": r.differing_tasks,
        "differing_scenarios": r.differing_scenarios,
        "checks": r.checks,
        "unverified": r.unverified,
        "error": r.error,
    }


def render_json(result: list[WorkflowComparison]) -> str:
    doc = []
    for wc in result:
        doc.append(
            {
                "workflow": wc.workflow.id,
                "features": wc.features,
                "targets": [target_dict(r) for r in wc.targets],
            }
        )
    return json.dumps({"comparisons": doc}, indent=2, ensure_ascii=False) + "\n"


_CSS = """
body{font-family:sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 16px}
td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:left}
th{background:#f4f4f4}
.native{background:#e5f7e5}.approximated{background:#fff4d6}.lacks{background:#ffe0e0}
.graphs{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.graph{border:1px solid #ddd;padding:6px;overflow:auto;max-width:100%}
.bad{color:#b00;font-weight:bold}.ok{color:#080;font-weight:bold}.approx{color:#a60;font-weight:bold}
"""


def render_html(result: list[WorkflowComparison]) -> str:
    from wfconv.backends import svg

    drawings: list = []  # (workflow, style), drawn together by one Graphviz run

    def picture(w: Workflow, highlight: set[str], title: str) -> str:
        drawings.append((w, svg.style(title, highlight)))
        return f"<!--picture {len(drawings) - 1}-->"

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>wfconv compare</title>',
        f"<style>{_CSS}</style></head><body>",
        "<h1>wfconv compare</h1>",
        "<p>Tasks outlined in red differ from the source after conversion "
        "(structure or behaviour in some scenario).</p>",
    ]
    for wc in result:
        w = wc.workflow
        parts.append(f"<h2>{escape(w.id)}</h2>")
        parts.append(
            f"<p>{len(w.tasks)} tasks; features used: {escape(', '.join(wc.features) or 'none')}</p>"
        )
        parts.append(
            "<table><tr><th>target</th><th>verdict</th><th>scenarios equivalent</th><th>losses</th><th>lines of code</th></tr>"
        )
        for r in wc.targets:
            losses = sum(d.severity in ("warning", "error") for d in r.ledger)
            cls = {"lossless": "ok", "equivalent, with approximations": "approx"}.get(
                verdict(r), "bad"
            )
            parts.append(
                f"<tr><td>{escape(r.target)}</td><td class='{cls}'>{escape(verdict(r))}</td>"
                f"<td>{r.equivalent_scenarios}/{r.scenarios}</td><td>{losses}</td><td>{r.lines_of_code}</td></tr>"
            )
        parts.append("</table>")
        if wc.features:
            parts.append(
                "<table><tr><th>feature</th>"
                + "".join(f"<th>{escape(r.target)}</th>" for r in wc.targets)
                + "</tr>"
            )
            for f in wc.features:
                cells = "".join(
                    f"<td class='{escape(r.support.get(f, ''))}'>{escape(r.support.get(f, '-'))}</td>"
                    for r in wc.targets
                )
                parts.append(f"<tr><td>{escape(f)}</td>{cells}</tr>")
            parts.append("</table>")
        parts.append("<div class='graphs'>")
        parts.append(f"<div class='graph'>{picture(w, set(), 'source: ' + w.id)}</div>")
        for r in wc.targets:
            if r.back is not None:
                title = r.target + " (read back)"
                parts.append(
                    f"<div class='graph'>{picture(r.back, set(r.differing_tasks), title)}</div>"
                )
        parts.append("</div>")
        for r in wc.targets:
            if r.differing_scenarios:
                parts.append(f"<h3>{escape(r.target)}: scenarios that differ</h3><ul>")
                parts.extend(f"<li>{escape(d)}</li>" for d in r.differing_scenarios)
                parts.append("</ul>")
        for r in wc.targets:
            if r.ledger:
                parts.append(
                    f"<h3>{escape(r.target)} ledger</h3><table><tr><th>code</th><th>severity</th><th>where</th><th>message</th></tr>"
                )
                for d in r.ledger:
                    parts.append(
                        f"<tr><td>{escape(d.code)}</td><td>{escape(d.severity)}</td>"
                        f"<td>{escape(d.location())}</td><td>{escape(d.message)}</td></tr>"
                    )
                parts.append("</table>")
    parts.append("</body></html>")
    pictures = svg.draw(drawings)
    # Escaped text cannot hold "<": only picture() wrote these markers.
    page = "\n".join(parts)
    return re.sub(r"<!--picture (\d+)-->", lambda m: pictures[int(m.group(1))], page) + "\n"
