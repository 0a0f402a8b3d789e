"""``wfconv verify``: prove that a conversion behaves like its source.

1. Structure: emit for the target, read the emitted code back with the
   target's frontend, compare with the source IR under the id mapping; every
   difference is explained by a ledger entry or it is a defect.
2. Behaviour: run source and round-tripped IR in the reference runtime under
   the same scenarios; compare every task's final state and attempt count, and
   for scheduled workflows the list of runs.
3. Engine (optional): run a probe variant of the emitted code in the real
   engine and compare its task outcomes with the runtime's prediction
   (``wfconv.verify.engine``).

Python API::

    from wfconv.verify import verify_workflow
    report = verify_workflow(workflow, "prefect", scenarios="basic")
    report.equivalent          # True when every check passed
    report.to_dict()           # the JSON of ``wfconv verify --format json``
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

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
    def equivalent(self) -> bool:
        return not self.problems and self.structure_ok and self.behaviour_ok and self.engine_ok

    @property
    def lossless(self) -> bool:
        return not any(d.severity in ("warning", "error") for d in self.ledger)

    def summary(self) -> str:
        n = len(self.behaviour)
        same = sum(v.equivalent for v in self.behaviour)
        unexplained = sum(not d.explained for d in self.structure)
        parts = [
            f"{self.workflow} -> {self.target}: "
            + ("EQUIVALENT" if self.equivalent else "DIFFERS"),
            f"behaviour {same}/{n} scenarios equivalent",
            f"structure {len(self.structure)} difference(s), {unexplained} unexplained",
            f"ledger {sum(d.severity in ('warning', 'error') for d in self.ledger)} loss(es)",
        ]
        if self.engine:
            parts.append(
                f"engine {sum(v.equivalent for v in self.engine)}/{len(self.engine)} scenarios match"
            )
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
    if rt.back is None:
        return report
    report.id_map = rt.id_map
    report.structure = compare_structure(workflow, rt.back, rt.id_map, rt.ledger, rt.extra_tasks)
    report.behaviour = compare_behaviour(
        workflow, rt.back, rt.id_map, scenarios, source=source_runs
    )
    report.run_list = compare_run_lists(workflow, rt.back)
    if engine:
        from wfconv.verify.engine import engine_check

        report.engine, report.engine_note = engine_check(workflow, target, scenarios, **options)
    return report


__all__ = ["VerifyReport", "verify_workflow"]


class _CallableModule(types.ModuleType):
    """``wfconv.verify(workflow, target)`` is the public API (docs/architecture.md §3), but
    importing this subpackage rebinds ``wfconv.verify`` to it: calling the
    module does what the function does."""

    def __call__(self, workflow: Workflow, target: str, **options) -> VerifyReport:
        return verify_workflow(workflow, target, **options)


sys.modules[__name__].__class__ = _CallableModule
