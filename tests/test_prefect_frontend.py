"""Prefect frontend: the IR a user gets from a Prefect 3 module (never imported)."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from wfconv.cli import main as cli
from wfconv.errors import InputError
from wfconv.frontends import load_path
from wfconv.frontends import prefect as pf
from wfconv.frontends.prefect.deploy import rrule_to_cron
from wfconv.ir.jsonio import dumps, loads

HEAD = "from prefect import flow, task, allow_failure, unmapped\n"


def parse_src(tmp_path: Path, body: str, name: str = "flows.py", head: str = HEAD):
    p = tmp_path / name
    p.write_text(head + textwrap.dedent(body), encoding="utf-8")
    return pf.parse(str(p)), p


def line_of(path: Path, text: str, nth: int = 1) -> int:
    """1-based line of the nth line containing ``text`` (tests name lines by content)."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return hits[nth - 1]


def one(bundle, wid=None):
    return bundle.workflows[0] if wid is None else bundle.workflow(wid)


def edges(w):
    return {(e.src, e.dst, e.kind) for e in w.edges}


def codes(w):
    return [(d.code, d.line) for d in w.diagnostics]


TASKS = """
@task
def a(x=None):
    return 1

@task
def b(x=None, y=None):
    return 2

@task
def c(*args, **kwargs):
    return 3
"""


# -- ids, actions, arguments -----------------------------------------------------


def test_repeated_calls_get_prefect_like_ids_and_name_option_wins(tmp_path):
    b, p = parse_src(
        tmp_path,
        TASKS
        + """
@task(name="load rows")
def load(x):
    pass

@flow
def f():
    a(); a(); a()
    load(1); load(2)
""",
    )
    w = one(b)
    assert w.id == "f"
    assert w.task_ids() == ["a", "a-1", "a-2", "load rows", "load rows-1"]
    t = w.task("load rows-1")
    assert t.action.kind == "python"
    assert t.action.fields == {
        "callable": "load",
        "module": "flows",
        "source_code": "def load(x):\n    pass",
        "op_kwargs": {"x": 2},
    }
    assert t.source.line == line_of(p, "load(1); load(2)") and t.source.engine == "prefect"


def test_flow_id_is_name_option_and_prefect_name_kept(tmp_path):
    b, _ = parse_src(
        tmp_path,
        '''
@flow(name="Nightly ETL", timeout_seconds=60, retries=2)
def nightly_etl(day: str = "2024-01-01", n: int = 3):
    """Docstring is the description."""
''',
    )
    w = one(b)
    assert (w.id, w.description, w.timeout_s) == (
        "Nightly ETL",
        "Docstring is the description.",
        60,
    )
    assert w.params == {"day": "2024-01-01", "n": 3}
    assert w.extra["prefect"]["function"] == "nightly_etl"
    assert w.extra["prefect"]["retries"] == 2
    assert w.catchup is False and w.schedule.kind == "manual"


def test_default_prefect_flow_name_uses_dashes(tmp_path):
    b, _ = parse_src(tmp_path, "@flow\ndef my_flow():\n    pass\n")
    w = one(b)
    assert w.id == "my_flow" and w.extra["prefect"]["name"] == "my-flow"


def test_arguments_render_literals_templates_and_expressions(tmp_path):
    b, _ = parse_src(
        tmp_path,
        TASKS
        + """
import os

@flow
def f(day: str = "d"):
    r = a(day)
    b(r, f"out/{day}/{r}")
    b(x=os.environ["HOME"], y=[1, 2])
""",
    )
    w = one(b)
    assert w.task("a").action.fields["op_kwargs"] == {"x": "{{ params.day }}"}
    assert w.task("b").action.fields["op_kwargs"] == {
        "x": "{{ ti.xcom_pull(task_ids='a') }}",
        "y": "out/{{ params.day }}/{{ ti.xcom_pull(task_ids='a') }}",
    }
    third = w.task("b-1")
    assert third.action.fields["op_kwargs"] == {"x": 'os.environ["HOME"]', "y": [1, 2]}
    assert third.extra["prefect"]["expression_args"] == ["x"]


# -- edges -----------------------------------------------------------------------


def test_futures_are_data_edges_wait_for_control_and_submits_do_not_block(tmp_path):
    b, _ = parse_src(
        tmp_path,
        TASKS
        + """
@flow
def f():
    x = a.submit()
    y = a.submit()
    z = b.submit(x, wait_for=[y])
    c.submit(wait_for=z).result()
""",
    )
    w = one(b)
    assert edges(w) == {("a", "b", "data"), ("a-1", "b", "control"), ("b", "c", "control")}
    assert all(t.trigger_rule == "all_success" for t in w.tasks)


def test_direct_calls_block_the_flow_body(tmp_path):
    b, p = parse_src(
        tmp_path,
        TASKS
        + """
@flow
def f():
    a()
    b.submit()
    x = a.submit()
    x.result()
    c()
""",
    )
    w = one(b)
    # a blocks: everything after depends on it; .result() on a-1 blocks too,
    # but b (submitted, never resolved) does not order c.
    assert edges(w) == {("a", "b", "control"), ("a", "a-1", "control"), ("a-1", "c", "control")}
    assert ("PF202", line_of(p, "b.submit()")) in codes(w)  # b's future is never resolved


def test_allow_failure_gives_all_done_and_mixed_upstreams_warn(tmp_path):
    b, p = parse_src(
        tmp_path,
        TASKS
        + """
@flow
def f():
    x = a.submit()
    y = a.submit()
    b.submit(allow_failure(x), wait_for=[allow_failure(y)]).wait()
    c.submit(x, wait_for=[allow_failure(y)]).wait()
""",
    )
    w = one(b)
    assert w.task("b").trigger_rule == "all_done"
    assert w.task("c").trigger_rule == "all_done"
    d = [d for d in w.diagnostics if d.code == "PF201"]
    assert len(d) == 1 and d[0].task == "c" and d[0].line == line_of(p, "c.submit(")
    # c tolerates a-1 (allow_failure) and b (.wait() does not raise) but needs a
    assert "a-1, b is tolerated" in d[0].message and "needs a to succeed" in d[0].message


def test_wait_is_tolerant_and_result_is_strict(tmp_path):
    b, _ = parse_src(
        tmp_path,
        TASKS
        + """
from prefect.futures import wait

@flow
def f():
    futs = [a.submit(i) for i in range(2)]
    wait(futs)
    b()
""",
    )
    w = one(b)
    assert edges(w) == {("a", "b", "control"), ("a-1", "b", "control")}
    assert w.task("b").trigger_rule == "all_done"


def test_map_is_one_zip_task_with_unmapped_and_task_inputs(tmp_path):
    b, _ = parse_src(
        tmp_path,
        TASKS
        + """
@flow
def f():
    items = a()
    m = b.map(items, unmapped({"k": 1}))
    n = b.map([1, 2, 3], y="static")
    c([r.result() for r in m], n)
""",
    )
    w = one(b)
    m = w.task("b")
    assert m.mapped == {"kind": "zip", "over": {"x": "{{ ti.xcom_pull(task_ids='a') }}"}}
    assert m.action.fields["op_kwargs"] == {"y": {"k": 1}}
    n = w.task("b-1")
    assert n.mapped == {"kind": "zip", "over": {"x": [1, 2, 3]}}
    assert n.action.fields["op_kwargs"] == {"y": "static"}
    assert ("a", "b", "data") in edges(w)
    assert {("b", "c", "data"), ("b-1", "c", "data")} <= edges(w)
    assert w.task("c").action.fields["op_args"] == [
        "{{ ti.xcom_pull(task_ids='b') }}",
        "{{ ti.xcom_pull(task_ids='b-1') }}",
    ]


# -- options ---------------------------------------------------------------------


def test_retry_options_defaults_and_extra(tmp_path):
    b, _ = parse_src(
        tmp_path,
        """
from datetime import timedelta
from prefect.tasks import exponential_backoff
from prefect.cache_policies import INPUTS

def key_fn(ctx, params):
    return "k"

@task
def plain(): pass

@task(retries=3, retry_delay_seconds=[1, 2, 4], timeout_seconds=timedelta(minutes=2), tags=["db"])
def listed(): pass

@task(retries=4, retry_delay_seconds=exponential_backoff(backoff_factor=10), retry_jitter_factor=1.5,
      cache_policy=INPUTS, cache_key_fn=key_fn, cache_expiration=timedelta(hours=1))
def backoff(): pass

@flow
def f():
    plain(); listed(); backoff()
    backoff.with_options(retries=6)()
""",
    )
    w = one(b)
    p, lst, bo, bo2 = w.tasks
    assert (p.retries, p.retry_delay_s, p.retry_backoff, p.timeout_s) == (0, 0, "fixed", None)
    assert (lst.retries, lst.retry_delay_s, lst.timeout_s) == (3, [1, 2, 4], 120)
    assert lst.extra["prefect"]["tags"] == ["db"]
    assert (bo.retries, bo.retry_delay_s, bo.retry_backoff) == (4, 10, "exponential")
    assert bo.extra["prefect"] == {
        "retry_delay_seconds": {"exponential_backoff": 10},
        "retry_jitter_factor": 1.5,
        "cache_policy": "INPUTS",
        "cache_key_fn": "key_fn",
        "cache_expiration": 3600.0,
    }
    assert bo2.retries == 6 and bo2.extra["prefect"]["with_options"] == ["retries"]
    assert [d.code for d in w.diagnostics] == ["PF206"]


def test_unknown_option_is_a_diagnostic_not_a_guess(tmp_path):
    b, _ = parse_src(
        tmp_path,
        """
import os

@task(retries=int(os.environ["R"]))
def t(): pass

@flow
def f():
    t()
""",
    )
    w = one(b)
    assert w.task("t").retries == 0
    assert "PF207" in [d.code for d in w.diagnostics]


def test_tags_context_manager(tmp_path):
    b, _ = parse_src(
        tmp_path,
        TASKS
        + """
from prefect import tags

@flow
def f():
    with tags("a", "b"):
        a()
    b()
""",
    )
    w = one(b)
    assert w.task("a").extra["prefect"]["tags"] == ["a", "b"]
    assert "prefect" not in w.task("b").extra


def test_shell_only_for_checked_literal_subprocess(tmp_path):
    b, _ = parse_src(
        tmp_path,
        """
import subprocess

@task
def ok():
    subprocess.run(["ls", "-l", "a b"], check=True, cwd="/tmp")

@task
def no_check():
    subprocess.run("ls", shell=True)

@task
def more():
    subprocess.check_call("ls", shell=True)
    print("done")

@flow
def f():
    ok(); no_check(); more()
""",
    )
    w = one(b)
    assert w.task("ok").action.kind == "shell"
    assert w.task("ok").action.fields == {"command": "ls -l 'a b'", "cwd": "/tmp"}
    assert w.task("no_check").action.kind == "python"
    assert w.task("more").action.kind == "python"


# -- subflows ----------------------------------------------------------------------


def test_subflow_is_a_subworkflow_task_and_its_own_workflow(tmp_path):
    b, _ = parse_src(
        tmp_path,
        TASKS
        + """
@flow(name="child-flow", retries=2, retry_delay_seconds=30)
def child(n: int):
    a(n)

@flow
def parent():
    r = a()
    child(r)
    child.with_options(name="again")(5)
""",
    )
    assert [w.id for w in b.workflows] == ["child-flow", "parent"]
    p = b.workflow("parent")
    sub = p.task("child-flow")
    assert sub.action.kind == "subworkflow"
    assert sub.action.fields["workflow"] == "child-flow"
    assert sub.action.fields["conf"] == {"n": "{{ ti.xcom_pull(task_ids='a') }}"}
    assert (sub.retries, sub.retry_delay_s) == (2, 30)
    again = p.task("again")
    assert again.action.fields["workflow"] == "child-flow"
    assert edges(p) == {("a", "child-flow", "data"), ("child-flow", "again", "control")}
    assert b.workflow("child-flow").task_ids() == ["a"]


# -- control flow -----------------------------------------------------------------


def test_literal_loops_unrolled_runtime_loops_read_once(tmp_path):
    b, p = parse_src(
        tmp_path,
        TASKS
        + """
ITEMS = {"x": 1, "y": 2}

@flow
def f(n: int = 2):
    for k, v in ITEMS.items():
        a.submit(k).wait()
    for item in b():
        c.submit(item).wait()
    for i in range(n):
        a(i)
""",
    )
    w = one(b)
    assert w.task_ids() == ["a", "a-1", "b", "c", "a-2"]
    loop = line_of(p, "for item in b()")
    assert w.task("c").extra["prefect"]["conditions"] == [{"loop": "b()", "line": loop}]
    assert ("b", "c", "data") in edges(w)
    assert codes(w) == [("PF102", loop), ("PF102", line_of(p, "for i in range(n)"))]


def test_if_on_runtime_value_keeps_both_branches(tmp_path):
    b, p = parse_src(
        tmp_path,
        TASKS
        + """
DEBUG = False

@flow
def f():
    ok = a()
    if ok:
        x = b()
    else:
        x = c()
    if DEBUG:
        a()
    b(x)
""",
    )
    w = one(b)
    assert w.task_ids() == ["a", "b", "c", "b-1"]
    n = line_of(p, "if ok:")
    assert w.task("b").extra["prefect"]["conditions"] == [{"if": "ok", "line": n, "branch": "body"}]
    assert w.task("c").extra["prefect"]["conditions"] == [{"if": "ok", "line": n, "branch": "else"}]
    assert ("b", "c", "control") not in edges(w)  # the arms do not order each other
    assert {("b", "b-1", "data"), ("c", "b-1", "data")} <= edges(w)
    assert codes(w) == [("PF103", n)]


def test_while_and_try(tmp_path):
    b, p = parse_src(
        tmp_path,
        TASKS
        + """
@flow
def f():
    while not a():
        b()
    try:
        c()
    except ValueError:
        b("failed")
        a("after")
    a("end")
""",
    )
    w = one(b)
    assert codes(w) == [("PF104", line_of(p, "while not")), ("PF106", line_of(p, "try:"))]
    assert w.task("b-1").trigger_rule == "one_failed"
    assert w.task("a-1").trigger_rule == "all_success"  # chained after the handler's first task
    end = w.task("a-2")
    assert end.trigger_rule == "all_done"
    assert {u for u in w.upstream("a-2")} == {"c", "a-1"}


def test_async_flow_await_and_gather(tmp_path):
    b, p = parse_src(
        tmp_path,
        """
import asyncio

@task
async def fetch(i): return i

@task
async def pages(): return [1]

@task
def total(xs): return 0

@flow
async def f():
    rs = await asyncio.gather(*[fetch(i) for i in range(2)])
    total(rs)
    ps = await pages()
    await asyncio.gather(*[fetch(p) for p in ps])
    fetch(99)
""",
    )
    w = one(b)
    assert w.task_ids() == ["fetch", "fetch-1", "total", "pages", "fetch-2", "fetch-3"]
    assert ("fetch", "fetch-1", "control") not in edges(w)  # gathered: concurrent
    assert {("fetch", "total", "data"), ("fetch-1", "total", "data")} <= edges(w)
    assert ("pages", "fetch-2", "data") in edges(w)
    got = {d.code: d for d in w.diagnostics}
    assert got["PF105"].line == line_of(p, "for p in ps")
    assert got["PF204"].task == "fetch-3"  # never awaited


# -- schedules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, want",
    [
        (
            'f.serve(name="d", cron="@daily")',
            {"kind": "cron", "cron": "0 0 * * *", "timezone": "UTC"},
        ),
        (
            "f.serve(interval=timedelta(minutes=5))",
            {"kind": "interval", "seconds": 300.0, "timezone": "UTC"},
        ),
        (
            'f.deploy(name="d", work_pool_name="p", schedule=Cron("0 6 * * 1", timezone="Asia/Tokyo"))',
            {"kind": "cron", "cron": "0 6 * * 1", "timezone": "Asia/Tokyo"},
        ),
        (
            'serve(f.to_deployment("d", rrule="FREQ=DAILY;BYHOUR=5;BYMINUTE=30"))',
            {"kind": "cron", "cron": "30 5 * * *", "timezone": "UTC"},
        ),
    ],
)
def test_schedules_from_serve_deploy_to_deployment(tmp_path, call, want):
    b, _ = parse_src(
        tmp_path,
        f"""
from datetime import timedelta
from prefect import serve
from prefect.schedules import Cron

@flow
def f():
    pass

if __name__ == "__main__":
    {call}
""",
    )
    w = one(b)
    got = {"kind": w.schedule.kind, "timezone": w.schedule.timezone}
    if w.schedule.kind == "cron":
        got["cron"] = w.schedule.cron
    else:
        got["seconds"] = w.schedule.seconds
    assert got == want
    assert w.catchup is False
    assert len(w.extra["prefect"]["deployments"]) == 1


def test_rrule_without_cron_spelling_stays_manual(tmp_path):
    b, _ = parse_src(
        tmp_path,
        """
@flow
def f():
    pass

f.serve(rrule="FREQ=DAILY;INTERVAL=2;BYHOUR=1;BYMINUTE=0")
""",
    )
    w = one(b)
    assert w.schedule.kind == "manual"
    assert [d.code for d in w.diagnostics] == ["PF302"]


@pytest.mark.parametrize(
    "rule, cron, start",
    [
        ("FREQ=HOURLY;BYMINUTE=15", "15 * * * *", None),
        ("RRULE:FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;BYMINUTE=0", "0 9 * * 1,3", None),
        ("DTSTART:20240301T063000Z\nRRULE:FREQ=MONTHLY", "30 6 1 * *", "2024-03-01T06:30:00+00:00"),
        (
            "DTSTART;TZID=Europe/Paris:20240105T080000\nRRULE:FREQ=YEARLY",
            "0 8 5 1 *",
            "2024-01-05T08:00:00+01:00",
        ),
        ("FREQ=DAILY", None, None),  # the time of day depends on creation time
        ("FREQ=MONTHLY;BYDAY=1MO;BYHOUR=0;BYMINUTE=0", None, None),
        ("FREQ=DAILY;COUNT=3;BYHOUR=0;BYMINUTE=0", None, None),
    ],
)
def test_rrule_to_cron(rule, cron, start):
    got, why = rrule_to_cron(rule)
    if cron is None:
        assert got is None and why
    else:
        assert got.cron == cron and got.start == start


def test_prefect_yaml_beside_the_file(tmp_path):
    (tmp_path / "prefect.yaml").write_text(
        textwrap.dedent(
            """
            deployments:
              - name: nightly
                entrypoint: flows.py:etl
                tags: [ops]
                concurrency_limit: 1
                parameters: {day: "2024-05-01"}
                schedules:
                  - cron: "15 1 * * *"
                    timezone: Europe/Oslo
                  - interval: 600
              - name: other-file
                entrypoint: other.py:etl
                schedules: [{cron: "0 0 * * *"}]
            """
        ),
        encoding="utf-8",
    )
    b, _ = parse_src(tmp_path, '@flow\ndef etl(day: str = "x"):\n    pass\n')
    w = one(b)
    assert (w.schedule.kind, w.schedule.cron, w.schedule.timezone) == (
        "cron",
        "15 1 * * *",
        "Europe/Oslo",
    )
    assert w.params == {"day": "2024-05-01"} and w.tags == ["ops"]
    assert w.max_active_runs == 1
    assert [d.code for d in w.diagnostics] == ["PF301"]
    assert w.diagnostics[0].line == 3  # the deployment's line in prefect.yaml


def test_broken_prefect_yaml_is_a_diagnostic(tmp_path):
    (tmp_path / "prefect.yaml").write_text("deployments: [\n  - {name: x\n", encoding="utf-8")
    b, _ = parse_src(tmp_path, "@flow\ndef etl():\n    pass\n")
    assert one(b).schedule.kind == "manual"
    assert [d.code for d in b.diagnostics] == ["PF303"]


# -- input handling ------------------------------------------------------------------


def test_syntax_error_is_path_line_and_exit_2(tmp_path):
    p = tmp_path / "bad.py"
    p.write_text("from prefect import flow\n\n@flow\ndef f(:\n    pass\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        pf.parse(str(p))
    assert exc.value.line == 4
    res = CliRunner().invoke(cli, ["parse", str(p)])
    assert res.exit_code == 2
    assert res.output.strip().startswith(f"{p}:4: syntax error")


def test_the_module_is_never_executed(tmp_path):
    sentinel = tmp_path / "ran"
    b, _ = parse_src(
        tmp_path,
        f"""
open({str(sentinel)!r}, "w").write("x")
import sys
sys.exit(3)

@flow
def f():
    pass
""",
    )
    assert not sentinel.exists()
    assert [w.id for w in b.workflows] == ["f"]


def test_file_without_flow_says_so(tmp_path):
    b, _ = parse_src(tmp_path, "@task\ndef t():\n    pass\n")
    assert b.workflows == [] and [d.code for d in b.diagnostics] == ["PF110"]


def test_cli_autodetects_prefect_and_ir_round_trips(tmp_path):
    p = tmp_path / "etl.py"
    p.write_text(
        HEAD + "@task\ndef t(x):\n    return x\n\n@flow\ndef f():\n    t(t(1))\n", encoding="utf-8"
    )
    res = CliRunner().invoke(cli, ["parse", str(p)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    w = doc["workflows"][0]
    assert w["source"]["engine"] == "prefect"
    assert w["edges"] == [{"from": "t", "to": "t-1", "kind": "data"}]
    assert dumps(loads(res.output), indent=False) == res.output  # compact: not a terminal


def test_corpus_directory_with_prefect_yaml_parses_as_one_bundle(repo_root):
    b = load_path("corpus/prefect/deployed", "prefect")
    assert [w.id for w in b.workflows] == ["backup", "compaction", "monthly_report"]
    assert b.workflow("compaction").start_date == "2024-03-01T00:30:00+09:00"


def test_parse_speed_of_a_large_flow(tmp_path):
    """A 200-task flow file (loops unrolled, data edges) parses in well under a second."""
    body = "\n".join(
        f"@task(retries={i % 3})\ndef t{i}(x=None):\n    return x\n" for i in range(50)
    )
    calls = "\n".join(f"    r = t{i}.submit(r)\n    t{i}(r)" for i in range(50))
    src = (
        body
        + f"\n@flow\ndef big():\n    r = None\n    for _ in range(2):\n{textwrap.indent(calls, '    ')}\n"
    )
    p = tmp_path / "big.py"
    p.write_text(HEAD + src, encoding="utf-8")
    start = time.perf_counter()
    b = pf.parse(str(p))
    elapsed = time.perf_counter() - start
    assert len(b.workflows[0].tasks) == 200
    assert elapsed < 2.0


def test_factory_and_nested_flows_are_workflows(tmp_path):
    b, _ = parse_src(
        tmp_path,
        TASKS
        + """
def make(name):
    @flow(name=name)
    def generated():
        a()
    return generated

daily = make("daily")
hourly = make("hourly")

@flow
def parent():
    @flow
    def inner():
        b()
    inner()
    daily()
""",
    )
    assert [w.id for w in b.workflows] == ["daily", "hourly", "parent", "inner"]
    assert b.workflow("parent").task_ids() == ["inner", "daily"]
    assert {t.action.fields["workflow"] for t in b.workflow("parent").tasks} == {"inner", "daily"}


def test_run_deployment_is_a_subworkflow_task(tmp_path):
    b, p = parse_src(
        tmp_path,
        TASKS
        + """
from prefect.deployments import run_deployment

@flow
def f():
    r = a()
    run_deployment("etl/nightly", parameters={"day": "x"})
    b(r)
""",
    )
    w = one(b)
    t = w.task("etl/nightly")
    assert t.action.kind == "subworkflow"
    assert t.action.fields == {
        "deployment": "etl/nightly",
        "workflow": "etl",
        "conf": {"day": "x"},
        "wait_for_completion": True,
    }
    assert ("a", "etl/nightly", "control") in edges(w)
    assert ("etl/nightly", "b", "control") in edges(w)
    assert codes(w) == [("PF205", line_of(p, 'run_deployment("etl'))]


def test_paused_deployment_tags_and_parameters(tmp_path):
    b, p = parse_src(
        tmp_path,
        """
@flow
def f(day: str = "a", n: int = 1):
    pass

if __name__ == "__main__":
    f.serve(name="s", interval=[60, 120], paused=True, tags=["x"], parameters={"day": "b"})
""",
    )
    w = one(b)
    assert (w.schedule.kind, w.schedule.seconds) == ("interval", 60.0)
    assert w.params == {"day": "b", "n": 1} and w.tags == ["x"]
    assert sorted(d.code for d in w.diagnostics) == ["PF301", "PF304"]
    dep = w.extra["prefect"]["deployments"][0]
    assert dep["paused"] is True and [s["interval"] for s in dep["schedules"]] == [60, 120]


def test_from_source_deploy_attaches_to_this_files_flow(tmp_path):
    b, p = parse_src(
        tmp_path,
        """
@flow
def etl():
    pass

if __name__ == "__main__":
    flow.from_source("https://github.com/o/r.git", entrypoint="flows.py:etl").deploy(
        name="prod", work_pool_name="pool", cron="0 4 * * *"
    )
    flow.from_source("https://github.com/o/r.git", entrypoint="other.py:etl").deploy(
        name="x", work_pool_name="pool", cron="0 5 * * *"
    )
""",
    )
    w = one(b)
    assert (w.schedule.kind, w.schedule.cron) == ("cron", "0 4 * * *")
    assert w.extra["prefect"]["deployments"][0]["work_pool_name"] == "pool"
    assert [(d.code, d.line) for d in b.diagnostics] == [("PF305", line_of(p, "other.py:etl"))]


def test_obvious_bodies_empty_fail_and_stubs(tmp_path):
    b, _ = parse_src(
        tmp_path,
        """
@task
def marker():
    \"\"\"Nothing to do.\"\"\"

@task
def stub(path):
    pass

@task
def boom(x=None):
    raise RuntimeError("always fails")

@flow
def f():
    marker(); stub("p"); boom()
""",
    )
    w = one(b)
    assert w.task("marker").action.kind == "empty"
    assert w.task("stub").action.fields == {
        "callable": "stub",
        "module": "flows",
        "source_code": "def stub(path):\n    pass",
        "op_kwargs": {"path": "p"},
    }
    assert (w.task("boom").action.kind, w.task("boom").action.fields) == (
        "fail",
        {"message": "always fails"},
    )


def test_wfconv_generated_gates_and_deployment_tasks_read_back_exactly(tmp_path):
    """wfconv's Prefect backend writes trigger rules as a guard at the top of
    the task body and sub-workflows as run_deployment tasks; both read back as
    the rule and the subworkflow they encode."""
    b, _ = parse_src(
        tmp_path,
        """
import subprocess
from prefect.deployments import run_deployment

def wfconv_gate(rule, upstream, task_id, branches=()):
    return True

def wfconv_skipped():
    return None

def wfconv_render(value):
    return value

@task(name="load")
def load():
    subprocess.run("load.sh", shell=True, check=True)

@task(name="on-error")
def on_error(upstream):
    if not wfconv_gate("one_failed", upstream, "on-error"):
        return wfconv_skipped()
    subprocess.run(wfconv_render("alert.sh {{ ds }}"), shell=True, check=True)

@task(name="child")
def child(upstream):
    if not wfconv_gate("all_done", upstream, "child"):
        return wfconv_skipped()
    run = run_deployment("child-flow/child-flow", parameters=wfconv_render({"day": "{{ ds }}"}))
    if not run.state.is_completed():
        raise RuntimeError("sub-workflow child did not complete")
    return str(run.id)

@flow
def f():
    l = load.submit()
    e = on_error.submit(upstream=allow_failure({"load": l}))
    child.submit(upstream=allow_failure({"load": l, "on-error": e})).wait()
""",
    )
    w = one(b)
    e = w.task("on-error")
    assert (e.trigger_rule, e.action.kind, e.action.fields) == (
        "one_failed",
        "shell",
        {"command": "alert.sh {{ ds }}"},
    )
    c = w.task("child")
    assert c.trigger_rule == "all_done"
    assert c.action.fields == {
        "deployment": "child-flow/child-flow",
        "workflow": "child-flow",
        "conf": {"day": "{{ ds }}"},
        "wait_for_completion": True,
    }
    assert edges(w) == {
        ("load", "on-error", "control"),
        ("load", "child", "control"),
        ("on-error", "child", "control"),
    }
    assert w.diagnostics == []  # the generated helpers say nothing about the graph


def test_prefect_runtime_values_become_neutral_templates(tmp_path):
    b, _ = parse_src(
        tmp_path,
        TASKS
        + """
from prefect.runtime import flow_run

@flow
def f():
    a(flow_run.scheduled_start_time)
    b(f"run {flow_run.id} at {flow_run.scheduled_start_time}", flow_run.parameters)
""",
    )
    w = one(b)
    assert w.task("a").action.fields["op_kwargs"] == {"x": "{{ logical_date }}"}
    assert w.task("b").action.fields["op_kwargs"] == {
        "x": "run {{ run_id }} at {{ logical_date }}",
        "y": "{{ params }}",
    }


def test_conditional_expressions_and_filters_keep_their_tasks(tmp_path):
    b, p = parse_src(
        tmp_path,
        TASKS
        + """
@flow
def f(full: bool = False, skip: list = []):
    r = a.submit() if full else b.submit()
    futs = [c.submit(x) for x in ["p", "q"] if x not in skip]
    c(r, futs)
""",
    )
    w = one(b)
    assert w.task_ids() == ["a", "b", "c", "c-1", "c-2"]
    n = line_of(p, "if full else")
    assert w.task("b").extra["prefect"]["conditions"] == [
        {"if": "full", "line": n, "branch": "else"}
    ]
    assert w.task("c-1").extra["prefect"]["conditions"] == [
        {"if": "x not in skip", "line": line_of(p, "if x not in skip"), "branch": "body"}
    ]
    assert {("a", "c-2", "data"), ("b", "c-2", "data"), ("c", "c-2", "data")} <= edges(w)
    assert [c for c, _ in codes(w)] == ["PF103", "PF103"]


# -- property: random flows ----------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def random_flows(draw):
    """A flow of n statements; statement k creates future fK from task tK by a
    direct call, submit or map, passing earlier futures as data, wait_for or
    allow_failure. Returns (source, expected data edges, expected wait_for
    edges, indexes of direct calls)."""
    n = draw(st.integers(1, 8))
    lines, data, control, direct = [], set(), set(), []
    for k in range(n):
        how = draw(st.sampled_from(["call", "submit", "map"]))
        earlier = list(range(k))
        args = draw(st.lists(st.sampled_from(earlier), max_size=2, unique=True)) if earlier else []
        waits = draw(st.lists(st.sampled_from(earlier), max_size=2, unique=True)) if earlier else []
        tolerant = draw(st.booleans())
        parts = []
        for j in args:
            parts.append(f"allow_failure(f{j})" if tolerant else f"f{j}")
            data.add((j, k))
        if how == "map":
            parts = [f"[{p}]" for p in parts] or ["[1, 2]"]
        wait = ""
        if waits and how != "call":
            wait = ", wait_for=[" + ", ".join(f"f{j}" for j in waits) + "]"
            control.update((j, k) for j in waits if (j, k) not in data)
        call = f"t{k}" if how == "call" else f"t{k}.{how}"
        if how == "call":
            direct.append(k)
        sep = ", " if parts and wait else ""
        lines.append(f"    f{k} = {call}({', '.join(parts)}{sep}{wait.lstrip(', ')})")
    tasks = "\n".join(f"@task\ndef t{k}(*xs):\n    return {k}\n" for k in range(n))
    src = tasks + "\n@flow\ndef rand():\n" + "\n".join(lines) + f"\n    return f{n - 1}\n"
    return src, data, control, direct


@given(random_flows())
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_random_flows_give_valid_graphs_with_their_dependencies(tmp_path, case):
    src, data, control, direct = case
    b, _ = parse_src(tmp_path, src)
    w = one(b)
    assert not w.has_errors(), [d.message for d in w.diagnostics]
    assert w.task_ids() == [f"t{k}" for k in range(len(w.tasks))]
    got = {(int(e.src[1:]), int(e.dst[1:])): e.kind for e in w.edges}
    for edge in data:
        assert got.get(edge) == "data", (edge, src)
    for edge in control:
        assert edge in got, (edge, src)
    # a direct call blocks the flow body: every later task runs after it
    g = nx.DiGraph(list(got))
    g.add_nodes_from(range(len(w.tasks)))
    for k in direct:
        for j in range(k + 1, len(w.tasks)):
            assert nx.has_path(g, k, j), (k, j, src)


def test_bom_and_hostile_nesting(tmp_path):
    p = tmp_path / "bom.py"
    p.write_text("\ufeff" + HEAD + "@flow\ndef f():\n    pass\n", encoding="utf-8")
    assert [w.id for w in pf.parse(str(p)).workflows] == ["f"]
    deep = tmp_path / "deep.py"
    deep.write_text(HEAD + "x = " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    with pytest.raises(InputError):
        pf.parse(str(deep))


def test_a_task_named_in_a_gate_branches_list_reads_back_as_a_branch(tmp_path):
    """wfconv_gate(..., branches=["pick"]) skips the task unless pick's return
    value names it: pick is a branch task, the guarded tasks its choices."""
    b, _ = parse_src(
        tmp_path,
        """
def wfconv_gate(rule, upstream, task_id, branches=()):
    return True

def wfconv_skipped():
    return None

@task(name="pick")
def pick():
    return "a"

@task(name="a")
def a(upstream):
    if not wfconv_gate("all_success", upstream, "a", branches=["pick"]):
        return wfconv_skipped()
    return 1

@task(name="plain")
def plain():
    return 2

@flow
def f():
    p = pick.submit()
    a.submit(upstream=allow_failure({"pick": p}))
    plain.submit().wait()
""",
    )
    w = one(b)
    kinds = {t.id: t.action.kind for t in w.tasks}
    assert kinds == {"pick": "branch", "a": "python", "plain": "python"}
    assert w.task("pick").action.fields["callable"] == "pick"
    assert edges(w) == {("pick", "a", "control")}


def test_rrule_dates_are_wall_clock_times_in_the_schedule_timezone():
    """Prefect's RRuleSchedule.to_rrule puts DTSTART/UNTIL in the schedule's
    timezone (it replaces their tzinfo), so a reader must too."""
    rule = "DTSTART:20231115T073000\nRRULE:FREQ=DAILY;BYHOUR=7;BYMINUTE=30;UNTIL=20240815T073000Z"
    got, _ = rrule_to_cron(rule, "Europe/Berlin")
    assert (got.cron, got.timezone) == ("30 7 * * *", "Europe/Berlin")
    assert (got.start, got.until) == ("2023-11-15T07:30:00+01:00", "2024-08-15T07:30:00+02:00")
    got, _ = rrule_to_cron(rule)  # no schedule timezone: as written (UTC)
    assert (got.start, got.until) == ("2023-11-15T07:30:00+00:00", "2024-08-15T07:30:00+00:00")


def test_materialize_tasks_produce_their_assets(tmp_path):
    """Prefect 3.4+ assets: @materialize(asset) is a task whose outputs are the
    asset keys; passing its result on is a data dependency."""
    b, _ = parse_src(
        tmp_path,
        """
        from prefect.assets import Asset, materialize

        raw = Asset(key="s3://bucket/raw")

        @materialize(raw, retries=2)
        def fetch():
            return {"rows": 1}

        @materialize("s3://bucket/clean")
        def clean(data):
            return data

        @flow
        def pipeline():
            clean(fetch())
        """,
    )
    (w,) = b.workflows
    got = {t.id: (t.outputs, t.retries) for t in w.tasks}
    assert got == {"fetch": (["s3://bucket/raw"], 2), "clean": (["s3://bucket/clean"], 0)}
    assert [(e.src, e.dst, e.kind) for e in w.edges] == [("fetch", "clean", "data")]
