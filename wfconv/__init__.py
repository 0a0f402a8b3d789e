"""wfconv: move workflows between orchestrators and prove the move is faithful.

Public API (docs/architecture.md §3); each function imports its layer only when called::

    import wfconv
    bundle = wfconv.load("dags/etl.py")                  # -> Bundle (IR)
    files = wfconv.emit(bundle, "prefect")               # -> {path: text}, ledger in .diagnostics
    results = wfconv.run(bundle.workflows[0])            # -> [RunResult] (reference runtime)
    report = wfconv.verify(bundle.workflows[0], "luigi") # -> VerifyReport
"""

from __future__ import annotations

__version__ = "0.1.0"


def load(paths, engine: str | None = None, **options):
    """Read workflow files/folders (any engine, or IR JSON) into a Bundle."""
    from wfconv.frontends import load as _load

    return _load(paths, engine, **options)


def emit(bundle, target: str, **options):
    """Emit every workflow of ``bundle`` (or one Workflow) for ``target``.

    Returns one ``Emitted`` whose ``files`` holds every file and whose
    ``diagnostics`` is the fidelity ledger."""
    from wfconv.backends import backend
    from wfconv.backends.common import Emitted
    from wfconv.ir.model import Workflow

    workflows = [bundle] if isinstance(bundle, Workflow) else bundle.workflows
    out = Emitted()
    mod = backend(target)
    for w in workflows:
        one = mod.emit(w, **options)
        out.files.update(one.files)
        out.shared |= one.shared
        out.diagnostics.extend(one.diagnostics)
    return out


def run(workflow, scenario=None, **options):
    """Simulate a workflow in the reference runtime (see wfconv.runtime.run)."""
    from wfconv.runtime import run as _run

    return _run(workflow, scenario, **options)


def verify(workflow, target: str, **options):
    """Prove a conversion faithful (see wfconv.verify.verify_workflow)."""
    from wfconv.verify import verify_workflow

    return verify_workflow(workflow, target, **options)


__all__ = ["__version__", "emit", "load", "run", "verify"]
