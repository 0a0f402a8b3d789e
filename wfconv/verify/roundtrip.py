"""Emit a workflow for a target and read the emitted code back with the
target's own frontend: the first half of ``wfconv verify`` (docs/architecture.md §2).

The emitted files are written to a temporary folder and parsed from there, so
verify reads exactly what ``wfconv convert -o`` would write. Emitted Luigi
modules are read statically (``static=True``): they are our own output, but
verify never needs to execute anything to compare structure.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from wfconv.backends import backend
from wfconv.backends.common import Emitted, identifier_map
from wfconv.errors import InputError
from wfconv.ir.model import Diagnostic, Workflow

# Identifier style each target uses for ids it cannot keep verbatim.
_ID_STYLE = {"airflow": "python", "prefect": "python", "luigi": "class", "oozie": "oozie"}


@dataclass
class RoundTrip:
    source: Workflow
    target: str
    emitted: Emitted
    back: Workflow | None
    # source task id -> round-tripped task id (only for tasks found again)
    id_map: dict[str, str] = field(default_factory=dict)
    # round-tripped tasks that have no source counterpart (synthesized by the backend)
    extra_tasks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ledger(self) -> list[Diagnostic]:
        return self.emitted.diagnostics


def write_files(emitted: Emitted, outdir: Path) -> None:
    for rel, text in emitted.files.items():
        dest = outdir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")


def _pick_workflow(src: Workflow, candidates: list[Workflow]) -> Workflow | None:
    """The round-tripped workflow that corresponds to ``src``: same id, else the
    one sharing most task ids (subflows/helpers may come back beside it)."""
    for w in candidates:
        if w.id == src.id:
            return w
    if not candidates:
        return None
    src_ids = set(src.task_ids())
    return max(candidates, key=lambda w: len(src_ids & set(w.task_ids())))


def match_ids(src: Workflow, back: Workflow, target: str) -> tuple[dict[str, str], list[str]]:
    """Pair source task ids with round-tripped ones: the same id first (backends
    keep original ids where the target allows), else the id the backend says it
    gives the task (``task_id_map(workflow)`` in the backend module, when it has
    one), else the deterministic identifier mapping of the target's style."""
    back_ids = back.task_ids()
    back_set = set(back_ids)
    mapping: dict[str, str] = {}
    for tid in src.task_ids():
        if tid in back_set:
            mapping[tid] = tid
    missing = [t for t in src.task_ids() if t not in mapping]
    if missing:
        own_map = getattr(backend(target), "task_id_map", None)
        if own_map is not None:
            guess = own_map(src)
        else:
            guess = identifier_map(src.task_ids(), style=_ID_STYLE.get(target, "python"))
        used = set(mapping.values())
        for tid in missing:
            cand = guess.get(tid)
            if cand in back_set and cand not in used:
                mapping[tid] = cand
                used.add(cand)
    used = set(mapping.values())
    extra = [t for t in back_ids if t not in used]
    return mapping, extra


def round_trip(workflow: Workflow, target: str, **options) -> RoundTrip:
    """Emit ``workflow`` for ``target`` and parse the output back."""
    from wfconv.frontends import load_path

    emitted = backend(target).emit(workflow, **options)
    rt = RoundTrip(workflow, target, emitted, None)
    with tempfile.TemporaryDirectory(prefix="wfconv-verify-") as tmp:
        out = Path(tmp)
        write_files(emitted, out)
        try:
            bundle = load_path(str(out), target, static=True)
        except InputError as exc:
            rt.problems.append(f"the emitted {target} code could not be read back: {exc}")
            return rt
    rt.back = _pick_workflow(workflow, bundle.workflows)
    if rt.back is None:
        rt.problems.append(f"no workflow was found in the emitted {target} code")
        return rt
    rt.id_map, rt.extra_tasks = match_ids(workflow, rt.back, target)
    return rt
