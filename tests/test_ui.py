"""``wfconv ui`` in a real browser (Debian's Chromium driven by Playwright),
``wfconv runs`` and what ``wfconv run`` prints.

The store is written by ``wfconv run`` itself: a simulated week of a corpus
DAG with a task failing once (a retry), a day where a task fails for good,
and a real local-executor run whose task fails, prints to its log and is
retried. The server runs in a thread on an ephemeral loopback port and is
stopped by its fixture. Screenshots of every page kind go to
``$WFCONV_ARTEFACTS/ui-screenshots`` (default: pytest's tmp folder).
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from wfconv.cli import main
from wfconv.ir.jsonio import dumps
from wfconv.ir.model import Action, Bundle, Edge, Schedule, Task, Workflow

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ETL = str(ROOT / "corpus/airflow/etl_basic.py")


def wfconv(*args, ok=(0,)):
    # wide enough that no table wraps, whatever the worker's COLUMNS says
    res = CliRunner().invoke(main, [str(a) for a in args], env={"COLUMNS": "200"})
    assert res.exit_code in ok, res.output + (res.stderr if res.stderr_bytes else "")
    return res


def flaky_workflow(folder: Path) -> Path:
    """A shell task that fails (exit 3, 'boom' in its log) and succeeds on its retry."""
    w = Workflow(
        "flaky_demo",
        schedule=Schedule("cron", cron="0 6 * * *"),
        start_date="2024-01-01T00:00:00+00:00",
        tasks=[
            Task("extract", Action("shell", {"command": "echo extracting {{ ds }}"})),
            Task(
                "flaky",
                Action(
                    "shell",
                    {
                        "command": "test -f done.flag || { touch done.flag; echo boom; exit 3; }; "
                        "echo fine on try {{ ti.try_number }}"
                    },
                ),
                retries=2,
                retry_delay_s=1,
            ),
        ],
        edges=[Edge("extract", "flaky")],
    )
    path = folder / "flaky.json"
    path.write_text(dumps(Bundle([w])))
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("store")
    db = folder / "runs.sqlite"
    wfconv(
        "run", ETL, "--backfill", "2024-01-01", "2024-01-08", "--fail", "transform:1", "--db", db
    )
    wfconv("run", ETL, "--date", "2024-01-09", "--fail", "extract", "--db", db, ok=(1,))
    flaky = flaky_workflow(folder)
    cwd = os.getcwd()
    os.chdir(folder)  # the flaky task's flag file lands here
    try:
        local = wfconv("run", flaky, "--date", "2024-03-01", "--executor", "local", "--db", db)
    finally:
        os.chdir(cwd)
    return {"db": db, "local_stderr": local.stderr}


@pytest.fixture(scope="module")
def migration():
    from wfconv.ui.migration import Migration

    m = Migration([str(ROOT / "corpus/airflow")], cache_dir=None)
    m.run_all()
    return m


@pytest.fixture(scope="module")
def server(store, migration):
    from wfconv.ui.app import create_app
    from wfconv.ui.server import Background

    with Background(create_app(store["db"], migration)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (the README's test command installs it)")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield ctx
        finally:
            ctx.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    base = os.environ.get("WFCONV_ARTEFACTS")
    folder = Path(base) / "ui-screenshots" if base else tmp_path_factory.mktemp("ui-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    yield page
    page.close()


def run_id(db, run_id_text: str) -> int:
    import sqlite3

    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT id FROM runs WHERE run_id=?", (run_id_text,)).fetchone()[0]
    finally:
        con.close()


# -- the browser ------------------------------------------------------------
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.mark.slow
def test_every_page_kind_loads_without_console_errors(server, store, migration, page, shots):
    etl = run_id(store["db"], "backfill__2024-01-03T06:00:00+00:00")
    key = next(k for k, e in migration.workflows.items() if e.id == "sales_etl")
    pages = {
        "runs": "/runs",
        "grid": "/runs/grid?workflow=sales_etl",
        "run": f"/runs/{etl}",
        "task": f"/runs/{etl}/task?task=transform",
        "migration": "/migration",
        "migration-workflow": f"/migration/workflow?w={quote(key, safe='')}&target=prefect",
        "compare": "/compare",
        "compare-workflow": f"/compare/workflow?w={quote(key, safe='')}",
    }
    for name, path in pages.items():
        response = page.goto(server + path)
        assert response.status == 200, (name, response.status)
        assert page.evaluate("document.body.dataset.page") == name
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        assert page.errors == [], (name, page.errors)
    assert sorted(p.stem for p in shots.glob("*.png")) == sorted(pages)


@pytest.mark.slow
def test_the_grid_shows_a_week_a_retry_and_a_failure(server, page):
    page.goto(server + "/runs/grid?workflow=sales_etl")
    cells = page.locator("#grid td.cell a")
    states = {
        (a["run"], a["task"]): (a["state"], a["title"])
        for a in cells.evaluate_all(
            "els => els.map(e => ({run: e.dataset.run, task: e.dataset.task,"
            " state: e.dataset.state, title: e.title}))"
        )
    }
    runs = sorted({int(r) for r, _ in states})
    assert len(runs) == 8  # the backfilled week and the failed day
    week, failed_day = runs[:7], runs[7]
    for r in week:
        state, title = states[(str(r), "transform")]
        assert state == "success" and "2 tries" in title  # failed once, retried
        assert states[(str(r), "report")][0] == "success"
    assert states[(str(failed_day), "extract")][0] == "failed"
    assert states[(str(failed_day), "transform")][0] == "upstream_failed"
    # the cells are coloured as the legend says
    colour = page.locator(f'#grid a[data-run="{failed_day}"][data-task="extract"]').evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert colour == "rgb(224, 49, 49)"


@pytest.mark.slow
def test_clicking_a_task_shows_its_log_exit_code_and_command(server, page, shots):
    page.goto(server + "/runs/grid?workflow=flaky_demo")
    page.locator('#grid a[data-task="flaky"]').click()
    page.wait_for_selector("h2#attempt-2")
    assert "/task?task=flaky" in page.url
    logs = page.locator("pre.log").all_inner_texts()
    assert logs == ["boom\n", "fine on try 2\n"]
    assert page.locator("td.exit-code").all_inner_texts() == ["3", "0"]
    commands = page.locator("pre.command").all_inner_texts()
    assert "echo fine on try 1" in commands[0] and "echo fine on try 2" in commands[1]
    assert page.errors == []


@pytest.mark.slow
def test_a_migration_page_lists_every_file_of_the_folder(server, migration, page):
    from wfconv.audit.run import collect_paths

    page.goto(server + "/migration")
    listed = set(
        page.locator("#migration tbody tr").evaluate_all("rs => rs.map(r => r.dataset.path)")
    )
    assert listed == set(collect_paths([str(ROOT / "corpus/airflow")]))
    # search, filter and sort are query parameters the form and headers set
    page.fill("input[name=q]", "etl_basic")
    page.click("button[type=submit]")
    rows = page.locator("#migration tbody tr")
    assert rows.count() == 1 and "sales_etl" in rows.inner_text()
    page.goto(server + "/migration?show=workflows&sort=tasks&dir=desc")
    first = page.locator("#migration tbody tr").first.inner_text()
    most = max(migration.workflows.values(), key=lambda e: len(e.workflow.tasks))
    assert most.id in first


@pytest.mark.slow
def test_a_run_in_progress_refreshes_itself(tmp_path, page):
    from wfconv.ir.jsonio import load
    from wfconv.runtime.scenario import Scenario
    from wfconv.runtime.schedule import run_for_date
    from wfconv.runtime.store import LiveRecorder, RunStore
    from wfconv.ui.app import create_app
    from wfconv.ui.server import Background

    wf = load(flaky_workflow(tmp_path)).workflows[0]
    st = RunStore(tmp_path / "live.sqlite")
    info = run_for_date(wf, datetime(2024, 3, 1, tzinfo=UTC), "data_interval")
    run = st.begin_run(wf, info, Scenario(), "local", start=time.time())
    with Background(create_app(tmp_path / "live.sqlite", None)) as url:
        page.goto(f"{url}/runs/grid?workflow=flaky_demo")
        assert page.evaluate("document.body.dataset.live") == "1"
        assert page.locator('#grid a[data-task="extract"]').get_attribute("data-state") == "none"
        LiveRecorder(st, run).event("extract", 1, "running", time.time())
        page.wait_for_selector('#grid a[data-task="extract"][data-state="running"]', timeout=10_000)
        st.db.execute("UPDATE runs SET state='success', end=? WHERE id=?", (time.time(), run))
        page.wait_for_function("document.body.dataset.live === '0'", timeout=10_000)
    st.close()
    assert page.errors == []


# -- the server, without a browser -----------------------------------------
def _get(url: str, host: str | None = None):
    req = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _listening(pid: int) -> list[str]:
    """Local addresses of the TCP sockets ``pid`` listens on (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == "0A" and f[9] in inodes:  # 0A: LISTEN
                addr, port = f[1].split(":")
                if len(addr) == 8:
                    ip = socket.inet_ntop(socket.AF_INET, bytes.fromhex(addr)[::-1])
                else:
                    raw = bytes.fromhex(addr)
                    ip = socket.inet_ntop(
                        socket.AF_INET6, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    )
                out.append(f"{ip}:{int(port, 16)}")
    return out


def test_wfconv_ui_listens_on_localhost_only(store, tmp_path):
    from wfconv import proc

    wfconv_bin = Path(sys.executable).parent / "wfconv"
    err = tmp_path / "stderr.txt"
    with open(err, "wb") as sink:
        child = proc.start(
            [str(wfconv_bin), "ui", "--db", str(store["db"]), "--port", "0", ETL],
            cwd=tmp_path,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 30
        while "http://" not in err.read_text() and time.monotonic() < deadline:
            assert child.poll() is None, err.read_text()
            time.sleep(0.1)
        url = re.search(r"http://\S+?(?=/)", err.read_text()).group(0)
        addresses = _listening(child.pid)
        assert addresses and all(a.startswith("127.0.0.1:") for a in addresses), addresses
        assert _get(url + "/runs")[0] == 200
        # a page elsewhere pointing its own DNS name at 127.0.0.1 is refused
        assert _get(url + "/runs", host="attacker.example")[0] == 400
    finally:
        child.stop()
    assert child.poll() is not None


def test_bad_input_to_wfconv_ui_is_a_usage_error(tmp_path):
    res = CliRunner().invoke(main, ["ui", "--db", str(tmp_path / "none.sqlite")])
    assert res.exit_code == 2 and "no run store" in res.stderr
    res = CliRunner().invoke(main, ["ui", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "no such file or directory" in res.stderr
    res = CliRunner().invoke(main, ["ui", "--targets", "cobol"])
    assert res.exit_code == 2 and "unknown target" in res.stderr


def test_the_corpus_migration_gives_every_workflow_a_verdict_per_target(server, migration):
    """``wfconv ui corpus/airflow``: every workflow `wfconv parse` finds there
    is listed with a verdict for each of the four targets."""
    parsed = json.loads(wfconv("parse", ROOT / "corpus/airflow", ok=(0, 2)).stdout)
    ids = sorted(w["id"] for w in parsed["workflows"])
    assert sorted(e.id for e in migration.workflows.values()) == ids
    status, body = _get(server + "/migration?show=workflows")
    assert status == 200
    cells = re.findall(r'data-target="(\w+)" data-verdict="([\w ]+)"', body)
    assert len(cells) == 4 * len(ids)
    assert {v for _, v in cells} <= {"equivalent", "differs", "not verified", "error"}
    assert "pending" not in {v for _, v in cells}
    status, body = _get(server + "/compare")
    assert status == 200 and body.count('href="/compare/workflow?w=') == len(ids)


# -- wfconv runs and wfconv run's output -----------------------------------
def test_runs_list_show_and_logs(store):
    db = store["db"]
    out = wfconv("runs", "list", "--db", db, "--workflow", "sales_etl", "--limit", "3").stdout
    lines = out.splitlines()
    assert lines[0].split() == [
        "ID",
        "WORKFLOW",
        "RUN",
        "ID",
        "STATE",
        "DURATION",
        "EXECUTOR",
        "TASKS",
    ]
    assert "manual__2024-01-09" in lines[1] and "failed" in lines[1]
    assert "(3 of 8 runs" in lines[-1]
    doc = json.loads(
        wfconv("runs", "list", "--db", db, "--state", "failed", "--format", "json").stdout
    )
    assert doc["total"] == 1 and doc["runs"][0]["tasks"]["upstream_failed"] >= 1
    rid = run_id(db, "manual__2024-03-01T00:00:00+00:00")
    show = wfconv("runs", "show", str(rid), "--db", db).stdout
    assert re.search(r"flaky\s+success\s+2", show)
    logs = wfconv("runs", "logs", "manual__2024-03-01T00:00:00+00:00", "flaky", "--db", db).stdout
    first, log1, second, log2 = logs.splitlines()
    assert re.fullmatch(
        r"--- flaky attempt 1: failed, .+, exit code 3 \(exit code 3: boom\)", first
    )
    assert re.fullmatch(r"--- flaky attempt 2: success, .+, exit code 0", second)
    assert (log1, log2) == ("boom", "fine on try 2")
    res = CliRunner().invoke(main, ["runs", "logs", str(rid), "nope", "--db", str(db)])
    assert res.exit_code == 2 and "no task 'nope'" in res.stderr
    res = CliRunner().invoke(main, ["runs", "show", "999999", "--db", str(db)])
    assert res.exit_code == 2 and "no run '999999'" in res.stderr


def test_a_local_run_says_when_it_retries(store):
    assert re.search(
        r"^manual__2024-03-01T00:00:00\+00:00: flaky: attempt 1 failed \(exit code 3: boom\); "
        r"retry 2 at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in [^)]+\)$",
        store["local_stderr"],
        re.M,
    ), store["local_stderr"]


def test_a_long_backfill_ends_with_a_summary_not_tables(tmp_path):
    out = wfconv(
        "run", ETL, "--backfill", "2024-01-01", "2024-03-31", "--no-db", "--fail", "transform:1"
    ).stdout
    lines = out.splitlines()
    assert len(lines) == 2, out
    assert re.fullmatch(
        r"sales_etl: 90 runs from 2024-01-01 06:00:00 to 2024-03-30 06:00:00: 90 success; "
        r"a run took \d+m \d\ds on average",
        lines[0],
    )
    assert "every run succeeded" in lines[1]
    detail = wfconv("run", ETL, "--backfill", "2024-01-01", "2024-01-08", "--no-db", "--detail")
    assert detail.stdout.count("TASK") == 7
    one = wfconv("run", ETL, "--date", "2024-01-01", "--no-db").stdout
    assert "0.0" not in one and re.search(r"extract\s+success\s+1\s+1 s", one)


def test_human_durations():
    from wfconv.ui.text import duration

    assert [duration(x) for x in (None, 0.000825882, 0.5, 1, 1.25, 42, 298, 7500, 200000)] == [
        "-",
        "<1 ms",
        "500 ms",
        "1 s",
        "1.2 s",
        "42 s",
        "4m 58s",
        "2h 05m",
        "2d 7h",
    ]


def test_an_old_store_is_read_and_upgraded(tmp_path):
    """A store written before exit codes and retry times were recorded."""
    import sqlite3

    from wfconv.runtime.store import SCHEMA, RunStore
    from wfconv.ui.history import History

    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    con.executescript(
        SCHEMA.replace("  next_try REAL,\n", "").replace("  exit_code INTEGER,\n", "")
    )
    con.execute("INSERT INTO runs (workflow, run_id, state) VALUES ('w', 'r1', 'success')")
    con.execute("INSERT INTO attempts (run, task, attempt, state) VALUES (1, 't', 1, 'success')")
    con.commit()
    con.close()
    with History(db) as h:
        assert h.attempts(1)[0].exit_code is None
    RunStore(db).close()  # wfconv run adds the columns
    con = sqlite3.connect(db)
    cols = {r[1] for r in con.execute("PRAGMA table_info(attempts)")}
    con.close()
    assert "exit_code" in cols
