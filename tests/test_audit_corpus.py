"""End to end on real files: each corpus/audit entry yields the codes it was
written for (and the clean DAG none), and the whole corpus/ is audited without
a crash. Entries of an engine whose frontend is not installed are skipped."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wfconv.audit.run import Options, Reporter, audit

ROOT = Path(__file__).resolve().parent.parent
AUDIT = ROOT / "corpus" / "audit"
NOW = datetime(2026, 1, 1, tzinfo=UTC)

# entry -> (engine, codes it must produce). Checked as a subset: frontends may add
# informational diagnostics of their own.
EXPECT: dict[str, tuple[str | None, set[str]]] = {
    "cycle.py": ("airflow", {"AU001"}),
    "duplicate_task.py": ("airflow", {"AU002"}),
    "isolated.py": ("airflow", {"AU004"}),
    "oozie_unreachable": ("oozie", {"AU005"}),
    "collision_a.py": ("airflow", {"AU006"}),
    "collision_b.py": ("airflow", {"AU006"}),
    "removed_rule.py": ("airflow", {"AU206"}),
    "no_start_date.py": ("airflow", {"AU101"}),
    "dynamic_start.py": ("airflow", {"AU102"}),
    "catchup_2015.py": ("airflow", {"AU103", "AU406"}),
    "never_fires.py": ("airflow", {"AU104"}),
    "end_before_start.py": ("airflow", {"AU105"}),
    "bad_cron.py": ("airflow", {"AU106"}),
    "airflow2_removals.py": ("airflow", {"AU201", "AU202", "AU203", "AU204", "AU205"}),
    "bash_template.py": ("airflow", {"AU301", "AU302"}),
    "sensors.py": ("airflow", {"AU401", "AU402"}),
    "branch.py": ("airflow", {"AU405", "AU409"}),
    "retries.py": ("airflow", {"AU403"}),
    "trigger_rules.py": ("airflow", {"AU404", "AU408"}),
    "heavy_toplevel.py": ("airflow", {"AU407"}),
    "syntax_error.py": ("airflow", {"AU901"}),
    "not_utf8.py": (None, {"AU902"}),
    "no_dag.py": ("airflow", {"AU905"}),
}

# Codes a file must NOT produce (the look-alikes next to each problem).
QUIET: dict[str, set[str]] = {
    "clean.py": {"AU"},  # nothing at all from the audit
    "bash_template.py": set(),
    "luigi_retries.py": {"AU403"},  # per-task retries are the Luigi idiom
}


def _has_frontend(engine: str | None) -> bool:
    return engine is None or importlib.util.find_spec(f"wfconv.frontends.{engine}") is not None


class Collect(Reporter):
    def __init__(self):
        self.by_file: dict[str, list] = {}
        self.results = []

    def file(self, result, findings):
        self.results.append(result)
        for f in findings:
            self.by_file.setdefault(_entry(f.path), []).append(f)

    def cross_file(self, findings):
        for f in findings:
            self.by_file.setdefault(_entry(f.path), []).append(f)


def _entry(path: str) -> str:
    p = Path(path).resolve()
    return p.relative_to(AUDIT).parts[0] if p.is_relative_to(AUDIT) else str(p)


@pytest.fixture(scope="module")
def audited():
    rep = Collect()
    audit([str(AUDIT)], Options(jobs=2, now=NOW), rep)
    return rep


@pytest.mark.parametrize("entry", sorted(EXPECT))
def test_corpus_entry_yields_its_codes(entry, audited):
    engine, want = EXPECT[entry]
    if not _has_frontend(engine):
        pytest.skip(f"no {engine} frontend yet")
    got = {f.code for f in audited.by_file.get(entry, [])}
    assert want <= got, f"{entry}: want {sorted(want)}, got {sorted(got)}"


def test_clean_dag_has_no_audit_findings(audited):
    if not _has_frontend("airflow"):
        pytest.skip("no airflow frontend yet")
    assert [f for f in audited.by_file.get("clean.py", []) if f.code.startswith("AU")] == []


def test_quiet_entries_do_not_produce_those_codes(audited):
    for entry, prefixes in QUIET.items():
        engine = "luigi" if entry.startswith("luigi") else "airflow"
        if not prefixes or not _has_frontend(engine):
            continue
        got = [f.code for f in audited.by_file.get(entry, []) if f.code.startswith(tuple(prefixes))]
        assert got == [], entry


def test_bash_template_look_alikes_stay_quiet(audited):
    if not _has_frontend("airflow"):
        pytest.skip("no airflow frontend yet")
    tasks = {
        (f.code, f.task)
        for f in audited.by_file.get("bash_template.py", [])
        if f.code in ("AU301", "AU302")
    }
    assert tasks == {("AU301", "broken"), ("AU302", "elsewhere")}


def test_every_corpus_entry_is_listed():
    entries = {p.name for p in AUDIT.iterdir() if p.name not in ("README.md", "scripts")}
    assert entries == set(EXPECT) | set(QUIET)


def test_whole_corpus_is_audited_without_crash_or_timeout():
    rep = Collect()
    summary = audit([str(ROOT / "corpus")], Options(jobs=2, now=NOW), rep)
    assert summary.files == len(rep.results) > 0
    assert summary.audited + summary.failed + sum(summary.skipped.values()) == summary.files
    bad = [
        (r.path, f.message) for r in rep.results for f in r.findings if f.code in ("AU903", "AU904")
    ]
    assert bad == []
