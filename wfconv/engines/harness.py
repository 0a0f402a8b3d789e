"""The engine harness behind ``verify --engine`` and ``compare --engine``.

For a batch of conversions (a corpus is one batch), every emitted output is
written to a folder of its own and handed to the real target engine, and the
source file to the real source engine where it is installed:

- Airflow 2.x / 3.x: one child per Airflow release for the whole batch, one
  ``DagBag`` per output folder (``wfconv.engines.dagbag`` running
  ``airflow_child.py``): loads, structure, the first runs of the real
  timetable, every templated field rendered per run;
- Prefect: two children of wfconv's own interpreter
  (``wfconv.engines.prefect_child``): the module imports and holds the flow,
  the task objects' retries and timeouts, Prefect's own schedule dates, the
  shell commands built per date;
- Luigi: the Luigi reader's import child (the root task and its
  ``requires()`` graph);
- Oozie: the emitted XML against Apache Oozie's XSDs (``wfconv.engines.oozie``);
- behaviour: the probe scenarios of ``wfconv.verify.engine``.

Each check gives a ``Check`` (``wfconv.engines.checks``): pass, fail,
unverified (the engine is absent, or cannot show the aspect) or n/a.
"""

from __future__ import annotations

import ast
import re
import shutil
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wfconv.engines import dagbag as af
from wfconv.engines.checks import FAIL, NA, PASS, UNVERIFIED, Check, fail_or_pass
from wfconv.engines.compare_facts import (
    compare_payloads,
    compare_runs,
    compare_structure,
    ir_facts,
)
from wfconv.ir.model import Diagnostic, Workflow

RUNS = 3  # runs of each timetable compared (and payloads rendered for)


@dataclass
class Job:
    """One conversion to check: the source workflow, what was emitted for the
    target and how source task ids map to the target's."""

    workflow: Workflow
    target: str
    files: dict[str, str]
    ledger: list[Diagnostic]
    id_map: dict[str, str]
    airflow_version: int = 3
    folder: Path | None = None  # where the files were written
    checks: list[Check] = field(default_factory=list)
    # a Prefect source's first scheduled starts, from Prefect's own schedules
    source_runs: list[dict] | None = None

    @property
    def source_engine(self) -> str | None:
        return self.workflow.source.engine if self.workflow.source else None

    @property
    def source_path(self) -> str | None:
        return self.workflow.source.path if self.workflow.source else None


def airflow_source_major(path: str, workflow=None) -> str:
    """Which Airflow a source DAG file is written for: the version the reader
    decided (``extra.airflow.source_version``, the one whose semantics the
    conversion kept), else 3 when the file imports the task SDK, else 2 (the
    releases where each file's idioms are current)."""
    airflow = (getattr(workflow, "extra", None) or {}).get("airflow")
    decided = airflow.get("source_version") if isinstance(airflow, dict) else None
    if decided in ("2", "3"):
        return decided
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "2"
    return "3" if "airflow.sdk" in text else "2"


# ---------------------------------------------------------------------------


def _write(job: Job, root: Path, n: int) -> None:
    from wfconv.backends.common import Emitted
    from wfconv.verify.roundtrip import write_files

    job.folder = root / f"{n:04d}-{job.target}"
    job.folder.mkdir(parents=True)
    write_files(Emitted(job.files, []), job.folder)


def _user_modules(job: Job) -> list[str]:
    """Where the user's modules are that an output imports its callables from:
    the source file's folder (a deployment keeps them next to the output)."""
    path = job.source_path
    if path and path.endswith(".py") and Path(path).is_file():
        return [str(Path(path).resolve().parent)]
    return []


def _airflow_batches(jobs: list[Job]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Folders to load per Airflow major: every Airflow output, and every
    Airflow source file (a file path: one DagBag for that file); and per
    output folder, the folders of the user's modules it may import."""
    want: dict[str, list[str]] = {"2": [], "3": []}
    paths: dict[str, list[str]] = {}
    for job in jobs:
        if job.target == "airflow":
            want[str(job.airflow_version)].append(str(job.folder))
            paths[str(job.folder)] = _user_modules(job)
        # the source's runs and payloads are compared where the target has them
        if (
            job.target in ("airflow", "prefect", "luigi")
            and job.source_engine == "airflow"
            and job.source_path
        ):
            src = str(Path(job.source_path).resolve())
            major = airflow_source_major(src, job.workflow)
            if src not in want[major]:
                want[major].append(src)
    return {m: f for m, f in want.items() if f}, paths


def run_harness(jobs: list[Job], *, runs: int = RUNS, progress=None) -> list[Job]:
    """Fill ``job.checks`` for every job; returns the jobs."""
    root = Path(tempfile.mkdtemp(prefix="wfconv-harness-"))
    try:
        for n, job in enumerate(jobs):
            _write(job, root, n)
        batches, paths = _airflow_batches(jobs)
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {
                m: pool.submit(af.inspect_folders, m, f, runs=runs, paths=paths)
                for m, f in batches.items()
            }
            facts = {m: fut.result() for m, fut in futures.items()}
        prefect_jobs = [j for j in jobs if j.target == "prefect"]
        sources = _prefect_sources(jobs, runs)
        pfacts = prefect_facts(prefect_jobs, runs, sources) if prefect_jobs or sources else {}
        if isinstance(pfacts, dict):
            for job in jobs:
                got = pfacts.get(_source_key(job)) or {}
                if got.get("dates"):
                    job.source_runs = [{"run_after": d} for d in got["dates"]]
        # Luigi is asked through the Luigi reader's import child, one per
        # module: two at a time (the machine's cores).
        luigi_jobs = [j for j in jobs if j.target == "luigi"]
        with ThreadPoolExecutor(max_workers=2) as pool:
            lfacts = pool.submit(luigi_facts, luigi_jobs, runs) if luigi_jobs else None
            lchecks = dict(
                zip(map(id, luigi_jobs), pool.map(luigi_checks, luigi_jobs), strict=True)
            )
            lfacts = lfacts.result() if lfacts else {}
        for job in jobs:
            if job.target == "airflow":
                job.checks.extend(airflow_checks(job, facts))
            elif job.target == "prefect":
                job.checks.extend(prefect_checks(job, pfacts, facts))
            elif job.target == "luigi":
                job.checks.extend(lchecks[id(job)])
                if any(c.name == "loads" and c.status == PASS for c in lchecks[id(job)]):
                    job.checks.extend(luigi_run_checks(job, lfacts, facts))
            elif job.target == "oozie":
                job.checks.extend(oozie_checks(job))
            if progress:
                progress()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return jobs


# ---------------------------------------------------------------------------
# Airflow target


def _source_facts(job: Job, facts: dict) -> tuple[dict | None, str]:
    """The source DAG as its own Airflow holds it, else None and why not."""
    if job.source_engine != "airflow" or not job.source_path:
        return None, "the source is not an Airflow DAG"
    src = str(Path(job.source_path).resolve())
    major = airflow_source_major(src, job.workflow)
    got = facts.get(major)
    if not isinstance(got, dict):
        return None, got or f"Airflow {major} is not installed"
    folder = got.get(src)
    if folder is None or job.workflow.id not in folder.dags:
        errs = "; ".join(
            v.splitlines()[-1] for v in (folder.import_errors if folder else {}).values()
        )
        return None, f"the source does not load in {af.engine_name(major)}" + (
            f": {errs}" if errs else ""
        )
    return folder.dags[job.workflow.id] | {"engine": af.engine_name(major)}, ""


def airflow_checks(job: Job, facts: dict) -> list[Check]:
    major = str(job.airflow_version)
    engine = af.engine_name(major)
    got = facts.get(major)
    if not isinstance(got, dict):
        why = got or f"Airflow {major} is not installed"
        return [
            Check(c, engine, UNVERIFIED, [why]) for c in ("loads", "structure", "time", "payload")
        ]
    folder = got.get(str(job.folder))
    if folder is None or folder.error:
        return [
            Check("loads", engine, FAIL, [folder.error if folder else "the DagBag was not made"])
        ]
    problems = [f"{name}: {msg.splitlines()[-1]}" for name, msg in folder.import_errors.items()]
    missing = missing_providers(job, folder.import_errors.values())
    if missing is not None:
        why = (
            f"needs {', '.join(missing)} (ledger BA132), which {engine} here does not have: "
            + "; ".join(problems)
        )
        return [
            Check(c, engine, UNVERIFIED, [why], missing=missing)
            for c in ("loads", "structure", "time", "payload")
        ]
    dag = folder.dags.get(job.workflow.id)
    if dag is None and len(folder.dags) == 1 and not problems:
        dag = next(iter(folder.dags.values()))
    if dag is None:
        problems.append(
            f"no DAG {job.workflow.id!r} in the DagBag (found: {', '.join(folder.dags) or 'none'})"
        )
    if dag is not None and dag.get("error"):
        problems.append(dag["error"])
    out = [fail_or_pass("loads", engine, problems)]
    if problems:
        return out
    src, why_not = _source_facts(job, facts)
    ref = _structure_reference(job, src)
    ref_name = src["engine"] if src else "the source IR"
    defaults = {"retry_delay_s": 300.0, "exponential": False, "pool": "default_pool"}
    bad, explained = compare_structure(ref, dag, job.id_map, job.ledger, defaults)
    st = fail_or_pass("structure", engine, bad, explained)
    st.details.insert(0, f"compared with {ref_name}")
    out.append(st)
    out.append(_time_check(job, engine, src, dag, why_not))
    out.append(_payload_check(job, engine, src, dag, why_not))
    return out


_NO_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")


def missing_providers(job: Job, errors: Iterable[str]) -> list[str] | None:
    """The provider packages the output imports and the engine lacks, when
    they are all its load failed on and the ledger says the output needs
    them (BA132); else None (a load failure of wfconv's making)."""
    from wfconv.backends.airflow.tables import provider_package

    imported = {m: provider_package(m) for m in _imported_modules(job.files) if provider_package(m)}
    named = {d.target for d in job.ledger if d.code == "BA132"}
    out: set[str] = set()
    for error in errors:
        found = _NO_MODULE.search(error.splitlines()[-1] if error else "")
        if not found:
            return None
        gone = found.group(1)
        packages = {p for m, p in imported.items() if m == gone or m.startswith(gone + ".")}
        if not packages or not packages <= named:
            return None
        out |= packages
    return sorted(out) or None


def _imported_modules(files: dict[str, str]) -> set[str]:
    out: set[str] = set()
    for name, text in files.items():
        if not name.endswith(".py"):
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                out.add(node.module)
            elif isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
    return out


def _structure_reference(job: Job, src: dict | None) -> dict:
    """What the output's structure is compared with: the source in its own
    engine, else the source IR. Catch-up means something only to a DAG the
    scheduler runs by itself: not compared for a manual, asset-triggered or
    continuous or ``@once`` DAG, nor for an Airflow 2 SubDAG (its parent runs it)."""
    if src is None:
        ref = ir_facts(job.workflow)
        scheduled = job.workflow.schedule.kind in ("cron", "interval")
    else:
        ref = dict(src)
        # @once makes one run whatever catch-up says
        once = "Once" in (src.get("timetable") or "")
        scheduled = bool(src.get("runs")) and not src.get("subdag") and not once
    if not scheduled:
        ref["catchup"] = None
    return ref


def _continuous(facts: dict) -> bool:
    return "Continuous" in (facts.get("timetable") or "")


def _source_time_na(src: dict, engine: str) -> Check | None:
    """A source whose runs the scheduler does not plan from a timetable."""
    if src.get("subdag"):
        return Check(
            "time",
            engine,
            NA,
            [f"the source is a SubDAG in {src['engine']}: it runs when its parent's task runs it"],
        )
    return None


def _time_check(job: Job, engine: str, src: dict | None, dag: dict, why_not: str) -> Check:
    if dag.get("runs_error"):
        return Check("time", engine, FAIL, [f"the timetable cannot plan: {dag['runs_error']}"])
    runs = dag.get("runs", [])
    if src is None:
        return _time_against_ir(job, engine, runs, why_not)
    if src.get("runs_error"):
        return Check(
            "time", engine, UNVERIFIED, [f"the source's timetable cannot plan: {src['runs_error']}"]
        )
    na = _source_time_na(src, engine)
    if na is not None:
        return na
    if _continuous(src) or _continuous(dag):
        # a run starts when the previous one ends: no dates to compare
        same = _continuous(src) == _continuous(dag)
        what = f"{dag.get('timetable')} against {src.get('timetable')} in {src['engine']}"
        return Check(
            "time",
            engine,
            PASS if same else FAIL,
            [what if same else f"{what}: only one of them runs continuously"],
        )
    if not src.get("runs") and not runs:
        return Check("time", engine, NA, ["no scheduled runs on either side"])
    bad = compare_runs(src["runs"], runs)
    c = fail_or_pass("time", engine, bad)
    c.details.insert(
        0,
        f"first {len(runs)} run(s) of {dag.get('timetable')} against {src.get('timetable')} in {src['engine']}",
    )
    return c


def _time_against_ir(job: Job, engine: str, runs: list[dict], why_not: str) -> Check:
    """No source engine to ask for the source's runs: a Prefect source's own
    schedules where Prefect gave them, else the run start times the source's
    engine documents (Oozie nominal times, Prefect ticks) from the reference
    runtime; start times only (what a run sees is the payload check's
    business)."""
    from wfconv.engines.expected import expected_runs

    if job.source_runs is not None:
        bad = compare_runs(job.source_runs, runs, fields=("run_after",))
        c = fail_or_pass("time", engine, bad)
        c.details.insert(
            0, f"run start times against the source's deployment schedules in {_prefect_version()}"
        )
        return c
    want = expected_runs(job.workflow, len(runs) or RUNS)
    if want is None:
        if not runs:
            return Check("time", engine, NA, ["the source is not scheduled"])
        return Check(
            "time", engine, UNVERIFIED, [f"no reference for the source's runs ({why_not})"]
        )
    bad = compare_runs(want, runs, fields=("run_after",))
    c = fail_or_pass("time", engine, bad)
    c.details.insert(0, f"run start times against the source's schedule ({why_not})")
    return c


def _payload_check(job: Job, engine: str, src: dict | None, dag: dict, why_not: str) -> Check:
    if dag.get("render_error"):
        return Check("payload", engine, FAIL, [f"rendering failed: {dag['render_error']}"])
    rendered = dag.get("rendered") or []
    if src is None:
        got = [
            {t: {"command": _shell_value(f)} for t, f in run.items() if _shell_value(f) is not None}
            for run in rendered
        ]
        return _payload_against_ir(job, engine, got, why_not)
    if not rendered:
        return Check("payload", engine, NA, ["no scheduled run to render"])
    bad, explained, n = compare_payloads(
        src.get("rendered") or [], rendered, job.id_map, job.ledger
    )
    c = fail_or_pass("payload", engine, bad, explained)
    c.details.insert(0, f"{n} templated field value(s) compared over {len(rendered)} run(s)")
    return c


def engine_label(target: str, major: str = "3") -> str:
    """How the checks name the engine a target runs in."""
    if target == "airflow":
        return af.engine_name(major)
    if target == "prefect":
        return _prefect_version()
    return target


def summarize(checks: list[Check]) -> dict[str, Any]:
    """{check name: worst status} (fail > unverified > pass > n/a)."""
    order = {FAIL: 3, UNVERIFIED: 2, PASS: 1, NA: 0}
    out: dict[str, str] = {}
    for c in checks:
        if c.name not in out or order[c.status] > order[out[c.name]]:
            out[c.name] = c.status
    return out


# ---------------------------------------------------------------------------
# Prefect target


def _prefect_version() -> str:
    try:
        from importlib.metadata import version

        return f"prefect {version('prefect')}"
    except Exception:
        return "prefect"


def _main_file(job: Job) -> Path | None:
    from wfconv.backends import backend

    helpers = set(getattr(backend(job.target), "HELPER_MODULES", ()))
    py = sorted(p for p in job.folder.rglob("*.py") if p.name not in helpers)
    return py[0] if len(py) == 1 else None


def _shell_tasks(job: Job) -> list[str]:
    return [
        job.id_map[t.id]
        for t in job.workflow.tasks
        if t.action.kind == "shell" and t.id in job.id_map
    ]


def _source_key(job: Job) -> str:
    return f"{job.source_path}#{job.workflow.id}"


def _prefect_sources(jobs: list[Job], runs: int) -> list[dict]:
    """Entries for ``prefect_child`` that ask Prefect for a Prefect source's
    own schedules (the deployments of its ``__main__`` block), from the start
    date the target's runs are planned from: one per source flow whose target
    has a time check."""
    out, seen = [], set()
    for job in jobs:
        path = job.source_path
        if (
            job.source_engine != "prefect"
            or job.target not in ("airflow", "prefect")
            or not job.workflow.start_date
            or not (path and path.endswith(".py") and Path(path).is_file())
            or _source_key(job) in seen
        ):
            continue
        seen.add(_source_key(job))
        out.append(
            {
                "file": str(Path(path).resolve()),
                "key": _source_key(job),
                "flow": job.workflow.id,
                "start": job.workflow.start_date,
                "runs": runs,
                "paths": _user_modules(job),
            }
        )
    return out


def _planned_from(job: Job) -> str | None:
    """When the emitted schedule's runs are planned from: the source's start
    date, or its first run when the schedule cannot say the start (an
    every-minute cron has no RRULE Prefect plans in reasonable time, so it
    stays a start-less cron; planned from the start date, it would tick at
    the start itself, which an Airflow 2 interval schedule never runs): the
    ledger says so (BP202 on the start date)."""
    from wfconv.errors import InputError
    from wfconv.runtime.schedule import run_after_bounds

    if any(d.code == "BP202" and "start_date" in d.message for d in job.ledger):
        try:
            bounds = run_after_bounds(job.workflow)
        except InputError:
            bounds = None
        if bounds is not None:
            return bounds[0].isoformat()
    return job.workflow.start_date


def prefect_facts(jobs: list[Job], runs: int, sources: list[dict] = ()) -> dict[str, dict] | str:
    """Facts per emitted module from ``prefect_child`` (two children share the
    modules: the machine has two cores), and per entry of ``sources`` (a
    source flow's schedules, keyed by the entry's ``key``)."""
    import importlib.util
    import json
    import os
    import sys

    from wfconv import proc
    from wfconv.engines.prefect_server import QUIET_ENV

    if importlib.util.find_spec("prefect") is None:
        return "Prefect is not installed (pip install wfconv[prefect])"
    entries = []
    for job in jobs:
        main = _main_file(job)
        if main is None:
            continue
        entries.append(
            {
                "file": str(main),
                "workflow": job.workflow.id,
                "start": _planned_from(job),
                "runs": runs,
                "shell_tasks": _shell_tasks(job),
                "paths": _user_modules(job),
            }
        )
    entries += sources
    halves = [entries[0::2], entries[1::2]]
    root = Path(tempfile.mkdtemp(prefix="wfconv-prefect-"))

    def one(part: list[dict], n: int) -> dict:
        if not part:
            return {}
        job_file, out = root / f"prefect-job-{n}.json", root / f"prefect-out-{n}.json"
        job_file.write_text(json.dumps({"modules": part}), encoding="utf-8")
        env = {**os.environ, **QUIET_ENV}
        done = proc.run(
            [sys.executable, "-m", "wfconv.engines.prefect_child", str(job_file), str(out)],
            env=env,
            timeout=600,
            memory_mb=4096,
        )
        if not out.exists():
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-2:]
            return {
                e["file"]: {"import_error": "the Prefect child failed: " + " | ".join(tail)}
                for e in part
            }
        return json.loads(out.read_text(encoding="utf-8"))

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(one, halves, range(2)))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {k: v for r in results for k, v in r.items()}


def prefect_checks(job: Job, pfacts: dict | str, afacts: dict) -> list[Check]:
    engine = _prefect_version()
    if isinstance(pfacts, str):
        return [
            Check(c, engine, UNVERIFIED, [pfacts])
            for c in ("loads", "structure", "time", "payload")
        ]
    main = _main_file(job)
    if main is None:
        return [
            Check("loads", engine, FAIL, ["the Prefect backend did not emit exactly one module"])
        ]
    got = pfacts.get(str(main), {})
    if got.get("import_error"):
        return [Check("loads", engine, FAIL, [f"{main.name}: {got['import_error']}"])]
    if job.workflow.id not in got.get("flows", []) and len(got.get("flows", [])) != 1:
        return [
            Check(
                "loads",
                engine,
                FAIL,
                [
                    f"no flow named {job.workflow.id!r} (found: {', '.join(got.get('flows', [])) or 'none'})"
                ],
            )
        ]
    out = [Check("loads", engine, PASS)]
    # structure: the task objects (Prefect keeps no static graph)
    ref = _prefect_reference(job.workflow)
    bad, explained = compare_structure(
        ref, {"tasks": got.get("tasks", {})}, job.id_map, job.ledger, {"retry_delay_s": 0.0}
    )
    st = fail_or_pass("structure", engine, bad, explained)
    st.details.insert(
        0, "task objects against the source IR (edges exist only in a run: see behaviour)"
    )
    out.append(st)
    # time: Prefect's own schedule dates against the source's run start times
    src, why_not = _source_facts(job, afacts)
    dates = [{"run_after": d} for d in got.get("dates", [])]
    if got.get("schedule_error"):
        out.append(
            Check("time", engine, FAIL, [f"the schedule cannot plan: {got['schedule_error']}"])
        )
    elif src is not None and _source_time_na(src, engine):
        out.append(_source_time_na(src, engine))
    elif src is not None and _continuous(src):
        out.append(
            Check(
                "time",
                engine,
                FAIL,
                [f"the source runs continuously ({src['timetable']}); a Prefect schedule cannot"],
            )
        )
    elif src is not None and src.get("runs"):
        bad = compare_runs(src["runs"], dates, fields=("run_after",))
        c = fail_or_pass("time", engine, bad)
        c.details.insert(
            0,
            f"run start times of Prefect's schedule against {src.get('timetable')} in {src['engine']}"
            + (
                " (planned from the source's first run: BP202)"
                if _planned_from(job) != job.workflow.start_date
                else ""
            ),
        )
        out.append(c)
    else:
        out.append(_time_against_ir(job, engine, dates, why_not))
    # payload: commands built per scheduled date against the source engine's rendering
    out.append(_command_check(job, engine, src, _unrun(got.get("rendered") or []), why_not))
    return out


def _command_check(
    job: Job, engine: str, src: dict | None, rendered: list[dict], why_not: str
) -> Check:
    """The shell commands a target that is not Airflow built per scheduled
    run (``rendered``) against the source engine's rendering of them, or the
    reference runtime's where there is no source engine."""
    if src is None:
        return _payload_against_ir(job, engine, rendered, why_not)
    if not _shell_tasks(job) or not src.get("rendered"):
        why = "no shell command" if not _shell_tasks(job) else "no scheduled run in the source"
        return Check("payload", engine, NA, [f"nothing to compare: {why}"])
    if not rendered:
        return Check("payload", engine, UNVERIFIED, [f"no scheduled run in {engine} to render for"])
    ref_cmds = [
        {sid: {"command": _shell_value(f)} for sid, f in run.items() if _shell_value(f) is not None}
        for run in src.get("rendered") or []
    ]
    bad, explained, n = compare_payloads(ref_cmds, rendered, job.id_map, job.ledger)
    c = fail_or_pass("payload", engine, bad, explained)
    c.details.insert(0, f"{n} shell command(s) compared over {len(rendered)} scheduled run(s)")
    return c


def _payload_against_ir(job: Job, engine: str, got: list[dict], why_not: str) -> Check:
    """No source engine: the source's shell commands as the reference runtime
    renders them for the source's own runs (docs/semantics.md R3)."""
    from wfconv.engines.expected import expected_payloads

    want = expected_payloads(job.workflow, len(got) or RUNS)
    if not want or not any(want) or not got:
        return Check(
            "payload", engine, NA if not want else UNVERIFIED, [f"nothing to render ({why_not})"]
        )
    bad, explained, n = compare_payloads(want, got, job.id_map, job.ledger)
    c = fail_or_pass("payload", engine, bad, explained)
    c.details.insert(
        0,
        f"{n} shell command(s) over {len(got)} run(s) against the source IR rendered by the "
        f"reference runtime ({why_not})",
    )
    return c


def _prefect_reference(w: Workflow) -> dict:
    """What a Prefect task object can hold of each source task: retries, the
    delays before them and the timeout. Exponential backoff is a range, which
    verify's read-back structure check compares; it is left out here."""
    tasks = {}
    for t in w.tasks:
        entry: dict[str, Any] = {"retries": t.retries, "timeout_s": t.timeout_s}
        if isinstance(t.retry_delay_s, list):
            entry["retry_delay_s"] = [float(x) for x in t.retry_delay_s]
        elif t.retry_backoff != "exponential":
            entry["retry_delay_s"] = t.retry_delay_s
        tasks[t.id] = entry
    return {"tasks": tasks}


def _shell_value(fields: dict):
    from wfconv.engines.compare_facts import SHELL_FIELDS

    for name in SHELL_FIELDS:
        if name in fields:
            return fields[name]
    return None


def _unrun(rendered: list[dict]) -> list[dict]:
    """Tasks whose body ran no command (their gate skipped them, or the
    backend's task shape changed) are not compared."""
    return [
        {t: f for t, f in run.items() if f.get("command") != {"error": "no command was run"}}
        for run in rendered
    ]


# ---------------------------------------------------------------------------
# Luigi target


def luigi_checks(job: Job) -> list[Check]:
    """Luigi's own objects: the emitted module imported by Luigi (the Luigi
    reader's import child asks ``requires()`` of the root task), compared with
    the source as verify's structure check compares."""
    import importlib.util

    from wfconv.errors import InputError
    from wfconv.frontends import load_path
    from wfconv.verify.roundtrip import _pick_workflow, match_ids
    from wfconv.verify.structure import compare_structure as ir_structure

    engine = "luigi"
    if importlib.util.find_spec("luigi") is None:
        return [
            Check(c, engine, UNVERIFIED, ["Luigi is not installed"]) for c in ("loads", "structure")
        ]
    try:
        bundle = load_path(str(job.folder), "luigi", static=False)
    except InputError as exc:
        return [Check("loads", engine, FAIL, [str(exc)])]
    back = _pick_workflow(job.workflow, bundle.workflows)
    if back is None:
        return [Check("loads", engine, FAIL, ["no root task found when Luigi imported the module"])]
    out = [Check("loads", engine, PASS)]
    id_map, extra = match_ids(job.workflow, back, "luigi")
    diffs = ir_structure(job.workflow, back, id_map, job.ledger, extra)
    bad = [d.describe() for d in diffs if not d.explained]
    ok = [d.describe() for d in diffs if d.explained]
    st = fail_or_pass("structure", engine, bad, ok)
    st.details.insert(0, "the task graph Luigi's requires() gives, against the source IR")
    out.append(st)
    return out


def luigi_facts(jobs: list[Job], runs: int) -> dict[str, dict]:
    """Per emitted Luigi module, from one ``luigi_child``: the first runs its
    range task schedules and the shell commands of those runs."""
    import json
    import sys

    from wfconv import proc

    entries = []
    for job in jobs:
        main = _main_file(job)
        if main is not None:
            shell = [t.id for t in job.workflow.tasks if t.action.kind == "shell"]
            entries.append(
                {"file": str(main), "runs": runs, "shell_tasks": shell, "paths": _user_modules(job)}
            )
    if not entries:
        return {}
    root = Path(tempfile.mkdtemp(prefix="wfconv-luigi-"))
    try:
        job_file, out = root / "job.json", root / "out.json"
        job_file.write_text(json.dumps({"modules": entries}), encoding="utf-8")
        done = proc.run(
            [sys.executable, "-m", "wfconv.engines.luigi_child", str(job_file), str(out)],
            timeout=600,
            memory_mb=4096,
        )
        if not out.exists():
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-2:]
            return {
                e["file"]: {"error": "the Luigi child failed: " + " | ".join(tail)} for e in entries
            }
        return json.loads(out.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(root, ignore_errors=True)


# The run fields a Luigi run has: no start time of its own (cron starts it).
_LUIGI_RUN_FIELDS = ("logical_date", "data_interval_start", "data_interval_end")


def luigi_run_checks(job: Job, lfacts: dict, afacts: dict) -> list[Check]:
    """Time and payload in Luigi: the runs the module's range task schedules
    against the source's, and the commands their shell tasks run."""
    engine = "luigi"
    if job.workflow.schedule.kind not in ("cron", "interval"):
        return [Check("time", engine, NA, ["the source is not scheduled"])]
    main = _main_file(job)
    got = lfacts.get(str(main)) if main else None
    if got is None or got.get("error"):
        why = (got or {}).get("error") or "the Luigi backend did not emit exactly one module"
        return [Check("time", engine, FAIL, [f"the range task cannot plan: {why}"])]
    if got.get("runs") is None:
        why = got.get("why") or (
            "each call of the module is one run of the day it is called: cron decides the dates"
        )
        return [Check(c, engine, UNVERIFIED, [why]) for c in ("time", "payload")]
    runs = got["runs"]
    src, why_not = _source_facts(job, afacts)
    if src is not None and (_source_time_na(src, engine) or _continuous(src)):
        time = _source_time_na(src, engine) or Check(
            "time", engine, FAIL, [f"the source runs continuously ({src['timetable']})"]
        )
    else:
        if src is not None and src.get("runs"):
            want, ref = src["runs"], f"{src.get('timetable')} in {src['engine']}"
        else:
            from wfconv.engines.expected import expected_runs

            want = expected_runs(job.workflow, len(runs) or RUNS)
            ref = f"the source's schedule ({why_not})"
        if want is None:
            time = Check(
                "time", engine, UNVERIFIED, [f"no reference for the source's runs ({why_not})"]
            )
        else:
            # never explained, as in the other engines (BL305 announces the
            # shift a trigger-model schedule gets: still a different run)
            time = fail_or_pass("time", engine, compare_runs(want, runs, fields=_LUIGI_RUN_FIELDS))
            time.details.insert(
                0,
                f"logical dates and data intervals of the first {len(runs)} run(s) Luigi's range "
                f"task schedules against {ref}; their start times come from cron (not compared)",
            )
    rendered = [
        {job.id_map.get(sid, sid): f for sid, f in run.items()} for run in got.get("rendered") or []
    ]
    return [time, _command_check(job, engine, src, _unrun(rendered), why_not)]


# ---------------------------------------------------------------------------
# Oozie target


def oozie_checks(job: Job) -> list[Check]:
    from wfconv.engines import oozie

    problems, n = oozie.validate(job.files)
    c = fail_or_pass("loads", oozie.ENGINE, problems)
    c.details.insert(len(c.details) if problems else 0, f"{n} XML file(s) against Oozie's schemas")
    out = [c]
    for name in ("structure", "time", "payload"):
        out.append(
            Check(name, "oozie", UNVERIFIED, ["no Oozie server here to load and run the job"])
        )
    return out
