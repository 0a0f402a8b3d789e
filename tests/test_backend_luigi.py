"""Luigi backend: the emitted module (classes, requires, markers, schedule
entry points, ledger), ruff-clean and deterministic output, hostile strings,
the round trip through the Luigi frontend, and real runs under luigi.build."""

from __future__ import annotations

import ast
import datetime
import importlib
import importlib.util
import itertools
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wfconv.backends import luigi as lb
from wfconv.backends.routing import dissolve_routing
from wfconv.ir.model import Action, Edge, Schedule, Task, Workflow

ROOT = Path(__file__).resolve().parent.parent
RUFF = [str(Path(sys.executable).parent / "ruff"), "check", "--isolated", "--quiet"]


def shell(tid: str, command: str | None = None, **kw) -> Task:
    return Task(
        tid, Action("shell", {"command": command if command is not None else f"echo {tid}"}), **kw
    )


def wf(tasks, edges, **kw) -> Workflow:
    ts = [t if isinstance(t, Task) else shell(t) for t in tasks]
    es = [e if isinstance(e, Edge) else Edge(*e) for e in edges]
    return Workflow(id=kw.pop("id", "etl"), tasks=ts, edges=es, **kw)


def source(e) -> str:
    """The workflow's own module (the helper module is shared, written once)."""
    (text,) = (t for n, t in e.files.items() if n not in e.shared)
    return text


def write(e, folder: Path) -> Path:
    """Every emitted file into ``folder`` (the helper module beside the
    workflow's module, as convert writes them); the workflow's module."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in e.files.items():
        (folder / name).write_text(text, encoding="utf-8")
    (name,) = (n for n in e.files if n not in e.shared)
    return folder / name


def classes(text: str) -> dict[str, ast.ClassDef]:
    return {n.name: n for n in ast.parse(text).body if isinstance(n, ast.ClassDef)}


def attr(cls: ast.ClassDef, name: str):
    for n in cls.body:
        if isinstance(n, ast.Assign) and any(getattr(t, "id", None) == name for t in n.targets):
            return ast.literal_eval(n.value)
    return None


def requires(cls: ast.ClassDef) -> list[str]:
    for d in cls.decorator_list:
        if isinstance(d, ast.Call) and getattr(d.func, "id", None) == "requires":
            return [a.id for a in d.args]
    for n in cls.body:
        if isinstance(n, ast.FunctionDef) and n.name == "requires":
            ret = n.body[-1].value
            return [c.func.id for c in ret.elts]
    return []


def codes(e) -> list[str]:
    return [d.code for d in e.diagnostics]


def ruff_clean(files: dict[str, str], tmp_path: Path) -> str:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    # ruff's default rules, then the project's own selection
    out = ""
    for extra in ([], ["--config", str(ROOT / "pyproject.toml")]):
        cmd = [*RUFF[:2], *extra, *RUFF[3:], str(tmp_path)] if extra else [*RUFF, str(tmp_path)]
        # from the repository, as bench/bench_quality.py runs it: the helper
        # module is a third-party import there, as the Prefect target writes it
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        out += res.stdout + res.stderr
    return out


# ---------------------------------------------------------------------------
# module layout


def test_one_class_per_task_with_requires_retries_and_original_ids():
    w = wf(
        [shell("extract", retries=2, retry_delay_s=900), "group.clean", "load"],
        [("extract", "group.clean"), ("group.clean", "load"), ("extract", "load")],
    )
    e = lb.emit(w)
    text = source(e)
    cls = classes(text)
    assert attr(cls["Extract"], "task_id_original") == "extract"
    assert attr(cls["Extract"], "retry_count") == 3  # Luigi counts failures, not retries
    assert attr(cls["GroupClean"], "task_id_original") == "group.clean"
    assert requires(cls["GroupClean"]) == ["Extract"]
    assert requires(cls["Load"]) == ["GroupClean", "Extract"]
    assert requires(cls["EtlWorkflow"]) == ["Load"]
    assert attr(cls["EtlWorkflow"], "task_id_original") == "etl"
    assert "BL201" not in codes(e)  # 900 s is Luigi's own retry delay
    assert e.files == lb.emit(w).files


def test_generated_module_is_ruff_clean_for_every_action_kind(tmp_path):
    kinds = [
        shell("sh", "grep -c x {{ ds }} | tee out", retries=1, retry_delay_s=60, timeout_s=30),
        Task(
            "py",
            Action(
                "python",
                {
                    "module": "json",
                    "callable": "dumps",
                    "op_args": [[1]],
                    "op_kwargs": {"indent": 2, "not-an-id": 1},
                },
            ),
            retries=3,
            retry_delay_s=60,
        ),
        Task("py_unknown", Action("python", {"callable": "mystery"})),
        Task("nothing", Action("empty"), retries=1, retry_delay_s=30),
        Task("pick", Action("branch", {"callable": "choose"})),
        Task(
            "wait",
            Action(
                "sensor", {"sensor": "FileSensor", "target": "/in/{{ ds }}", "poke_interval_s": 5}
            ),
        ),
        Task("wait2", Action("sensor", {"sensor": "HttpSensor"})),
        Task("mail", Action("email", {"to": ["a@b"], "subject": "s", "body": "b"})),
        Task("box", Action("container", {"image": "alpine", "cmds": ["echo", "hi"]})),
        Task("sq", Action("sql", {"sql": "select 1"})),
        Task("ext", Action("external", {"output": "/data/{{ ds }}/in.csv"})),
        Task("die", Action("fail", {"message": "stop"})),
        Task("cleanup", Action("shell", {"command": "rm -f x"}), trigger_rule="one_failed"),
        Task("fin", Action("empty"), trigger_rule="all_done", pool="db"),
    ]
    ids = [t.id for t in kinds][:-2]
    edges = list(zip(ids, ids[1:], strict=False)) + [
        ("sh", "cleanup"),
        ("cleanup", "fin"),
        ("py", "fin"),
    ]
    w = wf(
        kinds,
        edges,
        params={"bucket": "b", "class": 1, "flags": [1, 2]},
        schedule=Schedule("cron", "0 6 * * *"),
        start_date="2024-01-01T00:00:00+00:00",
    )
    e = lb.emit(w)
    assert ruff_clean(e.files, tmp_path) == ""
    assert {
        "BL101",
        "BL102",
        "BL103",
        "BL104",
        "BL204",
        "BL401",
        "BL402",
        "BL404",
        "BL405",
        "BL201",
    } <= set(codes(e))
    # One scheduler retry_delay: the 60 s two of the three retrying tasks use;
    # only the 30 s task is a loss.
    assert [d.task for d in e.diagnostics if d.code == "BL201"] == ["nothing"]
    text = source(e)
    assert (
        "RETRY_DELAY_S = 60.0" in text and "wfconv_luigi.main(EtlWorkflow, RETRY_DELAY_S)" in text
    )
    assert "class EtlWorkflow(luigi.WrapperTask, EtlTask):" in text
    assert "class EtlTask(wfconv_luigi.DailyTask):" in text
    assert "0 6 * * * cd /path/to/this/folder && python etl.py" in text
    cls = classes(text)
    assert attr(cls["Sh"], "worker_timeout") == 30
    fin = next(
        f for f in cls["Fin"].body if isinstance(f, ast.FunctionDef) and f.name == "resources"
    )
    assert ast.literal_eval(fin.body[0].value) == {"db": 1}


def test_schedules_pick_the_run_identity(tmp_path):
    daily = source(
        lb.emit(
            wf(
                ["a"],
                [],
                schedule=Schedule("cron", "30 2 * * *"),
                start_date="2024-01-01T00:00:00+00:00",
                catchup=False,
            )
        )
    )
    assert "(wfconv_luigi.DailyTask):" in daily and "    catchup = False" in daily
    hourly = source(
        lb.emit(
            wf(
                ["a"],
                [],
                schedule=Schedule("interval", seconds=3600),
                start_date="2024-01-01T00:15:00+00:00",
            )
        )
    )
    assert "(wfconv_luigi.HourlyTask):" in hourly and "    at_minute = 15" in hourly
    weekly = lb.emit(wf(["a"], [], schedule=Schedule("cron", "0 0 * * 1")))
    assert ruff_clean(weekly.files, tmp_path) == ""  # the crontab line's \% escapes
    assert "(wfconv_luigi.RunTask):" in source(weekly)
    assert "0 0 * * 1 cd /path/to/this/folder && WFCONV_RUN_ID=" in source(weekly)
    assert "BL301" in codes(weekly)
    assets = lb.emit(wf(["a"], [], schedule=Schedule("assets", datasets=["s3://x"])))
    assert "BL302" in codes(assets)


def test_error_handler_runs_from_the_failure_event_not_from_requires():
    w = wf(
        [
            "load",
            Task("alert", Action("shell", {"command": "notify"}), trigger_rule="one_failed"),
            Task("stop", Action("fail", {"message": "load failed"})),
        ],
        [("load", "alert"), ("alert", "stop")],
    )
    text = source(lb.emit(w))
    cls = classes(text)
    assert requires(cls["EtlWorkflow"]) == ["Load"]
    assert "@Load.event_handler(luigi.Event.FAILURE)" in text
    assert "wfconv_luigi.run_handlers(task, (Alert, Stop))" in text


def test_a_class_run_callable_builds_the_class_first(tmp_path, monkeypatch):
    """``callable = Class.run`` without Luigi's own record (IR written by
    hand, another engine's class): the class is built with the task's
    parameters and its run() called; a plain object's run is called as is."""
    (tmp_path / "jobs.py").write_text(
        textwrap.dedent("""
        CALLS = []

        class Export:
            def __init__(self, region):
                self.region = region

            def run(self):
                CALLS.append(("Export", self.region))

        class _Runner:
            def run(self):
                CALLS.append(("runner", None))

        runner = _Runner()
    """),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "jobs", raising=False)
    w = wf(
        [
            Task(
                "export",
                Action("python", {"callable": "Export.run", "module": "jobs"}),
                params={"region": "eu"},
            ),
            Task("other", Action("python", {"callable": "runner.run", "module": "jobs"})),
        ],
        [],
    )
    e = lb.emit(w)
    assert "BL401" not in codes(e) and codes(e).count("BL406") == 2
    body = {}
    for cls in classes(source(e)).values():
        run = next(
            (n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "run"), None
        )
        if run is not None:
            body[cls.name] = ast.Module(body=run.body[:-1], type_ignores=[])
    import jobs

    for name in ("Export", "Other"):
        exec(compile(body[name], name, "exec"), {})
    assert jobs.CALLS == [("Export", "eu"), ("runner", None)]


@pytest.mark.parametrize("static", [True, False])
def test_schedule_dates_catchup_and_params_come_back(tmp_path, static):
    """What Luigi cannot hold comes back from the constants the module
    records, as far as the module carries it out; the run identity the
    backend adds is not a workflow parameter."""
    from wfconv.frontends import load

    daily = wf(
        ["a"],
        [],
        schedule=Schedule("cron", "30 6 * * *"),
        catchup=True,
        start_date="2024-01-01T00:00:00+00:00",
        end_date="2024-06-01T00:00:00+00:00",
        params={"date": "2024-03-01", "limit": 5},
    )
    weekdays = wf(
        ["a"],
        [],
        schedule=Schedule("cron", "0 6 * * 1-5"),
        catchup=True,
        start_date="2024-01-01T00:00:00+00:00",
    )
    backs = []
    for i, w in enumerate((daily, weekdays)):
        e = lb.emit(w)
        path = write(e, tmp_path / str(i))
        backs.append((e, load(str(path), "luigi", static=static).workflows[0]))
    (_, d), (e2, c) = backs
    assert (d.schedule.kind, d.schedule.cron) == ("cron", "30 6 * * *")
    assert (d.start_date, d.end_date, d.catchup) == (daily.start_date, daily.end_date, True)
    assert d.params == {"date": "2024-03-01", "limit": 5}  # the workflow's own 'date' (date_)
    assert d.extra["luigi"]["run_param"] == "date"
    assert d.task("a").params == {}  # the shared run and workflow parameters are not the task's
    # a cron line: the schedule is kept, the dates and catchup are not enforced (BL304)
    assert (c.schedule.kind, c.schedule.cron) == ("cron", "0 6 * * 1-5")
    assert (c.start_date, c.catchup) == (None, None)
    assert c.params == {} and c.extra["luigi"]["run_param"] == "run_id"
    assert "BL304" in codes(e2)


def test_an_interval_without_catchup_off_the_hour_is_a_schedule_loss():
    hourly = dict(schedule=Schedule("interval", seconds=3600), catchup=False)
    off = wf(["a"], [], start_date="2024-01-01T00:15:00+00:00", **hourly)
    on = wf(["a"], [], start_date="2024-01-01T00:00:00+00:00", **hourly)

    def warned(e):
        return [d for d in e.diagnostics if d.code == "BL301" and d.severity == "warning"]

    assert warned(lb.emit(off)) and not warned(lb.emit(on))


def test_a_timeout_starts_the_error_handlers_too():
    """Luigi terminates a task over its worker_timeout with a TIMEOUT event
    (not FAILURE): the handler is registered for both; a timeout that is not
    whole seconds is rounded up, which the ledger says as a warning."""
    w = wf(
        [
            Task("load", Action("shell", {"command": "sleep 9"}), timeout_s=2.5),
            Task("alert", Action("shell", {"command": "notify"}), trigger_rule="one_failed"),
        ],
        [("load", "alert")],
    )
    e = lb.emit(w)
    text = source(e)
    assert "@Load.event_handler(luigi.Event.TIMEOUT)" in text
    assert "@Load.event_handler(luigi.Event.FAILURE)" in text
    assert attr(classes(text)["Load"], "worker_timeout") == 3
    bl204 = [d for d in e.diagnostics if d.code == "BL204"]
    assert [(d.severity, d.task) for d in bl204] == [("warning", "load")]


@pytest.mark.parametrize("static", [True, False])
def test_failure_handlers_read_back_as_one_failed_tasks(tmp_path, static):
    """The tasks a FAILURE handler starts come back (both reading modes): the
    first with trigger rule one_failed after the failed task, the next after
    it through requires(); the ledger names each of them (BL102)."""
    from wfconv.frontends import load

    w = wf(
        [
            "load",
            "publish",
            Task(
                "alert",
                Action("shell", {"command": "notify"}),
                trigger_rule="one_failed",
                retries=1,
            ),
            Task("stop", Action("fail", {"message": "load failed"})),
        ],
        [("load", "publish"), ("load", "alert"), ("alert", "stop")],
    )
    e = lb.emit(w)
    assert sorted(d.task for d in e.diagnostics if d.code == "BL102") == ["alert", "stop"]
    bundle = load(str(write(e, tmp_path)), "luigi", static=static)
    (back,) = bundle.workflows
    assert sorted(back.task_ids()) == ["alert", "load", "publish", "stop"]
    assert sorted((x.src, x.dst) for x in back.edges) == [
        ("alert", "stop"),
        ("load", "alert"),
        ("load", "publish"),
    ]
    assert back.task("alert").trigger_rule == "one_failed"
    assert back.task("alert").retries == 1
    assert back.task("alert").action.kind == "shell"
    assert back.task("alert").action.fields["command"] == "notify"
    assert back.task("stop").trigger_rule == "all_success"
    assert back.task("stop").action.kind == "fail"
    assert back.task("stop").action.fields["message"] == "load failed"
    notes = [d.code for d in bundle.diagnostics + back.diagnostics]
    assert "LG012" not in notes and "LG025" not in notes  # handler classes are not failed roots


# ---------------------------------------------------------------------------
# hostile strings


PIECES = list("ab \"'\\\n\r\t{}$%#<>&;|`é漢💥") + ['"""', "'''", "{{ ", " }}", "${", "\\N", "\x00"]
HOSTILE = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
IDS = st.one_of(
    HOSTILE.filter(bool),
    st.sampled_from(
        ["class", "def", "None", "lambda", "WorkflowTask", "luigi", "os", "etl", "Etl"]
    ),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(IDS, min_size=1, max_size=5, unique=True), HOSTILE, HOSTILE, st.data())
def test_hostile_strings_compile_are_ruff_clean_and_keep_their_values(
    tmp_path_factory, ids, command, desc, data
):
    pairs = list(itertools.combinations(ids, 2))
    edges = data.draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    tasks = [shell(i, command, params={i: command, "class": 1}) for i in ids]
    w = Workflow(
        id=desc or "w",
        description=desc,
        tasks=tasks,
        edges=[Edge(a, b) for a, b in edges],
        params={desc or "p": command},
    )
    e = lb.emit(w)
    text = source(e)
    tree = ast.parse(text)  # compiles
    assert e.files == lb.emit(w).files
    originals = [attr(c, "task_id_original") for c in classes(text).values()]
    assert set(ids) <= set(originals)
    # the command is passed through unchanged (rendered only at run time)
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "shell" and n.args
    ]
    assert {ast.literal_eval(c.args[0]) for c in calls} == {command}
    assert ruff_clean(e.files, tmp_path_factory.mktemp("ruff")) == ""


def test_hostile_module_is_ruff_clean(tmp_path):
    ids = ['say "hi"', "a\nb", '"""', "class", "x\\y", "ünï", "{{ ds }}", "${x}", "\u202e", "Etl"]
    w = Workflow(
        id='e"t\nl',
        description='"""doc\\',
        tasks=[shell(i, i) for i in ids],
        edges=[Edge(a, b) for a, b in zip(ids, ids[1:], strict=False)],
        params={"a b": "x", "class": '"'},
    )
    assert ruff_clean(lb.emit(w).files, tmp_path) == ""


# ---------------------------------------------------------------------------
# round trip through the Luigi frontend

HAVE_LUIGI_FRONTEND = importlib.util.find_spec("wfconv.frontends.luigi") is not None


def read_back(e, tmp_path: Path) -> Workflow:
    from wfconv.frontends import load

    for name, text in e.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (name,) = (n for n in e.files if n not in e.shared)
    workflows = load(str(tmp_path / name), "luigi").workflows
    assert len(workflows) == 1, [w.id for w in workflows]
    return workflows[0]


def assert_round_trip(w: Workflow, e, back: Workflow) -> None:
    """``back`` = ``w`` except what the ledger lists: trigger rules (BL101),
    handler paths (BL102: read back from the FAILURE event handlers, the first
    task of each with one_failed; BL103: edges into the main path dropped;
    BL205: a file sensor's retries are not written)."""
    ledger = {d.code for d in e.diagnostics}
    assert "BL001" in ledger  # the root WrapperTask is the workflow, not a task
    assert back.id == w.id  # WORKFLOW_ID, even when a task has the workflow's id
    src = dissolve_routing(w).workflow  # routing tasks of the source become edges (ledgered)
    handled = {d.task for d in e.diagnostics if d.code == "BL102"}
    unretried = {d.task for d in e.diagnostics if d.code == "BL205"}  # sensors
    assert sorted(back.task_ids()) == sorted(src.task_ids())
    edges = {(x.src, x.dst) for x in back.edges}
    want = {(x.src, x.dst) for x in src.edges if f"{x.src!r} -> {x.dst!r}" not in dropped_edges(e)}
    assert {x for x in edges if x[1] not in handled} == {x for x in want if x[1] not in handled}
    assert edges <= want
    for t in src.tasks:
        b = back.task(t.id)
        assert b.retries == (0 if t.id in unretried else t.retries)
        if t.id in handled:
            assert b.trigger_rule in ("one_failed", "all_success")
        elif t.trigger_rule != "all_success":
            assert "BL101" in ledger and b.trigger_rule == "all_success"
    if w.schedule.kind != "manual":
        assert ledger & {"BL301", "BL302"}


def dropped_edges(e) -> str:
    return " ".join(d.message for d in e.diagnostics if d.code == "BL103")


@pytest.mark.skipif(not HAVE_LUIGI_FRONTEND, reason="Luigi frontend not in this checkout yet")
def test_round_trip_through_the_luigi_frontend(tmp_path):
    w = wf(
        [
            shell("extract", retries=2, retry_delay_s=900),
            "a.b",
            shell("c-d", retries=1),
            "load",
            Task("report", Action("empty"), trigger_rule="all_done"),
        ],
        [
            ("extract", "a.b"),
            ("extract", "c-d"),
            ("a.b", "load"),
            ("c-d", "load"),
            ("load", "report"),
        ],
        schedule=Schedule("cron", "0 3 * * *"),
        start_date="2024-01-01T00:00:00+00:00",
    )
    e = lb.emit(w)
    back = read_back(e, tmp_path)
    assert_round_trip(w, e, back)
    assert back.task("extract").retries == 2 and back.task("c-d").retries == 1


@pytest.mark.skipif(not HAVE_LUIGI_FRONTEND, reason="Luigi frontend not in this checkout yet")
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(IDS.filter(lambda s: "\x00" not in s), min_size=1, max_size=4, unique=True),
    HOSTILE.filter(lambda s: "\x00" not in s),
    st.data(),
)
def test_random_workflows_round_trip_through_the_luigi_frontend(
    tmp_path_factory, ids, command, data
):
    pairs = list(itertools.combinations(ids, 2))
    edges = data.draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    tasks = [shell(i, command, retries=data.draw(st.integers(0, 3))) for i in ids]
    w = Workflow(id="rt_wf", tasks=tasks, edges=[Edge(a, b) for a, b in edges])
    e = lb.emit(w)
    back = read_back(e, tmp_path_factory.mktemp("lg"))
    assert_round_trip(w, e, back)


def _corpus_luigi_workflows(engine: str = "luigi"):
    from wfconv.errors import InputError
    from wfconv.frontends import load

    out = []
    for p in sorted((ROOT / "corpus" / engine).glob("*")):
        try:
            bundle = load(str(p), engine)
        except InputError:  # inputs a frontend must refuse are its own tests
            continue
        out += [(p.name, w) for w in bundle.workflows if not w.has_errors()]
    return out


@pytest.mark.skipif(not HAVE_LUIGI_FRONTEND, reason="Luigi frontend not in this checkout yet")
@pytest.mark.parametrize(
    "engine",
    [
        "luigi",
        pytest.param("airflow", marks=pytest.mark.slow),
        pytest.param("prefect", marks=pytest.mark.slow),
        pytest.param("oozie", marks=pytest.mark.slow),
    ],
)
def test_corpus_round_trips_through_luigi(tmp_path, engine):
    if importlib.util.find_spec(f"wfconv.frontends.{engine}") is None:
        pytest.skip(f"{engine} frontend not in this checkout yet")
    seen = 0
    for i, (name, w) in enumerate(_corpus_luigi_workflows(engine)):
        e = lb.emit(w)
        d = tmp_path / str(i)
        d.mkdir()
        back = read_back(e, d)
        try:
            assert_round_trip(w, e, back)
        except AssertionError as exc:
            raise AssertionError(f"{name} ({w.id}): {exc}") from exc
        seen += 1
    assert seen >= 3


# ---------------------------------------------------------------------------
# real runs (engine tests)


def load_module(e, tmp_path: Path, name: str):
    """The emitted module imported as ``name``, its helper module beside it."""
    for shared in e.shared:
        (tmp_path / shared).write_text(e.files[shared], encoding="utf-8")
    text = source(e)
    if str(tmp_path) not in sys.path:
        sys.path.insert(0, str(tmp_path))
    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def catch_up_at(root, tmp_path: Path, *when: int) -> bool:
    """Build ``wfconv_luigi.catch_up(root)`` at ``datetime(2024, *when)`` UTC."""
    now = int(datetime.datetime(2024, *when, tzinfo=datetime.UTC).timestamp())
    catch_up = sys.modules["wfconv_luigi"].catch_up
    return build([catch_up(root, now=now, of_params={"state_dir": str(tmp_path / "s")})])


def build(tasks) -> bool:
    import luigi

    return luigi.build(tasks, local_scheduler=True, log_level="ERROR", workers=1)


@pytest.mark.engine
def test_engine_diamond_runs_in_order_and_is_idempotent(tmp_path):
    log = tmp_path / "log.txt"
    cmd = lambda tid: f"echo {tid} {{{{ ds }}}} {{{{ params.bucket }}}} >> '{log}'"  # noqa: E731
    w = wf(
        [shell(t, cmd(t)) for t in ("extract", "a.b", "c", "load")],
        [("extract", "a.b"), ("extract", "c"), ("a.b", "load"), ("c", "load")],
        id="diamond",
        params={"bucket": "exports"},
        schedule=Schedule("cron", "0 0 * * *"),
        start_date="2024-01-01T00:00:00+00:00",
    )
    m = load_module(lb.emit(w), tmp_path, "wfconv_engine_diamond")
    state = tmp_path / "state"
    root = m.DiamondWorkflow(date=datetime.date(2024, 1, 5), state_dir=str(state))
    assert build([root]) is True
    lines = log.read_text().splitlines()
    assert lines[0] == "extract 2024-01-05 exports" and lines[-1] == "load 2024-01-05 exports"
    assert sorted(lines[1:3]) == ["a.b 2024-01-05 exports", "c 2024-01-05 exports"]
    assert sorted(p.name for p in (state / "diamond" / "2024-01-05").iterdir()) == [
        "AB.done",
        "C.done",
        "Extract.done",
        "Load.done",
    ]
    assert build([root]) is True  # complete: nothing runs again
    assert len(log.read_text().splitlines()) == 4


@pytest.mark.engine
def test_engine_failure_stops_downstream_and_runs_the_handler(tmp_path):
    log = tmp_path / "log.txt"
    w = wf(
        [
            shell("ok", f"echo ok >> '{log}'"),
            shell("boom", f"echo boom >> '{log}'; exit 3"),
            shell("after", f"echo after >> '{log}'"),
            Task(
                "alert",
                Action("shell", {"command": f"echo alert {{{{ run_id }}}} >> '{log}'"}),
                trigger_rule="one_failed",
            ),
        ],
        [("ok", "boom"), ("boom", "after"), ("boom", "alert")],
        id="failing",
    )
    m = load_module(lb.emit(w), tmp_path, "wfconv_engine_failing")
    assert build([m.FailingWorkflow(run_id="r1", state_dir=str(tmp_path / "s"))]) is False
    assert log.read_text().splitlines() == ["ok", "boom", "alert r1"]


@pytest.mark.engine
def test_engine_a_timed_out_task_is_terminated_and_runs_the_handler(tmp_path):
    """With one worker and no force_multiprocessing, Luigi still runs a task
    that has a worker_timeout in its own process and terminates it (BL204);
    the TIMEOUT event starts its error handler."""
    log = tmp_path / "log.txt"
    w = wf(
        [
            Task(
                "slow", Action("shell", {"command": f"sleep 5; echo slow >> '{log}'"}), timeout_s=1
            ),
            Task(
                "alert",
                Action("shell", {"command": f"echo alert >> '{log}'"}),
                trigger_rule="one_failed",
            ),
        ],
        [("slow", "alert")],
        id="slowish",
    )
    m = load_module(lb.emit(w), tmp_path, "wfconv_engine_slowish")
    started = datetime.datetime.now()
    assert build([m.SlowishWorkflow(run_id="r1", state_dir=str(tmp_path / "s"))]) is False
    assert (datetime.datetime.now() - started).total_seconds() < 25
    assert log.read_text().splitlines() == ["alert"]


@pytest.mark.engine
def test_engine_a_kept_function_is_pasted_and_gets_the_context_it_asks_for(tmp_path):
    log = tmp_path / "log.txt"
    code = (
        f"def note(label, ds, params, **context):\n"
        f"    with open({str(log)!r}, 'a') as fh:\n"
        f"        fh.write(' '.join([label, ds, params['bucket'], context['run_id']]))\n"
    )
    w = wf(
        [
            Task(
                "note",
                Action("python", {"callable": "note", "source_code": code, "op_args": ["hello"]}),
            )
        ],
        [],
        id="pasted",
        params={"bucket": "b1"},
        schedule=Schedule("cron", "0 0 * * *"),
        start_date="2024-01-01T00:00:00+00:00",
    )
    e = lb.emit(w)
    assert "BL401" not in codes(e) and "BL407" in codes(e)
    m = load_module(e, tmp_path, "wfconv_engine_pasted")
    assert build([m.PastedWorkflow(date=datetime.date(2024, 1, 5), state_dir=str(tmp_path / "s"))])
    assert log.read_text() == "hello 2024-01-05 b1 2024-01-05"


def test_a_kept_function_that_needs_its_module_is_not_pasted():
    code = "def f(ds):\n    return helper(ds)\n"
    e = lb.emit(wf([Task("t", Action("python", {"callable": "f", "source_code": code}))], []))
    assert "BL401" in codes(e) and "BL407" not in codes(e)
    assert "def wfconv_fn_" not in source(e)


@pytest.mark.engine
def test_engine_daily_catch_up_runs_every_missing_day(tmp_path):
    log = tmp_path / "log.txt"
    w = wf(
        [shell("t", f"echo {{{{ ds }}}} >> '{log}'")],
        [],
        id="daily",
        schedule=Schedule("cron", "0 0 * * *"),
        start_date="2024-01-01T00:00:00+00:00",
    )
    m = load_module(lb.emit(w), tmp_path, "wfconv_engine_daily")
    assert catch_up_at(m.DailyWorkflow, tmp_path, 1, 3, 12)
    # intervals [Jan 1, Jan 2) and [Jan 2, Jan 3) are over; [Jan 3, Jan 4) is not
    assert sorted(log.read_text().split()) == ["2024-01-01", "2024-01-02"]
    assert catch_up_at(m.DailyWorkflow, tmp_path, 1, 4, 0, 0)
    assert sorted(log.read_text().split()) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]  # one new run


@pytest.mark.engine
def test_engine_catch_up_without_a_start_date_runs_the_latest_interval(tmp_path):
    """Luigi's RangeDaily refuses a range without a start: a schedule that has
    none (a Prefect deployment's) runs the latest day that is over."""
    log = tmp_path / "log.txt"
    w = wf(
        [shell("t", f"echo {{{{ ds }}}} >> '{log}'")],
        [],
        id="nostart",
        schedule=Schedule("cron", "0 0 * * *"),
    )
    m = load_module(lb.emit(w), tmp_path, "wfconv_engine_nostart")
    assert getattr(m.NostartWorkflow, "start", None) is None
    assert catch_up_at(m.NostartWorkflow, tmp_path, 1, 3, 12)
    assert log.read_text().split() == ["2024-01-02"]


@pytest.mark.engine
@pytest.mark.parametrize("hourly", [False, True])
def test_engine_catch_up_without_catchup_runs_only_the_latest_interval(tmp_path, hourly):
    log = tmp_path / "log.txt"
    sched = Schedule("cron", "0 * * * *" if hourly else "0 0 * * *")
    w = wf(
        [shell("t", f"echo {{{{ ts }}}} >> '{log}'")],
        [],
        id="latest",
        schedule=sched,
        catchup=False,
        start_date="2024-01-01T00:00:00+00:00",
    )
    m = load_module(lb.emit(w), tmp_path, f"wfconv_engine_latest_{hourly}")
    assert catch_up_at(m.LatestWorkflow, tmp_path, 1, 3, 12, 30)
    # the interval that ended last: [11:00, 12:00) of Jan 3, or the day Jan 2
    assert log.read_text().split() == [
        "2024-01-03T11:00:00+00:00" if hourly else "2024-01-02T00:00:00+00:00"
    ]


@pytest.mark.engine
def test_engine_a_trigger_schedule_runs_at_its_tick_with_the_tick_as_interval(tmp_path):
    """Airflow 3's bare cron (CronTriggerTimetable): the run for 06:00 starts at
    06:00 and its data interval is [06:00, 06:00], as in the source."""
    from wfconv.ir.model import TRIGGER

    log = tmp_path / "log.txt"
    cmd = f"echo {{{{ ts }}}} {{{{ data_interval_end }}}} >> '{log}'"
    w = wf(
        [shell("t", cmd)],
        [],
        id="ticks",
        catchup=True,
        schedule=Schedule("cron", "0 6 * * *", model=TRIGGER),
        start_date="2024-01-01T00:00:00+00:00",
    )
    e = lb.emit(w)
    assert "BL305" not in codes(e) and "    trigger_model = True" in source(e)
    m = load_module(e, tmp_path, "wfconv_engine_ticks")
    assert catch_up_at(m.TicksWorkflow, tmp_path, 1, 3, 6, 30)
    assert sorted(log.read_text().splitlines()) == [
        f"2024-01-0{d}T06:00:00+00:00 2024-01-0{d}T06:00:00+00:00" for d in (1, 2, 3)
    ]


@pytest.mark.engine
def test_engine_run_dates_are_wall_clock_dates_of_the_schedules_timezone(tmp_path):
    """Midnight in Los Angeles across the start of daylight saving time
    (2024-03-10): 08:00 UTC, then 07:00 UTC; each day runs once it is over there."""
    log = tmp_path / "log.txt"
    w = wf(
        [shell("t", f"echo {{{{ ts }}}} >> '{log}'")],
        [],
        id="pacific",
        catchup=True,
        schedule=Schedule("cron", "0 0 * * *", timezone="America/Los_Angeles"),
        start_date="2024-03-09T08:00:00+00:00",
    )
    e = lb.emit(w)
    assert '    timezone = "America/Los_Angeles"' in source(e)
    m = load_module(e, tmp_path, "wfconv_engine_pacific")
    assert catch_up_at(m.PacificWorkflow, tmp_path, 3, 12, 12)
    assert sorted(log.read_text().split()) == [
        "2024-03-09T08:00:00+00:00",
        "2024-03-10T08:00:00+00:00",
        "2024-03-11T07:00:00+00:00",
    ]


@pytest.mark.engine
def test_the_time_check_plans_the_first_runs_of_a_range_from_the_year_1(tmp_path):
    """The Luigi child asks the range task for the first runs of a schedule
    that starts at datetime.min (Airflow's own examples) without looking back
    past the year 1."""
    import json

    w = wf(
        ["t"],
        [],
        id="ancient",
        schedule=Schedule("cron", "0 0 * * *"),
        catchup=False,
        start_date="0001-01-01T00:00:00+00:00",
    )
    path = write(lb.emit(w), tmp_path / "out")
    job, out = tmp_path / "job.json", tmp_path / "answer.json"
    job.write_text(json.dumps({"modules": [{"file": str(path), "runs": 3, "shell_tasks": ["t"]}]}))
    subprocess.run(
        [sys.executable, "-m", "wfconv.engines.luigi_child", str(job), str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    got = json.loads(out.read_text())[str(path)]
    assert [r["logical_date"] for r in got["runs"]] == [
        "0001-01-01T00:00:00+00:00",
        "0001-01-02T00:00:00+00:00",
        "0001-01-03T00:00:00+00:00",
    ]
    assert [r["t"]["command"] for r in got["rendered"]] == ["echo t"] * 3


def _harmless(w: Workflow, log: Path) -> Workflow:
    """The corpus workflow with every task made a harmless shell command that
    records its id (the fixture replaces real commands)."""
    import copy

    w = copy.deepcopy(w)
    for t in w.tasks:
        t.action = Action("shell", {"command": f"echo {shlex.quote(t.id)} >> '{log}'"})
        if t.trigger_rule not in ("one_failed", "all_failed"):
            t.trigger_rule = "all_success"
    return w


def _success_path(w: Workflow) -> set[str]:
    """Tasks that run when nothing fails: reachable from the roots through
    edges that are not error paths (error edges, one_failed/all_failed)."""
    rule = {t.id: t.trigger_rule for t in w.tasks}
    ok = [
        (x.src, x.dst)
        for x in w.edges
        if x.kind != "error" and rule[x.dst] not in ("one_failed", "all_failed")
    ]
    has_in = {x.dst for x in w.edges}
    stack, seen = [t for t in w.task_ids() if t not in has_in], set()
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(b for a, b in ok if a == n)
    return seen


@pytest.mark.engine
@pytest.mark.skipif(not HAVE_LUIGI_FRONTEND, reason="Luigi frontend not in this checkout yet")
@pytest.mark.parametrize("engine", ["luigi", "oozie", "airflow"])
def test_engine_corpus_workflows_run_in_dependency_order(tmp_path, engine):
    if importlib.util.find_spec(f"wfconv.frontends.{engine}") is None:
        pytest.skip(f"{engine} frontend not in this checkout yet")
    ran = 0
    for i, (name, w) in enumerate(_corpus_luigi_workflows(engine)):
        if any(t.action.kind == "external" for t in w.tasks):
            continue  # needs data from outside the workflow
        log = tmp_path / f"log{i}.txt"
        h = _harmless(w, log)
        m = load_module(lb.emit(h), tmp_path, f"wfconv_engine_{engine}_{i}")
        root = next(
            getattr(m, n)
            for n in dir(m)
            if getattr(getattr(m, n), "wfconv_root", False)
            and getattr(m, n).__module__ == m.__name__
        )
        assert build([root(state_dir=str(tmp_path / f"s{i}"))]) is True, name
        order = log.read_text().splitlines() if log.exists() else []
        assert sorted(order) == sorted(_success_path(h)), (name, w.id)
        for x in h.edges:
            if x.src in order and x.dst in order:
                assert order.index(x.src) < order.index(x.dst), (name, x)
        ran += 1
    assert ran >= 3


@pytest.mark.parametrize("module", ["luigi", "oozie"])
def test_every_ledger_code_is_declared_and_documented(module):
    import re

    mod = importlib.import_module(f"wfconv.backends.{module}")
    tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
    used = {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and re.fullmatch(r"B[LO]\d{3}", n.value)
    }
    doc = (ROOT / "docs" / "codes" / "backends-luigi-oozie.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| (B[LO]\d{3}) \|", doc, re.M))
    assert used and used == set(mod.CODES)
    assert used <= documented


def test_a_luigi_task_read_from_a_module_runs_its_own_run_method(tmp_path):
    lg = {"luigi": {"family": "Extract", "kind": "normal"}}
    t = Task(
        "Extract(source=crm)",
        Action("python", {"callable": "Extract.run", "module": "shop.tasks"}),
        params={"source": "crm", "day": "2024-03-01", "n": 3, "flags": [1]},
        extra=lg,
    )
    e = lb.emit(wf([t], []))
    run = next(
        f
        for f in classes(source(e))["ExtractSourceCrm"].body
        if isinstance(f, ast.FunctionDef) and f.name == "run"
    )
    assert ast.unparse(run.body[0]) == "from shop.tasks import Extract"
    assert ast.unparse(run.body[1]) == (
        "Extract.from_str_params({'source': 'crm', 'day': '2024-03-01', 'n': '3', 'flags': '[1]'}).run()"
    )
    assert "BL406" in codes(e)
    assert ruff_clean(e.files, tmp_path) == ""


@pytest.mark.engine
def test_engine_renders_interval_dates_like_the_oozie_frontend_spells_them(tmp_path):
    log = tmp_path / "log.txt"
    cmd = (
        "echo {{ data_interval_end.strftime('%Y%m%d') }} "
        "{{ (data_interval_end + macros.timedelta(days=-1)).strftime('%Y-%m-%d') }} {{ ds }} "
        f"{{{{ unknown }}}} >> '{log}'"
    )
    w = wf(
        [shell("t", cmd)],
        [],
        id="dates",
        schedule=Schedule("cron", "30 4 * * *"),
        start_date="2024-01-01T00:00:00+00:00",
    )
    e = lb.emit(w)
    assert [d.code for d in e.diagnostics if d.code == "BL403"] == ["BL403"]  # only {{ unknown }}
    m = load_module(e, tmp_path, "wfconv_engine_dates")
    assert (
        build([m.DatesWorkflow(date=datetime.date(2024, 1, 5), state_dir=str(tmp_path / "s"))])
        is True
    )
    assert log.read_text().split() == [
        "20240106",
        "2024-01-05",
        "2024-01-05",
        "{{",
        "unknown",
        "}}",
    ]


@pytest.mark.slow
def _pasted_lines(text: str) -> set[int]:
    """Lines of the user functions a module pastes (BL407): the user's own
    style, which ruff may not like, is not generated code."""
    out: set[int] = set()
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("wfconv_fn_"):
            out |= set(range(node.lineno, node.end_lineno + 1))
    return out


def test_every_corpus_workflow_gives_a_ruff_clean_module(tmp_path):
    """Every corpus workflow's module, written as convert writes a folder (the
    shared helper module once): lint-clean with ruff's defaults, the
    project's rules and the output rule set of docs/output.md (as
    bench/bench_quality.py runs it), and ``ruff format`` clean."""
    import json

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_quality import RUFF_IGNORE, RUFF_RULES

    files = {}
    for engine in ("airflow", "prefect", "luigi", "oozie"):
        if importlib.util.find_spec(f"wfconv.frontends.{engine}") is None:
            continue
        for i, (_, w) in enumerate(_corpus_luigi_workflows(engine)):
            e = lb.emit(w)
            for name, text in e.files.items():
                files[name if name in e.shared else f"{engine}_{i}_{name}"] = text
    assert len(files) >= 20 and "wfconv_luigi.py" in files
    assert sum(bool(_pasted_lines(t)) for t in files.values()) >= 3
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    findings = []
    for extra in (
        ["--isolated"],
        ["--config", str(ROOT / "pyproject.toml")],
        ["--isolated", "--select", RUFF_RULES, "--ignore", RUFF_IGNORE],
    ):
        cmd = [RUFF[0], "check", "--no-cache", "--output-format", "json", *extra]
        res = subprocess.run([*cmd, str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
        for item in json.loads(res.stdout or "[]"):
            name = Path(item["filename"]).name
            if item["location"]["row"] not in _pasted_lines(files[name]):
                findings.append((name, item["location"]["row"], item["code"], item["message"]))
    assert findings == []
    fmt = subprocess.run(
        [RUFF[0], "format", "--isolated", "--no-cache", "--check", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.engine
def test_engine_generated_main_retries_as_the_source_said(tmp_path):
    """Run as generated (python module.py): main() turns on keep_alive and the
    workflow's retry delay, so a task that fails once is retried and the run
    succeeds; without retries it would stop at the first failure."""
    marker = tmp_path / "tried"
    log = tmp_path / "log.txt"
    flaky = f"echo try >> '{log}'; test -f '{marker}' || {{ touch '{marker}'; exit 1; }}"
    w = wf(
        [
            Task("flaky", Action("shell", {"command": flaky}), retries=2, retry_delay_s=1),
            shell("after", f"echo after >> '{log}'"),
        ],
        [("flaky", "after")],
        id="retrying",
    )
    path = write(lb.emit(w), tmp_path)
    assert "RETRY_DELAY_S = 1.0" in path.read_text(encoding="utf-8")
    env = {
        **os.environ,
        "WFCONV_STATE_DIR": str(tmp_path / "state"),
        "LUIGI_CONFIG_PATH": "/nonexistent",
    }
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert log.read_text().splitlines() == ["try", "try", "after"]


@pytest.mark.engine
def test_engine_a_timed_out_file_sensor_is_not_retried(tmp_path):
    """Airflow never retries a sensor that timed out: run as generated (retries
    on, keep_alive set by main()), the flaky task is retried but Luigi's worker
    runs the sensor once, and its failure starts the one_failed handler (BL205)."""
    marker = tmp_path / "tried"
    log = tmp_path / "log.txt"
    flaky = f"echo try >> '{log}'; test -f '{marker}' || {{ touch '{marker}'; exit 1; }}"
    sensor = Task(
        "wait",
        Action(
            "sensor",
            {
                "sensor": "FileSensor",
                "target": str(tmp_path / "never"),
                "poke_interval_s": 0.2,
                "timeout_s": 1,
            },
        ),
        retries=3,
        retry_delay_s=1,
    )
    w = wf(
        [
            Task("flaky", Action("shell", {"command": flaky}), retries=2, retry_delay_s=1),
            sensor,
            Task(
                "alert",
                Action("shell", {"command": f"echo alert >> '{log}'"}),
                trigger_rule="one_failed",
            ),
        ],
        [("flaky", "wait"), ("wait", "alert")],
        id="sensing",
    )
    e = lb.emit(w)
    assert "BL205" in codes(e)
    path = write(e, tmp_path)
    env = {
        **os.environ,
        "WFCONV_STATE_DIR": str(tmp_path / "state"),
        "LUIGI_CONFIG_PATH": "/nonexistent",
    }
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert log.read_text().splitlines() == ["try", "try", "alert"]
    attempts = [x for x in done.stderr.splitlines() if "running   wait(" in x]
    assert len(attempts) == 1, attempts
