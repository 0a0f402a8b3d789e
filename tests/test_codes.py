"""The one table of codes (wfconv.codes): every code the code base emits is in
it, one code has one severity in every command, the docs are generated from it,
and the outputs built on it (explain, SARIF rules, --statistics, GitHub and
GitLab annotations) match what their consumers document."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from wfconv import codes
from wfconv.audit.codes import CODES as AUDIT_CODES
from wfconv.audit.codes import DIAGNOSTIC_MAP
from wfconv.cli import main
from wfconv.codes.docs import PAGES, render_page
from wfconv.ir.model import Diagnostic

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = "|".join(codes.FAMILIES)
FAMILY_CODE = re.compile(rf"""["']((?:{FAMILIES})\d{{3}})["']""")
# Writer codes that still name two facts of different weight; their split is
# the writers' to make. This list may only shrink.
VARIES = {"BA124", "BP107", "BP109", "BP110", "BP117", "BL204", "BL301", "BL501", "BO102", "BO701"}


def emitted_codes() -> set[str]:
    found = set()
    for py in ROOT.glob("wfconv/**/*.py"):
        if py.parent.name == "codes" or py.name == "codes.py":
            continue
        found |= set(FAMILY_CODE.findall(py.read_text(encoding="utf-8")))
    return found


def test_every_code_in_the_code_base_is_in_the_table():
    used = emitted_codes()
    assert len(used) > 150
    assert not sorted(used - set(codes.table()))


def test_every_entry_has_a_severity_a_summary_and_a_page():
    for c in codes.table().values():
        assert c.severity in (*codes.SEVERITIES, "varies"), c
        assert c.summary and c.doc.startswith("docs/") and "#" in c.doc, c
        assert (ROOT / c.doc.partition("#")[0]).is_file(), c
    assert {c.code for c in codes.table().values() if c.severity == "varies"} <= VARIES


def test_a_renamed_diagnostic_keeps_its_severity_in_the_audit():
    for origin, audit_code in DIAGNOSTIC_MAP.items():
        assert codes.get(origin).severity == AUDIT_CODES[audit_code].severity, (origin, audit_code)


def test_a_diagnostic_takes_the_table_severity():
    assert Diagnostic("info", "AF203", "moved").severity == "warning"
    assert Diagnostic("info", "ZZ999", "unknown code").severity == "info"
    assert Diagnostic("warning", "BA124", "varies").severity == "warning"


def test_backend_code_lists_are_in_the_table():
    from wfconv.backends import airflow, luigi, oozie, prefect

    for mod in (airflow, luigi, oozie, prefect):
        assert set(mod.CODES) <= set(codes.table()), mod.__name__


@pytest.mark.parametrize("page", sorted(PAGES))
def test_docs_tables_are_generated_from_the_table(page):
    text = (ROOT / page).read_text(encoding="utf-8")
    assert render_page(text, *PAGES[page]) == text, "run: python -m wfconv.codes --write-docs"


def test_the_same_finding_has_one_severity_in_convert_and_audit(tmp_path):
    dag = tmp_path / "old.py"
    dag.write_text(
        "from airflow import DAG\n"
        "from airflow.operators.bash_operator import BashOperator\n"
        "with DAG('old', schedule=None):\n"
        "    BashOperator(task_id='a', bash_command='echo hi')\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    conv = runner.invoke(main, ["convert", str(dag), "--to", "prefect", "--ledger", "json"])
    ledger = json.loads(conv.stderr[conv.stderr.index("{") :])
    af = [e for e in ledger["entries"] if e["code"] == "AF203"]
    aud = runner.invoke(main, ["audit", str(dag), "--no-cache", "-j", "0", "--format", "json"])
    au = [f for f in json.loads(aud.output)["findings"] if f["code"] == "AU203"]
    assert af and au and {e["severity"] for e in af} == {f["severity"] for f in au} == {"warning"}
    # ... and it is no loss: the conversion writes the replacement.
    strict = runner.invoke(main, ["convert", str(dag), "--to", "airflow", "--strict"])
    assert strict.exit_code == 0, strict.stderr


def test_explain_prints_the_entry():
    r = CliRunner().invoke(main, ["explain", "AU203"])
    assert r.exit_code == 0
    assert r.output.startswith("AU203 (audit finding, warning)")
    assert "How to fix:" in r.output and "docs/audit.md#finding-codes" in r.output
    r = CliRunner().invoke(main, ["explain", "af101", "RT101"])
    assert (
        "AF101 (Airflow reader, warning)" in r.output
        and "RT101 (reference runtime, info)" in r.output
    )


def test_explain_json_and_all_cover_the_table():
    r = CliRunner().invoke(main, ["explain", "--all", "--format", "json"])
    rows = json.loads(r.output)
    assert {x["code"] for x in rows} == set(codes.table())
    r = CliRunner().invoke(main, ["explain", "--all"])
    assert len([ln for ln in r.output.splitlines() if re.match(r"[A-Z]{2}\d{3} ", ln)]) == len(rows)


def test_explain_refuses_an_unknown_code():
    r = CliRunner().invoke(main, ["explain", "XX123"])
    assert r.exit_code == 2 and "unknown code 'XX123'" in r.output


# -- audit outputs ---------------------------------------------------------------

AUDIT_SRC = ROOT / "corpus" / "audit"


def audit(*args):
    return CliRunner().invoke(main, ["audit", str(AUDIT_SRC), "--no-cache", "-j", "0", *args])


def test_sarif_rules_describe_every_code_with_a_help_uri_in_the_repo():
    doc = json.loads(audit("--format", "sarif").output)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    ids = {r["ruleId"] for r in doc["runs"][0]["results"]}
    assert {r["id"] for r in rules} == ids and any(not i.startswith("AU") for i in ids)
    for r in rules:
        c = codes.get(r["id"])
        assert r["shortDescription"]["text"] == c.summary
        assert r["fullDescription"]["text"].startswith(c.summary)
        assert r["helpUri"] == c.doc and (ROOT / c.doc.partition("#")[0]).is_file()
        assert c.doc in r["help"]["text"]


def test_statistics_counts_each_code():
    full = json.loads(audit("--format", "json", "--fail-on", "never").output)
    stats = json.loads(audit("--statistics", "--format", "json").output)
    assert {s["code"]: s["count"] for s in stats} == full["summary"]["findings_by_code"]
    counts = [s["count"] for s in stats]
    assert counts == sorted(counts, reverse=True)
    table = audit("--statistics").output
    first = stats[0]
    assert re.search(rf"^\s*{first['count']}\s+{first['code']}\s+{first['severity']}", table, re.M)
    assert audit("--statistics", "--format", "sarif").exit_code == 2


# GitHub's workflow command: ::LEVEL key=value,...::message, where the message
# escapes %, CR, LF and property values also ':' and ','.
GITHUB_LINE = re.compile(r"^::(error|warning|notice) ((?:[a-z]+=[^,:]*)(?:,[a-z]+=[^,:]*)*)::(.*)$")


def test_github_annotations_are_workflow_commands():
    out = audit("--format", "github").output.splitlines()
    full = json.loads(audit("--format", "json").output)["findings"]
    assert len(out) == len(full)
    for line, f in zip(out, full, strict=True):
        m = GITHUB_LINE.match(line)
        assert m, line
        props = dict(p.split("=", 1) for p in m.group(2).split(","))
        assert props["file"] == f["path"] and props["title"] == f["code"]
        assert props.get("line") == (str(f["line"]) if f["line"] else None)
        assert {"error": "error", "warning": "warning", "info": "notice"}[f["severity"]] == m.group(
            1
        )


def test_github_escaping():
    from wfconv.audit.annotations import github_line
    from wfconv.audit.model import Finding

    line = github_line(Finding("AU001", "error", "a%b\nc", "d,x:y.py", 3))
    assert line == "::error file=d%2Cx%3Ay.py,line=3,title=AU001::AU001 a%25b%0Ac"


# GitLab's Code Quality report: an array of issues with these documented fields.
GITLAB_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string"},
            "check_name": {"type": "string"},
            "fingerprint": {"type": "string"},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string"},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}


def test_gitlab_code_quality_report():
    doc = json.loads(audit("--format", "gitlab").output)
    jsonschema.validate(doc, GITLAB_SCHEMA)
    full = json.loads(audit("--format", "json").output)["findings"]
    assert [d["check_name"] for d in doc] == [f["code"] for f in full]
    fingerprints = [d["fingerprint"] for d in doc]
    assert len(set(fingerprints)) == len(fingerprints)
