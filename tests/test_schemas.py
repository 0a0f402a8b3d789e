"""Every JSON document wfconv writes is checked against the schema it ships
(wfconv/schemas/, ``wfconv schema --for NAME``), on real outputs."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from click.testing import CliRunner

from wfconv import schemas
from wfconv.cli import main

SRC = "corpus/airflow/etl_basic.py"


@pytest.fixture
def runner(monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart already
        return CliRunner()


def check(name, doc):
    jsonschema.validate(doc, schemas.load(name), format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("name", schemas.NAMES)
def test_every_schema_is_a_valid_schema_and_printed_by_the_cli(runner, name):
    schema = schemas.load(name)
    jsonschema.validators.validator_for(schema).check_schema(schema)
    r = runner.invoke(main, ["schema", "--for", name])
    assert r.exit_code == 0 and json.loads(r.stdout) == schema


def test_parse_output(runner):
    check("ir", json.loads(runner.invoke(main, ["parse", SRC, "corpus/oozie/coord_app"]).stdout))


def test_ledger_file_and_stderr(runner, tmp_path):
    r = runner.invoke(
        main, ["convert", SRC, "--to", "oozie", "-o", str(tmp_path), "--ledger", "json"]
    )
    assert r.exit_code == 0
    doc = json.loads((tmp_path / "wfconv-ledger.json").read_text())
    check("ledger", doc)
    assert doc["entries"]
    bad = copy.deepcopy(doc)
    bad["entries"][0]["stage"] = "later"
    with pytest.raises(jsonschema.ValidationError):
        check("ledger", bad)


def test_audit_json(runner):
    r = runner.invoke(main, ["audit", "corpus/audit", "--no-cache", "-j", "0", "--format", "json"])
    doc = json.loads(r.stdout)
    check("audit", doc)
    assert doc["findings"] and doc["workflows"]


def test_run_json_with_every_attempt(runner):
    r = runner.invoke(
        main,
        [
            "run",
            SRC,
            "--backfill",
            "2024-03-01",
            "2024-03-03",
            "--fail",
            "extract:1",
            "--no-db",
            "--format",
            "json",
            "--detail",
        ],
    )
    doc = json.loads(r.stdout)
    check("run", doc)
    bad = copy.deepcopy(doc)
    bad["runs"][0]["logical_date"] = 1709251200.0  # epoch floats are not the contract
    with pytest.raises(jsonschema.ValidationError):
        check("run", bad)


def test_verify_json(runner):
    r = runner.invoke(main, ["verify", SRC, "--to", "prefect", "--format", "json"])
    check("verify", json.loads(r.stdout))


def test_compare_json(runner):
    r = runner.invoke(main, ["compare", SRC, "--targets", "airflow,oozie", "--format", "json"])
    check("compare", json.loads(r.stdout))
