"""The audit driver and CLI: parallel order, per-file timeout, crashes as
findings, cache, select/ignore, baseline, exit codes and the four formats.

Files are IR JSON documents; a few are routed to the fake frontend below
(registered for the ``ir`` engine) that hangs, dies or raises on demand.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from wfconv.audit.report import JsonReporter, TableReporter
from wfconv.audit.run import Options, Reporter, audit
from wfconv.cli import main
from wfconv.frontends import FRONTENDS
from wfconv.frontends import irjson as _irjson

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def parse(path, text=None, **options):
    """Fake frontend: misbehaves when the file asks for it."""
    if text and "HANG" in text:
        while True:
            time.sleep(0.05)
    if text and "DIE" in text:
        os._exit(3)
    if text and "BOOM" in text:
        raise ValueError("boom")
    if text and "SLOW" in text:
        time.sleep(0.2)
    return _irjson.parse(path, text, **options)


@pytest.fixture
def fake_frontend(monkeypatch):
    monkeypatch.setitem(FRONTENDS, "ir", __name__)


def ir_doc(wid, tasks=("a", "b"), edges=(("a", "b"),), note="", **wf):
    doc = {
        "wfconv_ir": 1,
        "workflows": [
            {
                "id": wid,
                "description": note or None,
                "tasks": [
                    {
                        "id": t,
                        "action": {"kind": "shell", "command": "echo"},
                        "source": {"engine": "airflow", "path": "x.py", "line": i + 3},
                    }
                    for i, t in enumerate(tasks)
                ],
                "edges": [{"from": a, "to": b} for a, b in edges],
                "source": {"engine": "airflow", "path": "x.py", "line": 1},
                **wf,
            }
        ],
    }
    return json.dumps(doc, indent=1)


class Collect(Reporter):
    def __init__(self):
        self.results, self.findings, self.cross, self.summary = [], [], [], None

    def file(self, result, findings):
        self.results.append(result)
        self.findings += findings

    def cross_file(self, findings):
        self.cross += findings

    def end(self, summary):
        self.summary = summary


def run(paths, **kw):
    kw.setdefault("jobs", 2)
    kw.setdefault("now", NOW)
    rep = Collect()
    summary = audit([str(p) for p in paths], Options(**kw), rep)
    return rep, summary


def test_results_come_back_in_path_order_whatever_finishes_first(tmp_path, fake_frontend):
    for i in range(24):
        (tmp_path / f"f{i:02d}.json").write_text(
            ir_doc(f"wf{i}", note="SLOW" if i % 5 == 0 else "")
        )
    rep, s = run([tmp_path], jobs=3)
    assert [Path(r.path).name for r in rep.results] == [f"f{i:02d}.json" for i in range(24)]
    assert s.files == s.audited == 24 and s.workflows == 24


def test_hanging_dying_and_crashing_files_become_findings_and_the_audit_goes_on(
    tmp_path, fake_frontend
):
    (tmp_path / "a_ok.json").write_text(ir_doc("ok1"))
    (tmp_path / "b_hang.json").write_text(ir_doc("h", note="HANG"))
    (tmp_path / "c_die.json").write_text(ir_doc("d", note="DIE"))
    (tmp_path / "d_boom.json").write_text(ir_doc("b", note="BOOM"))
    (tmp_path / "e_ok.json").write_text(ir_doc("ok2"))
    t0 = time.monotonic()
    rep, s = run([tmp_path], jobs=2, timeout=1.0)
    assert time.monotonic() - t0 < 15
    by_file = {Path(r.path).name: r for r in rep.results}
    assert [f.code for f in by_file["b_hang.json"].findings] == ["AU903"]
    assert [f.code for f in by_file["c_die.json"].findings] == ["AU904"]
    assert "exit code 3" in by_file["c_die.json"].findings[0].message
    boom = by_file["d_boom.json"].findings[0]
    assert boom.code == "AU904" and "ValueError: boom" in boom.message
    assert by_file["a_ok.json"].status == by_file["e_ok.json"].status == "audited"
    assert s.failed == 3 and s.audited == 2


def test_files_queued_behind_a_hanging_or_dying_file_are_still_audited(tmp_path, fake_frontend):
    # One worker holds several files at once: those behind the one it hangs
    # or dies on go to its replacement.
    names = ["a_ok", "b_hang", "c_ok", "d_die", "e_ok", "f_ok"]
    for name in names:
        note = {"b_hang": "HANG", "d_die": "DIE"}.get(name, "")
        (tmp_path / f"{name}.json").write_text(ir_doc(name, note=note))
    rep, s = run([tmp_path], jobs=1, timeout=1.0)
    codes = {Path(r.path).stem: [f.code for f in r.findings] for r in rep.results}
    assert list(codes) == names
    assert codes["b_hang"] == ["AU903"] and codes["d_die"] == ["AU904"]
    assert s.audited == 4 and s.failed == 2


def test_parse_errors_unreadable_files_and_non_workflows(tmp_path):
    (tmp_path / "bad.json").write_text('{"wfconv_ir": 1, "workflows": [ }')
    (tmp_path / "latin1.py").write_bytes(b"# caf\xe9\nimport airflow\n")
    (tmp_path / "notes.json").write_text('{"hello": 1}')
    (tmp_path / "util.py").write_text("import os\n")
    rep, s = run([tmp_path], jobs=0)
    by_file = {Path(r.path).name: r for r in rep.results}
    assert by_file["bad.json"].findings[0].code == "AU901"
    assert by_file["bad.json"].findings[0].line == 1
    (enc,) = by_file["latin1.py"].findings
    assert (enc.code, enc.line) == ("AU902", 1)
    assert s.skipped == Counter({"not a workflow file": 2})
    assert s.files == 4 and s.failed == 2


def test_cache_warm_run_is_identical_and_served_from_cache(tmp_path, fake_frontend):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(6):
        (src / f"f{i}.json").write_text(ir_doc(f"w{i}", tasks=("a", "b", "c"), edges=(("a", "b"),)))
    cache = tmp_path / "cache"
    cold, s1 = run([src], cache_dir=str(cache))
    warm, s2 = run([src], cache_dir=str(cache))
    assert s1.cached == 0 and s2.cached == 6
    assert [f.to_dict() for f in cold.findings] == [f.to_dict() for f in warm.findings]
    assert any(f.code == "AU004" for f in warm.findings)
    # A changed file is audited again; a different reference date misses the cache.
    (src / "f0.json").write_text(ir_doc("w0"))
    again, s3 = run([src], cache_dir=str(cache))
    assert s3.cached == 5 and not [f for f in again.findings if f.path.endswith("f0.json")]
    _, s4 = run([src], cache_dir=str(cache), now=datetime(2026, 2, 1, tzinfo=UTC))
    assert s4.cached == 0


def test_timeouts_are_not_cached(tmp_path, fake_frontend):
    (tmp_path / "h.json").write_text(ir_doc("h", note="HANG"))
    run([tmp_path], cache_dir=str(tmp_path / "c"), timeout=0.5)
    _, s = run([tmp_path], cache_dir=str(tmp_path / "c"), timeout=0.5)
    assert s.cached == 0


LUIGI_MODULE = """import luigi


class Extract(luigi.Task):
    def output(self):
        return luigi.LocalTarget("/tmp/x")


class Report(luigi.Task):
    def requires(self):
        return Extract()

    def output(self):
        return luigi.LocalTarget("/tmp/y")
"""


def test_workflow_id_collisions_across_files(tmp_path):
    (tmp_path / "a.py").write_text(LUIGI_MODULE)
    (tmp_path / "b.py").write_text(LUIGI_MODULE)
    (tmp_path / "c.py").write_text(LUIGI_MODULE.replace("Report", "Other"))
    (tmp_path / "report_ir.json").write_text(
        ir_doc("Report")
    )  # IR restates a source: not a collision
    rep, _ = run([tmp_path], jobs=0)
    assert [(Path(f.path).name, f.code, f.workflow, f.line) for f in rep.cross] == [
        ("a.py", "AU006", "Report", 9),
        ("b.py", "AU006", "Report", 9),
    ]
    assert "luigi workflow id 'Report' is also defined at " in rep.cross[0].message
    assert rep.cross[0].message.endswith("b.py:9")


def test_select_and_ignore_take_prefixes_and_frontend_origins(tmp_path):
    doc = json.loads(ir_doc("w", tasks=("a", "b", "c"), edges=(("a", "b"), ("b", "a"))))
    doc["workflows"][0]["diagnostics"] = [
        {
            "severity": "info",
            "code": "AF201",
            "message": "schedule_interval",
            "path": "x.py",
            "line": 1,
        }
    ]
    (tmp_path / "w.json").write_text(json.dumps(doc))
    all_codes = {f.code for f in run([tmp_path], jobs=0)[0].findings}
    assert {"AU001", "AU004", "AU201"} <= all_codes
    assert {f.code for f in run([tmp_path], jobs=0, select=("AU0",))[0].findings} == {
        "AU001",
        "AU004",
    }
    assert {f.code for f in run([tmp_path], jobs=0, select=("AF2",))[0].findings} == {"AU201"}
    assert {f.code for f in run([tmp_path], jobs=0, ignore=("au00", "AU2"))[0].findings} == set()


# -- CLI ---------------------------------------------------------------------------------


def cli(*args):
    return CliRunner().invoke(main, ["audit", "--no-cache", "--now", "2026-01-01", *map(str, args)])


@pytest.fixture
def small_corpus(tmp_path):
    (tmp_path / "cyclic.json").write_text(ir_doc("cyc", edges=(("a", "b"), ("b", "a"))))
    (tmp_path / "lonely.json").write_text(ir_doc("lone", tasks=("a", "b", "c")))
    (tmp_path / "readme.json").write_text("{}")
    return tmp_path


def test_cli_table_and_exit_codes(small_corpus):
    r = cli(small_corpus, "-j", "1")
    assert r.exit_code == 1, r.output
    assert "AU001 error [cyc/a] cycle: a -> b -> a" in r.output
    assert (
        "3 files: 2 audited, 0 unreadable/unparsable, 1 skipped (1 not a workflow file)" in r.output
    )
    assert cli(small_corpus, "--ignore", "AU001").exit_code == 0
    assert cli(small_corpus, "--ignore", "AU001", "--fail-on", "warning").exit_code == 1
    assert cli(small_corpus, "--fail-on", "never").exit_code == 0
    assert cli(tmp := small_corpus / "nope").exit_code == 2 and "no such file" in cli(tmp).output


def test_cli_metrics(small_corpus):
    r = cli(small_corpus / "lonely.json", "--metrics", "-j", "0")
    assert "workflow lone: 3 tasks, 1 edges, depth 2, width 2" in r.output


def test_cli_json_and_baseline(small_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("o") / "base.json"
    r = cli(small_corpus, "--format", "json", "-o", out)
    assert r.exit_code == 1
    doc = json.loads(out.read_text())
    assert doc["summary"]["files"] == 3 and doc["summary"]["findings"]["error"] == 1
    assert {w["id"] for w in doc["workflows"]} == {"cyc", "lone"}
    assert [f["status"] for f in doc["files"]] == ["audited", "audited", "skipped"]
    # Same corpus against its own baseline: nothing new, exit 0. Lines may move freely.
    text = (small_corpus / "cyclic.json").read_text()
    (small_corpus / "cyclic.json").write_text("\n\n" + text)
    r = cli(small_corpus, "--baseline", out)
    assert r.exit_code == 0, r.output
    assert "findings: 0 error, 0 warning, 0 info" in r.output
    # A new problem is reported.
    (small_corpus / "new.json").write_text(ir_doc("new", edges=(("a", "b"), ("b", "a"))))
    r = cli(small_corpus, "--baseline", out)
    assert r.exit_code == 1 and "[new/a] cycle" in r.output and "[cyc/a]" not in r.output
    bad = out.with_name("bad.json")
    bad.write_text("[1]")
    assert cli(small_corpus, "--baseline", bad).exit_code == 2


# A trimmed copy of the SARIF 2.1.0 schema (oasis-tcs/sarif-spec, Schemata/sarif-schema-2.1.0.json):
# every object wfconv writes, with its required fields, enums and closed property lists.
def _obj(props, required=(), **extra):
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {p: props.get(p, {}) for p in props},
        "required": list(required),
        **extra,
    }


_MSG = {"$ref": "#/definitions/message"}
_MFS = _obj(
    {"text": {"type": "string"}, "markdown": {"type": "string"}, "properties": {"type": "object"}},
    ["text"],
)
SARIF_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "definitions": {
        "message": {
            **_obj(
                {
                    "text": {"type": "string"},
                    "markdown": {},
                    "id": {},
                    "arguments": {},
                    "properties": {},
                }
            ),
            "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
        },
        "artifactLocation": _obj(
            {
                "uri": {"type": "string", "format": "uri-reference"},
                "uriBaseId": {"type": "string"},
                "index": {},
                "description": {},
                "properties": {},
            }
        ),
        "region": _obj(
            {
                "startLine": {"type": "integer", "minimum": 1},
                "startColumn": {},
                "endLine": {},
                "endColumn": {},
                "charOffset": {},
                "charLength": {},
                "byteOffset": {},
                "byteLength": {},
                "snippet": {},
                "message": {},
                "sourceLanguage": {},
                "properties": {},
            }
        ),
        "location": _obj(
            {
                "id": {},
                "physicalLocation": _obj(
                    {
                        "address": {},
                        "artifactLocation": {"$ref": "#/definitions/artifactLocation"},
                        "region": {"$ref": "#/definitions/region"},
                        "contextRegion": {},
                        "properties": {},
                    }
                ),
                "logicalLocations": {},
                "message": {},
                "annotations": {},
                "relationships": {},
                "properties": {},
            }
        ),
        "reportingDescriptor": _obj(
            {
                "id": {"type": "string"},
                "deprecatedIds": {},
                "guid": {},
                "deprecatedGuids": {},
                "name": {"type": "string"},
                "deprecatedNames": {},
                "shortDescription": _MFS,
                "fullDescription": _MFS,
                "messageStrings": {},
                "defaultConfiguration": _obj(
                    {
                        "enabled": {},
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "rank": {},
                        "parameters": {},
                        "properties": {},
                    }
                ),
                "helpUri": {"type": "string", "format": "uri"},
                "help": _MFS,
                "relationships": {},
                "properties": {"type": "object"},
            },
            ["id"],
        ),
        "result": _obj(
            {
                "ruleId": {"type": "string"},
                "ruleIndex": {},
                "rule": {},
                "kind": {},
                "level": {"enum": ["none", "note", "warning", "error"]},
                "message": _MSG,
                "analysisTarget": {},
                "locations": {"type": "array", "items": {"$ref": "#/definitions/location"}},
                "guid": {},
                "correlationGuid": {},
                "occurrenceCount": {},
                "partialFingerprints": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
                "fingerprints": {},
                "stacks": {},
                "codeFlows": {},
                "graphs": {},
                "graphTraversals": {},
                "relatedLocations": {},
                "suppressions": {},
                "baselineState": {},
                "rank": {},
                "attachments": {},
                "hostedViewerUri": {},
                "workItemUris": {},
                "provenance": {},
                "fixes": {},
                "taxa": {},
                "webRequest": {},
                "webResponse": {},
                "properties": {"type": "object"},
            },
            ["message"],
        ),
    },
    **_obj(
        {
            "$schema": {"type": "string", "format": "uri"},
            "version": {"enum": ["2.1.0"]},
            "runs": {
                "type": "array",
                "items": _obj(
                    {
                        "tool": _obj(
                            {
                                "driver": _obj(
                                    {
                                        "guid": {},
                                        "name": {"type": "string"},
                                        "organization": {},
                                        "product": {},
                                        "productSuite": {},
                                        "shortDescription": {},
                                        "fullDescription": {},
                                        "fullName": {},
                                        "version": {"type": "string"},
                                        "semanticVersion": {"type": "string"},
                                        "dottedQuadFileVersion": {},
                                        "releaseDateUtc": {},
                                        "downloadUri": {},
                                        "informationUri": {"type": "string", "format": "uri"},
                                        "globalMessageStrings": {},
                                        "notifications": {},
                                        "rules": {
                                            "type": "array",
                                            "items": {"$ref": "#/definitions/reportingDescriptor"},
                                        },
                                        "taxa": {},
                                        "locations": {},
                                        "language": {},
                                        "contents": {},
                                        "isComprehensive": {},
                                        "localizedDataSemanticVersion": {},
                                        "minimumRequiredLocalizedDataSemanticVersion": {},
                                        "associatedComponent": {},
                                        "translationMetadata": {},
                                        "supportedTaxonomies": {},
                                        "properties": {},
                                    },
                                    ["name"],
                                ),
                                "extensions": {},
                                "properties": {},
                            },
                            ["driver"],
                        ),
                        "invocations": {
                            "type": "array",
                            "items": {"type": "object", "required": ["executionSuccessful"]},
                        },
                        "originalUriBaseIds": {
                            "type": "object",
                            "additionalProperties": {"$ref": "#/definitions/artifactLocation"},
                        },
                        "results": {"type": "array", "items": {"$ref": "#/definitions/result"}},
                        "properties": {"type": "object"},
                        "conversion": {},
                        "language": {},
                        "artifacts": {},
                        "automationDetails": {},
                        "columnKind": {},
                    },
                    ["tool"],
                ),
            },
            "inlineExternalProperties": {},
            "properties": {},
        },
        ["version", "runs"],
    ),
}


def test_cli_sarif_matches_the_schema_and_names_rules(small_corpus, tmp_path_factory):
    doc_in = json.loads(ir_doc("af", tasks=("a",), edges=()))
    doc_in["workflows"][0]["diagnostics"] = [
        {"severity": "info", "code": "AF301", "message": "opaque", "path": "x.py", "line": 2}
    ]
    (small_corpus / "af.json").write_text(json.dumps(doc_in))
    out = tmp_path_factory.mktemp("s") / "a.sarif"
    r = cli(small_corpus, "--format", "sarif", "-o", out)
    assert r.exit_code == 1
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SARIF_SCHEMA, format_checker=jsonschema.FormatChecker())
    run_ = doc["runs"][0]
    rules = {r["id"]: r for r in run_["tool"]["driver"]["rules"]}
    assert {res["ruleId"] for res in run_["results"]} == set(rules) == {"AU001", "AU004", "AF301"}
    cyc = next(res for res in run_["results"] if res["ruleId"] == "AU001")
    assert (
        cyc["level"] == "error"
        and cyc["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    )
    assert cyc["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "cyclic.json"
    )
    assert rules["AU001"]["defaultConfiguration"]["level"] == "error"
    assert next(res for res in run_["results"] if res["ruleId"] == "AF301")["level"] == "note"
    # the schema copy really rejects a broken log
    broken = json.loads(out.read_text())
    del broken["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SARIF_SCHEMA)


def test_cli_html_is_self_contained_and_escaped(small_corpus, tmp_path_factory):
    (small_corpus / "evil.json").write_text(
        ir_doc("<script>x</script>", tasks=("<b>", "c"), edges=(("<b>", "c"),))
    )
    out = tmp_path_factory.mktemp("h") / "a.html"
    r = cli(small_corpus, "--format", "html", "-o", out)
    assert r.exit_code == 1
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "src=" not in page and "<link" not in page
    assert page.count("<svg") == 3 and "cycle: a -&gt; b -&gt; a" in page
    assert page.index("Summary") < page.index("Findings") < page.index("Workflows")


def test_streaming_reporters_write_valid_documents_for_empty_input(tmp_path):
    import io

    buf = io.StringIO()
    audit([str(tmp_path)], Options(jobs=0, now=NOW), JsonReporter(buf))
    doc = json.loads(buf.getvalue())
    assert doc["findings"] == [] and doc["summary"]["files"] == 0
    buf = io.StringIO()
    audit([str(tmp_path)], Options(jobs=0, now=NOW), TableReporter(buf))
    assert "0 files" in buf.getvalue()


def test_sarif_uris_are_percent_encoded_and_a_path_named_twice_is_audited_once(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "my dags"
    d.mkdir()
    (d / "c#1.json").write_text(ir_doc("c", edges=(("a", "b"), ("b", "a"))))
    r = CliRunner().invoke(
        main, ["audit", "--no-cache", "-j", "0", "--format", "sarif", "my dags", "my dags/c#1.json"]
    )
    doc = json.loads(r.output)
    uris = [
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for res in doc["runs"][0]["results"]
    ]
    assert uris == ["my%20dags/c%231.json"]
    assert doc["runs"][0]["properties"]["summary"]["files"] == 1


def test_a_damaged_or_unwritable_cache_only_disables_caching(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "w.json").write_text(ir_doc("w"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "audit-cache.sqlite").write_text("this is not a database")
    rep, s = run([tmp_path / "src"], jobs=0, cache_dir=str(bad))
    assert s.audited == 1 and "cache disabled" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    _, s = run([tmp_path / "src"], jobs=0, cache_dir=str(blocker / "sub"))
    assert s.audited == 1


def test_a_utf8_bom_does_not_hide_a_workflow(tmp_path):
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + ir_doc("bom").encode())
    rep, s = run([tmp_path], jobs=0)
    assert s.audited == 1 and s.workflows == 1


def test_fifos_are_skipped_and_huge_files_reported_without_reading(tmp_path, monkeypatch):
    import wfconv.audit.run as run_mod

    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "big.py").write_text("import airflow\n" + "#" * 200 + "\n")
    monkeypatch.setattr(run_mod, "MAX_FILE_BYTES", 100)
    rep, s = run([tmp_path], jobs=0)
    by_file = {Path(r.path).name: r for r in rep.results}
    assert by_file["pipe.py"].skip_reason == "not a regular file"
    assert (
        by_file["big.py"].findings[0].code == "AU902"
        and "MB" in by_file["big.py"].findings[0].message
    )


def test_progress_bar_only_when_stderr_is_a_terminal(tmp_path, monkeypatch):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for i in range(3):
        (tmp_path / f"w{i}.json").write_text(ir_doc(f"w{i}"))
    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    run([tmp_path], jobs=0, progress=True)
    assert "0/3 [" in term.getvalue() and "file/s" in term.getvalue()  # drawn (then cleared)
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    run([tmp_path], jobs=0, progress=True)
    assert pipe.getvalue() == ""


def test_baseline_ignores_run_counts_that_grow_every_day(tmp_path):
    doc = json.loads(ir_doc("daily", tasks=("a",), edges=()))
    doc["workflows"][0].update(
        schedule={"kind": "cron", "cron": "0 0 * * *", "timezone": "UTC"},
        start_date="2020-01-01T00:00:00+00:00",
        catchup=True,
    )
    (tmp_path / "d.json").write_text(json.dumps(doc))
    out = tmp_path / "base.json"
    r = CliRunner().invoke(
        main,
        [
            "audit",
            "--no-cache",
            "--now",
            "2026-01-01",
            str(tmp_path / "d.json"),
            "--format",
            "json",
            "-o",
            str(out),
        ],
    )
    assert "AU103" in out.read_text()
    r = CliRunner().invoke(
        main,
        [
            "audit",
            "--no-cache",
            "--now",
            "2026-03-01",
            str(tmp_path / "d.json"),
            "--baseline",
            str(out),
            "--fail-on",
            "warning",
        ],
    )
    assert r.exit_code == 0 and "AU103" not in r.output, r.output


def test_a_worker_killed_while_idle_is_replaced(tmp_path, fake_frontend, monkeypatch):
    import signal

    from wfconv.audit import pool as pool_mod

    (tmp_path / "a.json").write_text(ir_doc("a"))
    (tmp_path / "b.json").write_text(ir_doc("b", note="SLOW"))
    (tmp_path / "c.json").write_text(ir_doc("c"))
    started = []
    real = pool_mod._Worker

    class Spy(real):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            started.append(self)

    monkeypatch.setattr(pool_mod, "_Worker", Spy)
    jobs = [
        pool_mod.Job(i, str(tmp_path / n), (tmp_path / n).read_bytes(), "ir")
        for i, n in enumerate(["a.json", "b.json", "c.json"])
    ]

    def feed():
        yield jobs[0]
        yield jobs[1]
        time.sleep(0.5)  # the only worker is idle now (job 1 is not sent yet): kill it
        os.kill(started[0].proc.pid, signal.SIGKILL)
        time.sleep(0.2)
        yield jobs[2]

    out = list(pool_mod.run_jobs(feed(), 1, 10.0, NOW))
    assert [r.status for _, r, _ in out] == ["audited", "audited", "audited"]
    assert len(started) == 2
