"""The issue's hostile inputs (tests/fixtures/hostile/), as a user meets them:
no internal error, a ledger entry or a ``path:line: message`` for what
cannot be done, and emitted code that loads. Exit codes and messages of the
commands that check inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wfconv.cli import main
from wfconv.errors import InputError
from wfconv.frontends import load_path

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
INPUTS = sorted(
    p
    for engine in ("airflow", "prefect", "luigi", "oozie")
    for p in (HOSTILE / engine).iterdir()
    if p.suffix in (".py", ".xml") or p.is_dir()
)
TARGETS = ("airflow", "prefect", "luigi", "oozie")


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setenv("WFCONV_LUIGI_TIMEOUT", "10")
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart already
        return CliRunner()


def _ok(result, path: Path) -> None:
    """No internal error; exit 2 only with a message naming the input."""
    text = result.stdout + result.stderr
    assert "internal error" not in text and "Traceback" not in text, text[-2000:]
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 2:
        first = next(line for line in result.stderr.splitlines() if line.strip())
        assert first.startswith(str(path)), first


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_command_on_every_hostile_input(runner, tmp_path, path):
    for args in (
        ["parse", str(path)],
        ["audit", str(path), "-j", "0", "--no-cache", "--fail-on", "never"],
        ["run", str(path), "--no-db", "--date", "2024-03-01"],
        *(["convert", str(path), "--to", t, "-o", str(tmp_path / t)] for t in TARGETS),
    ):
        r = runner.invoke(main, args)
        _ok(r, path)
        assert r.exit_code in (0, 1, 2), (args, r.exit_code)


def _codes(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for w in load_path(path).workflows:
        for d in w.diagnostics:
            out.setdefault(d.code, []).append(d.message)
    return out


def test_an_invalid_cron_is_an_invalid_workflow(runner, tmp_path):
    path = HOSTILE / "airflow" / "cron_zero.py"
    assert "IR009" in _codes(path)
    r = runner.invoke(main, ["convert", str(path), "--to", "prefect", "-o", str(tmp_path)])
    assert r.exit_code == 2
    assert f"{path}:8: workflow 'cron_zero': cron schedule '*/0 * * * *' is not valid" in r.stderr
    r = runner.invoke(
        main, ["convert", str(HOSTILE / "airflow" / "cron_4300_digits.py"), "--to", "oozie"]
    )
    assert r.exit_code == 2 and "IR009" in r.stderr


def test_retries_and_durations_no_engine_can_hold_are_capped(tmp_path):
    (w,) = load_path(HOSTILE / "airflow" / "huge_numbers.py").workflows
    assert w.task("retry_2_64").retries == w.task("retry_200m").retries == 10_000
    assert sum(d.code == "IR010" for d in w.diagnostics) == 2
    (forever, many) = load_path(HOSTILE / "luigi" / "retry_counts.py").workflows[0].tasks
    assert {forever.retries, many.retries} == {10_000}


def test_the_static_evaluator_refuses_what_costs_gigabytes():
    (w,) = load_path(HOSTILE / "airflow" / "huge_numbers.py").workflows
    notes = " ".join(d.message for d in w.diagnostics)
    for what in ("power", "formatted field", "ljust()", "zfill()", "center()", "repetition"):
        assert what in notes, what
    assert "comprehension of more than 100,000 iterations" in notes  # a billion items


def test_runtime_expressions_where_a_writer_needs_a_mapping_are_dropped_with_ir008():
    (w,) = load_path(HOSTILE / "airflow" / "runtime_fields.py").workflows
    assert "env" not in w.task("env").action.fields
    assert "conf" not in w.task("conf").action.fields
    assert w.task("conf_values").action.fields["conf"] == {
        "x": {"__expr__": 'os.environ.get("SETTINGS")'}
    }
    codes = _codes(HOSTILE / "airflow" / "runtime_fields.py")
    # env is the Airflow reader's own case (AF111: kept as source text in
    # extra.airflow.kwargs); op_args, op_kwargs and conf are dropped by the IR.
    assert len(codes["IR008"]) == 3 and len(codes["AF111"]) == 1
    (p,) = load_path(HOSTILE / "prefect" / "run_deployment_dict.py").workflows
    confs = [t.action.fields.get("conf") for t in p.tasks]
    assert confs == [{"x": "{{ params.n }}", "y": 'os.environ["Y"]'}, {"a": 1, "b": 2}, None]


def test_long_ids_get_file_names_the_file_system_accepts(runner, tmp_path):
    path = HOSTILE / "airflow" / "long_ids.py"
    for target in TARGETS:
        r = runner.invoke(
            main, ["convert", str(path), "--to", target, "-o", str(tmp_path / target)]
        )
        assert r.exit_code == 0, r.stderr
        assert all(len(p.name) <= 255 for p in (tmp_path / target).rglob("*"))


@pytest.mark.engine
def test_emitted_prefect_modules_import_in_prefect(runner, tmp_path):
    """Flow names with / % & < >, a parameter with a leading underscore, a
    flow named None: the modules import, and the ledger says what changed."""
    out = tmp_path / "out"
    r = runner.invoke(
        main, ["convert", str(HOSTILE / "prefect" / "names.py"), "--to", "prefect", "-o", str(out)]
    )
    assert r.exit_code == 0, r.stderr
    assert "BP130" in r.stderr and "BP205" in r.stderr
    for src in (HOSTILE / "airflow" / "names.py", HOSTILE / "oozie" / "jinja_argument.xml"):
        r = runner.invoke(main, ["convert", str(src), "--to", "prefect", "-o", str(out / src.stem)])
        assert r.exit_code == 0, r.stderr
    # (the flows beside wfconv's helper module, which some of them import)
    modules = sorted(p for p in out.rglob("*.py") if p.name != "wfconv_prefect.py")
    assert len(modules) == 4
    code = "import importlib.util, os, sys\nfor p in sys.argv[1:]:\n    sys.path.insert(0, os.path.dirname(p))\n    s = importlib.util.spec_from_file_location('m', p)\n    importlib.util.module_from_spec(s).__spec__.loader.exec_module(importlib.util.module_from_spec(s))\n"
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, modules)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_control_characters_the_oozie_writer_replaces_are_in_the_ledger(runner, tmp_path):
    r = runner.invoke(
        main,
        ["convert", str(HOSTILE / "airflow" / "names.py"), "--to", "oozie", "-o", str(tmp_path)],
    )
    assert r.exit_code == 0, r.stderr
    assert "BO703" in r.stderr  # the table wraps messages to the width: read them whole
    ledger = json.loads((tmp_path / "wfconv-ledger.json").read_text())
    assert any(e["code"] == "BO703" and "U+0001, U+001B" in e["message"] for e in ledger["entries"])


def test_a_utf16_workflow_goes_through_the_same_entity_refusal(runner):
    app = HOSTILE / "oozie" / "utf16_entity_app"
    r = runner.invoke(main, ["parse", str(app)])
    assert r.exit_code == 2
    assert f"{app / 'workflow.xml'}:2: XML entity declarations are refused" in r.stderr
    (w,) = load_path(
        HOSTILE / "oozie" / "utf16_big_endian.xml"
    ).workflows  # no BOM, declared UTF-16
    assert w.id == "utf16"


def test_an_unknown_timezone_too_long_for_a_file_name_is_unknown(runner):
    (w,) = load_path(HOSTILE / "oozie" / "long_timezone_app").workflows
    assert w.schedule.timezone == "UTC"
    assert any("unknown timezone" in d.message for d in w.diagnostics)


def test_verify_and_compare_on_a_file_without_workflows_exit_2(runner, tmp_path):
    empty = tmp_path / "nothing.py"
    empty.write_text("from airflow import DAG\n")
    for cmd in (["verify", str(empty), "--to", "prefect"], ["compare", str(empty)]):
        r = runner.invoke(main, cmd)
        assert r.exit_code == 2, r.stdout
        assert f"{empty}: no workflow found" in r.stderr


def test_audit_select_with_an_unknown_code_exits_2(runner):
    r = runner.invoke(
        main,
        [
            "audit",
            str(ROOT / "corpus" / "airflow" / "etl_basic.py"),
            "--select",
            "AU1,XYZ9",
            "--no-cache",
            "-j",
            "0",
        ],
    )
    assert r.exit_code == 2
    assert "--select: unknown code(s) 'XYZ9'" in r.stderr
    for known in ("AU1", "AF2", "LG040", "IR004"):
        r = runner.invoke(
            main,
            [
                "audit",
                str(ROOT / "corpus" / "airflow" / "etl_basic.py"),
                "--select",
                known,
                "--no-cache",
                "-j",
                "0",
                "--fail-on",
                "never",
            ],
        )
        assert r.exit_code == 0, (known, r.stderr)


def test_from_engine_on_another_engines_file_says_what_the_file_is(runner):
    path = ROOT / "corpus" / "oozie" / "decision_default.xml"
    r = runner.invoke(main, ["parse", "--from", "airflow", str(path)])
    assert r.exit_code == 2
    assert r.stderr.startswith(
        f"{path}:1: this is an oozie file, not airflow (drop --from, or use --from oozie)"
    )


def test_a_folder_converts_every_valid_file_and_reports_every_invalid_one(runner, tmp_path):
    src = tmp_path / "dags"
    src.mkdir()
    (src / "good.py").write_text((ROOT / "corpus" / "airflow" / "etl_basic.py").read_text())
    (src / "broken.py").write_text("from airflow import DAG\nx = (\n")
    (src / "cycle.py").write_text((ROOT / "corpus" / "airflow" / "cycle.py").read_text())
    (src / "also_broken.py").write_text("from airflow import DAG\ny = )\n")
    out = tmp_path / "out"
    r = runner.invoke(main, ["convert", str(src), "--to", "prefect", "-o", str(out)])
    assert r.exit_code == 2
    errors = [line for line in r.stderr.splitlines() if line.startswith(str(src))]
    assert [e.split(":")[0] for e in errors] == [
        str(src / "also_broken.py"),
        str(src / "broken.py"),
        str(src / "cycle.py"),
    ]
    assert (out / "sales_etl.py").is_file()
    ledger = json.loads((out / "wfconv-ledger.json").read_text())
    assert {e["path"] for e in ledger["entries"] if e["severity"] == "error"} == {
        str(src / "also_broken.py"),
        str(src / "broken.py"),
        str(src / "cycle.py"),
    }


def test_a_file_nested_too_deeply_names_itself(tmp_path):
    path = tmp_path / "deep.py"
    path.write_text("import luigi\nx = 1" + " + 1" * 200_000 + "\n")
    with pytest.raises(InputError) as err:
        load_path(path, static=True)
    assert err.value.path == str(path)
    assert "nested too deeply" in err.value.message


def test_a_note_met_on_every_step_of_a_comprehension_is_one_entry():
    codes = _codes(HOSTILE / "prefect" / "repeated_notes.py")
    assert len(codes["PF108"]) == 1, codes["PF108"][:3]


@pytest.mark.parametrize("target", ["airflow", "prefect", "luigi"])
def test_output_files_never_shadow_a_module_their_engine_imports(runner, tmp_path, target):
    """A DAG called ``numbers`` or ``prefect`` does not become numbers.py /
    prefect.py: the output folder is first on sys.path when the file runs, and
    such a file would replace the standard library's or the engine's module."""
    src = tmp_path / "dags.py"
    src.write_text(
        "from datetime import datetime\n"
        "from airflow import DAG\n"
        "from airflow.operators.bash import BashOperator\n"
        "for name in ('numbers', 'Prefect', 'logging'):\n"
        "    with DAG(name, start_date=datetime(2024, 1, 1), schedule=None) as dag:\n"
        "        BashOperator(task_id='hello', bash_command='echo hello')\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    r = runner.invoke(main, ["convert", str(src), "--to", target, "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    names = {p.name for p in out.glob("*.py")}
    assert {"numbers_.py", "Prefect_.py", "logging_.py"} <= names, names
    assert not names & {"numbers.py", "Prefect.py", "prefect.py", "logging.py"}
    files = json.loads((out / "wfconv-ledger.json").read_text(encoding="utf-8"))["files"]
    assert files.get("numbers") == ["numbers_.py"], files
    if target == "prefect":
        # The emitted flow module imports with its folder first on sys.path.
        probe = subprocess.run(
            [sys.executable, "-c", "import numbers_, logging_; print(numbers_.numbers.name)"],
            cwd=out,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert probe.returncode == 0, probe.stderr
        assert probe.stdout.strip() == "numbers"
