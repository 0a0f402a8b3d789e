"""``wfconv verify``: prove that a conversion behaves like its source.

1. Structure: emit for the target, read the emitted code back with the
   target's frontend, compare with the source IR under the id mapping; every
   difference is explained by a ledger entry or it is a defect.
2. Behaviour: run source and round-tripped IR in the reference runtime under
   the same scenarios; compare every task's final state and attempt count, and
   for scheduled workflows the list of runs.
3. Complete: no placeholder, stub or task that still needs the source engine
   in the emitted code (``wfconv.verify.complete``).
4. Engines (``engine=True``): the engine harness (``wfconv.engines.harness``)
   asks the real target engine (and the source's, where installed) whether the
   output loads, what structure, runs and rendered payloads it holds, and runs
   a probe variant of the emitted code under the behaviour scenarios
   (``wfconv.verify.engine``). An engine that is absent makes its checks
   "unverified", never a pass.

Python API::

    from wfconv.verify import verify_workflow
    report = verify_workflow(workflow, "prefect", scenarios="basic")
    report.equivalent          # True when every check passed
    report.to_dict()           # the JSON of ``wfconv verify --format json``
"""

from __future__ import annotations

import contextlib
import sys
import types
from dataclasses import dataclass, field
from typing import Any

from wfconv.engines.checks import FAIL, PASS, UNVERIFIED, Check, unverified
from wfconv.errors import InputError, UsageError
from wfconv.ir.model import Diagnostic, Workflow
from wfconv.verify.behaviour import (
    RunListVerdict,
    ScenarioVerdict,
    compare_behaviour,
    compare_run_lists,
)
from wfconv.verify.roundtrip import RoundTrip, round_trip
from wfconv.verify.structure import Difference, compare_structure


@dataclass
class VerifyReport:
    workflow: str
    target: str
    ledger: list[Diagnostic]
    structure: list[Difference] = field(default_factory=list)
    behaviour: list[ScenarioVerdict] = field(default_factory=list)
    run_list: RunListVerdict | None = None
    engine: list[ScenarioVerdict] = field(default_factory=list)
    engine_note: str | None = None
    problems: list[str] = field(default_factory=list)
    id_map: dict[str, str] = field(default_factory=dict)
    # what was emitted and read back (for compare's pictures and line counts)
    files: dict[str, str] = field(default_factory=dict, repr=False)
    back: Workflow | None = field(default=None, repr=False)
    # per check class and engine (wfconv.engines.checks); "complete" always
    checks: list[Check] = field(default_factory=list)
    engines_consulted: bool = False

    def _repr_html_(self) -> str:
        from wfconv import notebook

        return notebook.verify_html(self)

    def _repr_markdown_(self) -> str:
        from wfconv import notebook

        return notebook.verify_markdown(self)

    @property
    def structure_ok(self) -> bool:
        return all(d.explained for d in self.structure)

    @property
    def behaviour_ok(self) -> bool:
        return all(v.equivalent for v in self.behaviour) and (
            self.run_list is None or self.run_list.equivalent
        )

    @property
    def engine_ok(self) -> bool:
        return all(v.equivalent for v in self.engine)

    @property
    def checks_ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def equivalent(self) -> bool:
        return (
            not self.problems
            and self.structure_ok
            and self.behaviour_ok
            and self.engine_ok
            and self.checks_ok
        )

    @property
    def unverified(self) -> list[str]:
        """Checks no engine here could make ("payload in oozie", ...)."""
        if not self.engines_consulted:
            return ["every engine check (run with --engine)"]
        return unverified(self.checks)

    def verdict_text(self) -> str:
        if not self.equivalent:
            return "DIFFERS"
        left = self.unverified
        return "EQUIVALENT" + (f" (unverified: {', '.join(left)})" if left else "")

    @property
    def lossless(self) -> bool:
        return not any(d.severity in ("warning", "error") for d in self.ledger)

    def summary(self) -> str:
        n = len(self.behaviour)
        same = sum(v.equivalent for v in self.behaviour)
        unexplained = sum(not d.explained for d in self.structure)
        parts = [
            f"{self.workflow} -> {self.target}: " + self.verdict_text(),
            f"behaviour {same}/{n} scenarios equivalent",
            f"structure {len(self.structure)} difference(s), {unexplained} unexplained",
            f"ledger {sum(d.severity in ('warning', 'error') for d in self.ledger)} loss(es)",
        ]
        if self.engine:
            parts.append(
                f"engine {sum(v.equivalent for v in self.engine)}/{len(self.engine)} scenarios match"
            )
        failed = sorted({c.name for c in self.checks if c.status == FAIL})
        if failed:
            parts.append(f"failed checks: {', '.join(failed)}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        from wfconv.ir.jsonio import _diag

        return {
            "workflow": self.workflow,
            "target": self.target,
            "verdict": "equivalent" if self.equivalent else "differs",
            "summary": self.summary(),
            "problems": self.problems,
            "id_map": self.id_map,
            "structure": [d.to_dict() for d in self.structure],
            "behaviour": [v.to_dict() for v in self.behaviour],
            "run_list": self.run_list.to_dict() if self.run_list else None,
            "engine": [v.to_dict() for v in self.engine],
            "engine_note": self.engine_note,
            "checks": [c.to_dict() for c in self.checks],
            "unverified": self.unverified,
            "ledger": [_diag(d) for d in self.ledger],
        }


def verify_workflow(
    workflow: Workflow,
    target: str,
    *,
    scenarios: str = "basic",
    engine: bool = False,
    source_runs: dict | None = None,
    **options,
) -> VerifyReport:
    """``source_runs``: the source's runs from ``behaviour.source_runs`` when the
    caller verifies one workflow against several targets (they do not depend on
    the target)."""
    return verify_workflows(
        [workflow],
        target,
        scenarios=scenarios,
        engine=engine,
        source_runs={workflow.id: source_runs} if source_runs is not None else None,
        **options,
    )[0]


def _model_report(
    workflow: Workflow, target: str, scenarios: str, source_runs: dict | None, **options
) -> VerifyReport:
    """Everything verify decides without an engine: read-back structure,
    reference-runtime behaviour, run list, completeness."""
    from wfconv.verify.complete import completeness

    if not workflow.complete:
        # The reader could not see all of the source: a proof about the part
        # it saw would say nothing about the rest.
        return VerifyReport(
            workflow.id,
            target,
            list(workflow.diagnostics),
            problems=[
                "the source workflow is incomplete (parts of it could not be read "
                "statically): not verified; " + "; ".join(workflow.incomplete_reasons)
            ],
        )
    rt: RoundTrip = round_trip(workflow, target, **options)
    report = VerifyReport(workflow.id, target, list(rt.ledger), problems=list(rt.problems))
    report.files, report.back = rt.emitted.files, rt.back
    report.checks.append(completeness(rt.emitted.files, rt.ledger, target))
    if rt.back is None:
        return report
    report.id_map = rt.id_map
    report.structure = compare_structure(workflow, rt.back, rt.id_map, rt.ledger, rt.extra_tasks)
    report.behaviour = compare_behaviour(
        workflow, rt.back, rt.id_map, scenarios, source=source_runs
    )
    report.run_list = compare_run_lists(workflow, rt.back)
    return report


def _behaviour_check(report: VerifyReport, engine: str, note: str | None) -> Check:
    """The probe scenarios run in the engine, as one check."""
    if not report.engine:
        return Check("behaviour", engine, UNVERIFIED, [note or "not run"])
    bad = [v.describe() for v in report.engine if not v.equivalent]
    return Check("behaviour", engine, FAIL if bad else PASS, [note or "", *bad])


def verify_workflows(
    workflows: list[Workflow],
    target: str,
    *,
    scenarios: str = "basic",
    engine: bool = False,
    source_runs: dict | None = None,
    progress=None,
    engine_scenarios: str | None = None,
    workers: int | None = None,
    **options,
) -> list[VerifyReport]:
    """Verify every workflow against ``target``; with ``engine`` the engine
    harness checks them as one batch (one DagBag per output folder, one child
    per engine, one Prefect server for the whole call). ``progress(n)`` is
    called as conversions are done (n = how many just finished).
    ``engine_scenarios``: the scenarios run in the engines (``scenarios`` by
    default; ``smoke`` for the ones without an injected failure). ``workers``:
    processes sharing the work (default: one per core when there is enough)."""
    from wfconv.verify.parallel import in_workers

    def model(chunk: list[Workflow]) -> list[VerifyReport]:
        out = []
        for w in chunk:
            try:
                out.append(
                    _model_report(w, target, scenarios, (source_runs or {}).get(w.id), **options)
                )
            except (InputError, UsageError):
                raise
            except Exception as exc:  # one workflow must not stop a corpus: never EQUIVALENT
                report = VerifyReport(w.id, target, [])
                report.problems.append(
                    f"verify failed on this workflow: {type(exc).__name__}: {exc}"
                )
                out.append(report)
        return out

    reports = in_workers(model, workflows, workers, None if engine else progress)
    if not engine:
        return reports
    from wfconv.engines.harness import Job, engine_label, run_harness
    from wfconv.verify.engine import engine_checks

    major = str(options.get("airflow_version", 3))

    jobs = [
        Job(w, target, r.files, r.ledger, r.id_map, int(options.get("airflow_version", 3)))
        for w, r in zip(workflows, reports, strict=True)
        if r.files
    ]
    run_harness(jobs)
    by_id = {id(j.workflow): j for j in jobs}
    runnable = []
    for w, report in zip(workflows, reports, strict=True):
        report.engines_consulted = True
        job = by_id.get(id(w))
        if job is not None:
            report.checks.extend(job.checks)
        loads = [c for c in report.checks if c.name == "loads"]
        missing = sorted({m for c in loads for m in c.missing})
        if report.back is not None and not any(c.status == FAIL for c in loads) and not missing:
            runnable.append((w, report))
        elif missing:
            report.engine_note = f"not run: the output needs {', '.join(missing)}"
        elif loads:
            report.engine_note = "not run: the output does not load"
    level = engine_scenarios or scenarios
    if target == "airflow":  # already one Airflow child per core
        results = engine_checks([w for w, _ in runnable], target, level, **options)
    else:
        from wfconv.engines import prefect_server

        with prefect_server.shared() if target == "prefect" else contextlib.nullcontext():
            results = in_workers(
                lambda chunk: engine_checks(chunk, target, level, **options),
                [w for w, _ in runnable],
                workers,
            )
    for (_, report), (verdicts, note) in zip(runnable, results, strict=True):
        report.engine, report.engine_note = verdicts, note
    for report in reports:
        report.checks.append(
            _behaviour_check(report, engine_label(target, major), report.engine_note)
        )
        if progress:
            progress(1)
    return reports


__all__ = ["VerifyReport", "verify_workflow", "verify_workflows"]


class _CallableModule(types.ModuleType):
    """``wfconv.verify(workflow, target)`` is the public API (docs/architecture.md §3), but
    importing this subpackage rebinds ``wfconv.verify`` to it: calling the
    module does what the function does."""

    def __call__(self, workflow: Workflow, target: str, **options) -> VerifyReport:
        return verify_workflow(workflow, target, **options)


sys.modules[__name__].__class__ = _CallableModule
