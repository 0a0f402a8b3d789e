"""`wfconv upgrade` proved in the real engines.

Every Airflow 2 file of the corpus and every example DAG of Airflow 2.10.5 is
upgraded; the originals are loaded in Airflow 2.10.5 and the upgraded files in
Airflow 3.3.2 (one DagBag per folder and release, wfconv/upgrade/engine.py).
For each file that loads in 2.10.5, the DAGs Airflow 3 builds must be the same:
DAG ids, task ids, edges, trigger rules, retries, owners, catch-up, the first
runs (start, logical date, data interval) and every templated field rendered
for each run; for the probe_* tasks of corpus/upgrade also what their Python
callables return. The only files allowed to differ are those whose difference
the upgrade reported as needing a person, and only where it said so.
"""

from __future__ import annotations

import datetime
import io
import json
import sys
import tokenize
from pathlib import Path

import pytest

from wfconv import proc
from wfconv.errors import InputError
from wfconv.frontends import detect_engine
from wfconv.upgrade import Options, upgrade_text
from wfconv.upgrade.engine import (
    airflow2_examples,
    differences,
    loaded_files,
    snapshot,
    stage,
)
from wfconv.upgrade.moves import MODULES, NAMES, airflow1_paths, move_of

pytestmark = [pytest.mark.engine, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
TODAY = datetime.date.today()  # days_ago(n) must mean the same day in both engines

# What may differ, and why: each was reported by the upgrade as needing a person.
EXPECTED = {
    # the sub-DAG factory lives in airflow.example_dags.subdags, which Airflow 3
    # does not ship (UG303)
    "examples/example_subdag_operator.py": ["does not load"],
    # a template shared by DAGs with different schedules (UG402)
    "upgrade/templates.py": ["templates_daily: shared ", "templates_hourly: shared "],
    # prev_ds of an hourly cron in a timezone with daylight saving time (UG402)
    "upgrade/timezones.py": ["new_york_hourly: tick "],
}
TRIGGER_EXPECTED = {
    **EXPECTED,
    # kwargs["prev_ds"] next to a `ds` parameter: no short Python form (UG404)
    "upgrade/context_python.py": ["context_python: probe_names "],
}


def _upgrade_folder(files: dict[str, Path], timetable: str) -> dict[str, list]:
    """Upgrade every Airflow file in place: {relative path: findings}."""
    out = {}
    for rel, path in files.items():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if detect_engine(str(path), text) != "airflow":
            continue
        try:
            result = upgrade_text(rel, text, Options(today=TODAY, timetable=timetable))
        except InputError:
            continue
        path.write_text(result.new, encoding="utf-8")
        out[rel] = result.findings
    return out


@pytest.fixture(scope="module")
def proof(tmp_path_factory, airflow2_python, airflow3_python):
    work = tmp_path_factory.mktemp("upgrade-proof")
    sets = {
        "upgrade": sorted((ROOT / "corpus" / "upgrade").glob("*.py")),
        "airflow": sorted((ROOT / "corpus" / "airflow").glob("*.py")),
        "audit": sorted((ROOT / "corpus" / "audit").glob("*.py")),
        "examples": airflow2_examples(airflow2_python),
    }
    originals = stage(sets, work / "original")
    upgraded = stage(sets, work / "upgraded")
    findings = _upgrade_folder(upgraded, "interval")
    # --timetable trigger on the corpus files (the examples: same code paths).
    trigger = stage({k: v for k, v in sets.items() if k != "examples"}, work / "trigger")
    trigger_findings = _upgrade_folder(trigger, "trigger")
    return {
        "originals": originals,
        "upgraded": upgraded,
        "findings": findings,
        "trigger_findings": trigger_findings,
        "before": snapshot(airflow2_python, work / "original", call_probes="upgrade"),
        # Airflow 3 reads no database while it parses (Airflow 2 does, for SubDAGs).
        "after": snapshot(
            airflow3_python, work / "upgraded", call_probes="upgrade", database=False
        ),
        "trigger": snapshot(
            airflow3_python, work / "trigger", call_probes="upgrade", database=False
        ),
    }


def _unexpected(diffs: dict[str, list[str]], expected: dict[str, list[str]]) -> dict:
    out = {}
    for f, problems in diffs.items():
        allowed = expected.get(f, [])
        bad = [p for p in problems if not any(p.startswith(a) for a in allowed)]
        if bad:
            out[f] = bad
    return out


def test_the_set_is_what_it_should_be(proof):
    loaded = loaded_files(proof["before"])
    corpus = {f"upgrade/{p.name}" for p in (ROOT / "corpus" / "upgrade").glob("*.py")}
    assert corpus <= loaded, "every corpus/upgrade file must load in Airflow 2.10.5"
    assert len([f for f in loaded if f.startswith("examples/")]) >= 45
    assert len(loaded) >= 55


def test_upgraded_files_load_in_airflow_3_and_keep_their_dags_runs_and_renders(proof):
    diffs = differences(proof["before"], proof["after"])
    assert _unexpected(diffs, EXPECTED) == {}
    assert set(diffs) == set(EXPECTED)  # the expected differences are real
    # ... and each was reported as needing a person.
    for f in EXPECTED:
        kinds = {x.kind for x in proof["findings"][f]}
        assert "manual" in kinds, f


def test_the_check_sees_a_changed_meaning(proof, airflow3_python):
    """The same comparison over the corpus/airflow files as they were (not
    upgraded): Airflow 3 refuses some and runs the others at other times. The
    check is not blind."""
    folder = proof["originals"]["airflow/etl_basic.py"].parent
    raw = snapshot(airflow3_python, folder, database=False)
    raw["errors"] = {f"airflow/{k}": v for k, v in raw["errors"].items()}
    for d in raw["dags"].values():
        d["file"] = f"airflow/{d['file']}"
    before = {
        **proof["before"],
        "dags": {
            k: v for k, v in proof["before"]["dags"].items() if v["file"].startswith("airflow/")
        },
    }
    moved = differences(before, raw)
    problems = [p for ps in moved.values() for p in ps]
    assert any("does not load" in p for p in problems)
    assert any(" runs [[" in p for p in problems)  # a bare cron: one period earlier
    assert any("catchup True -> False" in p for p in problems)
    assert len(moved) >= 5


def test_trigger_timetables_keep_run_start_times_and_renders(proof):
    before = {
        **proof["before"],
        "dags": {
            k: v
            for k, v in proof["before"]["dags"].items()
            if not v["file"].startswith("examples/")
        },
    }
    before["errors"] = {
        k: v for k, v in proof["before"]["errors"].items() if not k.startswith("examples/")
    }
    diffs = differences(before, proof["trigger"], times=False)
    expected = {k: v for k, v in TRIGGER_EXPECTED.items() if not k.startswith("examples/")}
    assert _unexpected(diffs, expected) == {}
    trigger_tables = {d.get("timetable") for d in proof["trigger"]["dags"].values()}
    assert {"CronTriggerTimetable", "DeltaTriggerTimetable"} <= trigger_tables


def _comments(text: str) -> list[str]:
    return [
        t.string
        for t in tokenize.generate_tokens(io.StringIO(text).readline)
        if t.type == tokenize.COMMENT
    ]


def test_every_comment_survives_and_a_second_upgrade_changes_nothing(proof):
    lost, again = {}, []
    for rel in proof["findings"]:
        old = proof["originals"][rel].read_text(encoding="utf-8")
        new = proof["upgraded"][rel].read_text(encoding="utf-8")
        missing = [c for c in _comments(old) if c not in _comments(new)]
        if missing:
            lost[rel] = missing
        if upgrade_text(rel, new, Options(today=TODAY)).new != new:
            again.append(rel)
    assert lost == {} and again == []


def test_nothing_left_for_ruffs_airflow_3_fixes(proof):
    """After the upgrade, ruff's AIR3 rules have no fix left to make: the
    import table is a superset of ruff's (the rest are reported, e.g. UG303)."""
    folder = next(iter(proof["upgraded"].values())).parent.parent
    ruff = Path(sys.executable).with_name("ruff")
    out = proc.run(
        [
            str(ruff),
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "AIR3",
            "--preview",
            "--output-format",
            "json",
            "--exit-zero",
            str(folder),
        ],
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    fixable = [
        f"{Path(d['filename']).name}:{d['location']['row']} {d['code']} {d['message']}"
        for d in json.loads(out.stdout)
        if d.get("fix") and d.get("code")
    ]
    assert fixable == []


_IMPORT_ALL = """
import importlib, json, sys
missing = []
for module, name in json.load(sys.stdin):
    try:
        if not hasattr(importlib.import_module(module), name):
            missing.append(f"{module}.{name}")
    except ImportError as exc:
        missing.append(f"{module}.{name}: {exc}")
print(json.dumps(missing))
"""


def test_every_import_target_exists_in_airflow_3(airflow3_python, tmp_path):
    """Each place the table sends a name to imports in Airflow 3.3.2, for the
    packages installed there (core, task SDK, standard, smtp, common-sql)."""
    targets = set(NAMES.values())

    for module, names in airflow1_paths().items():
        for name in names:
            move = move_of(module, name)
            if move is not None and not move.removed:
                targets.add((move.module, move.name))
    targets |= {(new, None) for new in MODULES.values()}
    installed = (
        "airflow.sdk",
        "airflow.providers.standard",
        "airflow.providers.smtp",
        "airflow.providers.common.sql",
    )
    checked = sorted((m, n) for m, n in targets if n and m.startswith(installed))
    modules = sorted(m for m, n in targets if n is None)
    done = proc.run(
        [str(airflow3_python), "-c", _IMPORT_ALL],
        input=json.dumps(checked + [(m, "__name__") for m in modules]).encode(),
        timeout=300,
        env={"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.decode().strip().splitlines()[-1]) == []
    assert len(checked) > 40
