"""What Airflow itself makes of a folder of DAG files, before and after an
upgrade: the proof behind ``wfconv upgrade`` (tests/test_upgrade_engine.py,
bench/bench_upgrade.py).

``snapshot`` loads a folder with the real DagBag of one Airflow release (in its
side virtualenv, as a child process on ``wfconv.proc``; see _engine_child.py)
and returns, per DAG, its tasks, edges, trigger rules, retries, owners,
catch-up, the first runs its timetable creates and every templated field
rendered for each of them. ``differences`` compares an Airflow 2 snapshot of
the original files with an Airflow 3 snapshot of the upgraded ones.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from wfconv import proc

CHILD = Path(__file__).with_name("_engine_child.py")


def snapshot(
    python: str | os.PathLike,
    folder: str | os.PathLike,
    *,
    runs: int = 3,
    timeout: float = 900.0,
    database: bool = True,
    call_probes: str | None = None,
) -> dict:
    """The engine's view of every DAG file under ``folder``. ``database``:
    create Airflow's metadata database first (about 12 s), which some Airflow 2
    DAGs read while they are parsed (dataset aliases); Airflow 3 needs none.
    ``call_probes``: a sub-folder whose ``probe_*`` tasks' callables are run
    too (only for DAG files wfconv's tests wrote)."""
    with tempfile.TemporaryDirectory(prefix="wfconv-airflow-") as home:
        out = Path(home) / "snapshot.json"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
            "PYTHONDONTWRITEBYTECODE": "1",
            "WFCONV_CALL_PROBES": str(Path(folder) / call_probes) if call_probes else "",
        }
        if database:
            airflow = str(Path(python).with_name("airflow"))
            done = proc.run([airflow, "db", "migrate"], timeout=300, env=env, memory_mb=4096)
            if not done.ok:
                tail = done.stderr.decode("utf-8", "replace")[-2000:]
                raise RuntimeError(f"`airflow db migrate` failed ({python}): {tail}")
        done = proc.run(
            [str(python), str(CHILD), str(folder), str(out), str(runs)],
            timeout=timeout,
            env=env,
            memory_mb=4096,
        )
        if done.timed_out or not out.exists():
            tail = done.stderr.decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"Airflow ({python}) could not read {folder}: {tail}")
        data = json.loads(out.read_text(encoding="utf-8"))
    root = os.path.realpath(folder)
    data["errors"] = {
        os.path.relpath(os.path.realpath(k), root): v for k, v in data["errors"].items()
    }
    for d in data["dags"].values():
        d["file"] = os.path.relpath(os.path.realpath(d["file"]), root)
    return data


def loaded_files(snap: dict) -> set[str]:
    """Files whose every DAG the engine loaded (and could serialize)."""
    files = {d["file"] for d in snap["dags"].values()}
    bad = set(snap["errors"]) | {d["file"] for d in snap["dags"].values() if "error" in d}
    return files - bad


def _render_differences(a: list | None, b: list | None) -> list[str]:
    """Per run, the templated fields both releases have must render the same;
    a task Airflow 2 could not render must fail in Airflow 3 too."""
    if a is None or b is None:
        return [] if a == b else [f"rendered {a!r} -> {b!r}"]
    out = []
    for n, (x, y) in enumerate(zip(a, b, strict=False)):
        if "<error>" in x:
            # Airflow 2 computes yesterday/tomorrow for every run; at the ends
            # of the calendar (a start date of datetime.min) that overflows.
            if "<error>" not in y and not x["<error>"].startswith("OverflowError"):
                out.append(f"run {n}: Airflow 2 failed ({x['<error>']}), Airflow 3 did not")
            continue
        if "<error>" in y:
            out.append(f"run {n}: {y['<error>']}")
            continue
        for key in sorted(set(x) & set(y)):
            if x[key] != y[key]:
                out.append(f"run {n}: {key} {x[key]!r} -> {y[key]!r}")
    return out


def differences(before: dict, after: dict, *, times: bool = True) -> dict[str, list[str]]:
    """{file: [difference, ...]} for every file that loaded in ``before``:
    a file missing or failing in ``after``, a DAG or task that differs.
    ``times=False`` compares run start times but not logical dates and
    intervals (a trigger timetable has other ones by design)."""
    out: dict[str, list[str]] = {}
    for f in sorted(loaded_files(before)):
        problems: list[str] = []
        if f in after["errors"]:
            problems.append(f"does not load: {after['errors'][f]}")
        dags_a = {k: v for k, v in before["dags"].items() if v["file"] == f}
        dags_b = {k: v for k, v in after["dags"].items() if v["file"] == f}
        if not problems and set(dags_a) != set(dags_b):
            problems.append(f"DAG ids {sorted(dags_a)} became {sorted(dags_b)}")
        for dag_id in sorted(set(dags_a) & set(dags_b)):
            problems += [
                f"{dag_id}: {p}" for p in _dag_differences(dags_a[dag_id], dags_b[dag_id], times)
            ]
        if problems:
            out[f] = problems
    return out


def _dag_differences(a: dict, b: dict, times: bool) -> list[str]:
    if "error" in b:
        return [b["error"]]
    out = []
    scheduled = any(r[0] == "scheduled" for r in a["runs"])
    if scheduled and a["catchup"] != b["catchup"]:  # catch-up means nothing to a manual DAG
        out.append(f"catchup {a['catchup']} -> {b['catchup']}")
    runs_a = [r[:2] if not times else r for r in a["runs"]]
    runs_b = [r[:2] if not times else r for r in b["runs"]]
    if runs_a != runs_b:
        out.append(f"runs {a['runs']} -> {b['runs']}")
    if set(a["tasks"]) != set(b["tasks"]):
        out.append(f"tasks {sorted(a['tasks'])} -> {sorted(b['tasks'])}")
    for tid in sorted(set(a["tasks"]) & set(b["tasks"])):
        ta, tb = a["tasks"][tid], b["tasks"][tid]
        for key in ("downstream", "trigger_rule", "retries", "owner"):
            if ta[key] != tb[key]:
                out.append(f"{tid}.{key} {ta[key]!r} -> {tb[key]!r}")
        out += [f"{tid} {p}" for p in _render_differences(ta["rendered"], tb["rendered"])]
    return out


if __name__ == "__main__":  # pragma: no cover - a debugging aid
    print(json.dumps(snapshot(sys.argv[1], sys.argv[2]), indent=1))


def airflow2_examples(python: str | os.PathLike) -> list[Path]:
    """The example DAG files that ship with the Airflow 2 of ``python``."""
    site = Path(python).parent.parent / "lib"
    return sorted(
        p
        for p in site.glob("python3*/site-packages/airflow/example_dags/*.py")
        if p.name != "__init__.py"
    )


def stage(sources: dict[str, list[Path]], folder: Path) -> dict[str, Path]:
    """Copy each set of files into ``folder/<set>/``: {relative path: copy}."""
    out = {}
    for name, files in sources.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for f in files:
            target = folder / name / f.name
            target.write_bytes(f.read_bytes())
            out[f"{name}/{f.name}"] = target
    return out
