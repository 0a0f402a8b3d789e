"""``wfconv run`` as a user sees it: JSON contract, table, exit codes, trace,
store, input errors."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from wfconv.cli import main

DOC = {
    "wfconv_ir": 1,
    "workflows": [
        {
            "id": "etl",
            "schedule": {"kind": "cron", "cron": "0 6 * * *", "timezone": "UTC"},
            "start_date": "2024-01-01T00:00:00+00:00",
            "catchup": False,
            "tasks": [
                {
                    "id": "extract",
                    "action": {"kind": "shell", "command": "extract {{ ds }}"},
                    "retries": 2,
                    "retry_delay_s": 60,
                },
                {
                    "id": "wait",
                    "action": {
                        "kind": "sensor",
                        "sensor": "FileSensor",
                        "poke_interval_s": 30,
                        "timeout_s": 60,
                    },
                },
                {"id": "choose", "action": {"kind": "branch", "callable": "pick"}},
                {"id": "full", "action": {"kind": "empty"}},
                {"id": "delta", "action": {"kind": "empty"}},
                {
                    "id": "report",
                    "action": {"kind": "empty"},
                    "trigger_rule": "none_failed_min_one_success",
                },
            ],
            "edges": [
                {"from": "extract", "to": "choose"},
                {"from": "wait", "to": "choose"},
                {"from": "choose", "to": "full"},
                {"from": "choose", "to": "delta"},
                {"from": "full", "to": "report"},
                {"from": "delta", "to": "report"},
            ],
        }
    ],
}


@pytest.fixture
def ir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "etl.json"
    p.write_text(json.dumps(DOC))
    return p


def invoke(*args):
    return CliRunner().invoke(main, ["run", *map(str, args)])


def test_json_contract_and_exact_times(ir):
    r = invoke(
        ir,
        "--date",
        "2024-03-01",
        "--fail",
        "extract:1",
        "--sensor",
        "wait=2",
        "--branch",
        "choose=delta",
        "--format",
        "json",
        "--no-db",
    )
    assert r.exit_code == 0, r.output
    (run,) = json.loads(r.stdout)["runs"]
    assert set(run) >= {"workflow", "run_id", "logical_date", "state", "tasks"}
    assert run["workflow"] == "etl" and run["state"] == "success"
    assert run["logical_date"] == "2024-03-01T00:00:00+00:00"
    # triggered at the interval end (next 06:00 tick)
    assert run["start"] == "2024-03-01T06:00:00+00:00"
    t = run["tasks"]
    assert t["extract"] == {
        "state": "success",
        "attempts": 2,
        "start": "2024-03-01T06:01:01+00:00",
        "end": "2024-03-01T06:01:02+00:00",
    }
    assert t["wait"]["end"] == "2024-03-01T06:00:30+00:00"  # poke 2 at +30 s
    assert t["full"]["state"] == "skipped" and t["delta"]["state"] == "success"
    assert t["report"]["state"] == "success"


def test_failure_exit_code_and_table(ir):
    r = invoke(ir, "--date", "2024-03-01", "--sensor", "wait=never", "--no-db")
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert lines[0].startswith("etl  manual__2024-03-01T00:00:00+00:00  failed")
    row = next(x for x in lines if x.strip().startswith("wait"))
    assert row.split()[1:3] == ["failed", "1"]
    assert "RT101" not in r.stderr  # the branch never ran: nothing was chosen by default


def test_branch_default_is_announced_on_stderr(ir):
    r = invoke(ir, "--date", "2024-03-01", "--no-db", "--format", "json")
    assert r.exit_code == 0
    assert (
        "RT101: branch 'choose': no scenario choice; followed its first downstream 'full'"
        in r.stderr
    )
    assert json.loads(r.stdout)["runs"][0]["notes"][0]["code"] == "RT101"


def test_backfill_trace_and_store(ir, tmp_path):
    # logical dates in [START, END]: the 06:00 tick of the 3rd is in only with a time.
    r = invoke(
        ir, "--backfill", "2024-01-01", "2024-01-03T06:00", "--trace", "t.jsonl", "--format", "json"
    )
    assert r.exit_code == 0, r.output
    runs = json.loads(r.stdout)["runs"]
    assert [x["logical_date"][:10] for x in runs] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert all(x["run_id"].startswith("backfill__") for x in runs)
    events = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert {e["run_id"] for e in events} == {x["run_id"] for x in runs}
    assert set(events[0]) == {"workflow", "run_id", "task", "attempt", "state", "time"}
    firsts = [(e["task"], e["state"]) for e in events[:3]]
    assert firsts == [("extract", "scheduled"), ("wait", "scheduled"), ("extract", "running")]
    con = sqlite3.connect(tmp_path / ".wfconv" / "runs.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 3
    assert con.execute("SELECT COUNT(*) FROM events").fetchone()[0] == len(events)
    assert (
        con.execute("SELECT COUNT(*) FROM task_instances WHERE state='success'").fetchone()[0] == 15
    )


def test_schedule_driven_runs_with_now(ir):
    r = invoke(ir, "--now", "2024-01-05T07:00:00+00:00", "--catchup", "--no-db", "--format", "json")
    assert [x["logical_date"][:10] for x in json.loads(r.stdout)["runs"]] == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
    ]
    r = invoke(ir, "--now", "2024-01-05T07:00:00+00:00", "--no-db", "--format", "json")
    assert [x["logical_date"][:10] for x in json.loads(r.stdout)["runs"]] == ["2024-01-04"]
    r = invoke(
        ir,
        "--now",
        "2024-01-05T07:00:00+00:00",
        "--timetable",
        "airflow3",
        "--no-db",
        "--format",
        "json",
    )
    assert [x["logical_date"] for x in json.loads(r.stdout)["runs"]] == [
        "2024-01-05T06:00:00+00:00"
    ]


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--fail", "nosuch"], "no task 'nosuch' in"),
        (["--sensor", "wait=0"], "poke number"),
        (["--branch", "choose"], "TASK=ID"),
        (["--date", "yesterday"], "not an ISO date"),
        (["--backfill", "2024-02-01", "2024-01-01"], "END is before START"),
    ],
)
def test_usage_errors_exit_2_without_traceback(ir, args, needle):
    r = invoke(ir, "--no-db", *args)
    assert r.exit_code == 2
    assert needle in r.stderr and "Traceback" not in r.output


def test_invalid_graph_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc = json.loads(json.dumps(DOC))
    doc["workflows"][0]["edges"].append({"from": "report", "to": "extract"})
    (tmp_path / "cyc.json").write_text(json.dumps(doc))
    r = invoke(tmp_path / "cyc.json", "--no-db")
    assert r.exit_code == 2
    assert "cycle" in r.stderr and "Traceback" not in r.output


def test_bad_cron_is_an_input_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc = json.loads(json.dumps(DOC))
    doc["workflows"][0]["schedule"]["cron"] = "61 * * * *"
    (tmp_path / "c.json").write_text(json.dumps(doc))
    r = invoke(tmp_path / "c.json", "--no-db", "--now", "2024-02-01")
    assert r.exit_code == 2 and "cron schedule '61 * * * *' is not valid" in r.stderr


def test_resume_needs_a_known_run(ir):
    r = invoke("--resume", "42", "--db", "x.sqlite")
    assert r.exit_code == 2 and "no run '42'" in r.stderr


def test_real_airflow_dag_from_the_corpus(repo_root):
    """The README demo DAG, read by the Airflow frontend (never imported)."""
    dag = repo_root / "corpus" / "airflow" / "etl_basic.py"
    if not dag.exists():
        pytest.skip("corpus/airflow/etl_basic.py not present")
    r = invoke(
        dag,
        "--date",
        "2024-01-01",
        "--fail",
        "extract:2",
        "--branch",
        "choose_load_mode=incremental_load",
        "--no-db",
        "--format",
        "json",
    )
    assert r.exit_code == 0, r.output
    (run,) = json.loads(r.stdout)["runs"]
    t = run["tasks"]
    # retries=3, retry_delay=5 min from default_args: tries at +0, +301 s, +602 s.
    assert t["extract"]["attempts"] == 3
    assert t["extract"]["start"] == "2024-01-01T06:10:02+00:00"
    assert t["transform"]["start"] == "2024-01-01T06:10:03+00:00"
    assert t["full_load"]["state"] == "skipped" and t["report"]["state"] == "success"
    # The export never arrives: the sensor gives up after its 2 h timeout
    # (last poke at 2 h 2 min, poke_interval 120 s); nothing after it runs.
    r = invoke(
        dag,
        "--date",
        "2024-01-01",
        "--sensor",
        "wait_for_export=never",
        "--no-db",
        "--format",
        "json",
    )
    assert r.exit_code == 1
    (run,) = json.loads(r.stdout)["runs"]
    assert run["tasks"]["wait_for_export"]["end"] == "2024-01-01T08:02:00+00:00"
    assert {
        k: v["state"] for k, v in run["tasks"].items() if k != "wait_for_export"
    } == dict.fromkeys(
        ["extract", "transform", "choose_load_mode", "full_load", "incremental_load", "report"],
        "upstream_failed",
    )


def _stderr_through_pty(argv, cwd):
    """Run argv with stderr on a pseudo-terminal (100 columns); return what it wrote."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import subprocess
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    p = subprocess.Popen(argv, stderr=slave, stdout=subprocess.DEVNULL, cwd=cwd)
    os.close(slave)
    data = b""
    while select.select([master], [], [], 10)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    p.wait(30)
    os.close(master)
    return p.returncode, data.decode(errors="replace")


def test_progress_bar_only_on_a_terminal(ir, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    wfconv = str(Path(sys.executable).parent / "wfconv")
    argv = [
        wfconv,
        "run",
        str(ir),
        "--backfill",
        "2023-01-01",
        "2023-12-31",
        "--no-db",
        "-o",
        "out.txt",
    ]
    rc, err = _stderr_through_pty(argv, tmp_path)
    assert rc == 0
    assert "run/s" in err and "/364" in err  # 06:00 ticks of 2023 up to 12-31T00:00
    assert err.count("RT101") == 1 and "and 363 more run(s)" in err
    plain = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True)
    assert plain.returncode == 0 and "run/s" not in plain.stderr


def test_render_dry_run_shows_commands_per_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc = json.loads(json.dumps(DOC))
    doc["workflows"][0]["params"] = {"bucket": "exports"}
    doc["workflows"][0]["tasks"][0]["action"]["command"] = (
        "load {{ ds }} {{ params.bucket }} {{ prev_ds }} {{ macros.ds_add(ds, -7) }} {{ ts_nodash }}"
    )
    (tmp_path / "r.json").write_text(json.dumps(doc))
    r = invoke(
        tmp_path / "r.json",
        "--backfill",
        "2024-03-01",
        "2024-03-02T06:00",
        "--render",
        "--no-db",
        "--format",
        "json",
    )
    assert r.exit_code == 0, r.output
    cmds = [x["tasks"]["extract"]["command"] for x in json.loads(r.stdout)["runs"]]
    assert cmds == [
        "load 2024-03-01 exports 2024-02-29 2024-02-23 20240301T060000",
        "load 2024-03-02 exports 2024-03-01 2024-02-24 20240302T060000",
    ]
    r = invoke(tmp_path / "r.json", "--date", "2024-03-01T06:00", "--render", "--no-db")
    assert "    $ load 2024-03-01 exports" in r.stdout


def test_render_template_error_is_a_note(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc = json.loads(json.dumps(DOC))
    doc["workflows"][0]["tasks"][0]["action"]["command"] = "load {{ ds "
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    r = invoke(tmp_path / "bad.json", "--date", "2024-03-01", "--render", "--no-db")
    assert r.exit_code == 0
    assert "RT140: task 'extract': template error" in r.stderr
