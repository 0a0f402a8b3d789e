"""Luigi frontend: what a user sees when wfconv reads a Luigi module.

Import mode (the default) runs the module in a child process; static mode
(``--static``, and the fallback) never imports it. Both must describe the same
graph wherever the static reader can know it.
"""

from __future__ import annotations

import datetime
import json
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from wfconv.cli import main as cli
from wfconv.errors import InputError
from wfconv.frontends import luigi as lf
from wfconv.ir.jsonio import dumps, loads

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "luigi"


def parse(path, **options):
    return lf.parse(str(path), None, **options)


def write(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(body), encoding="utf-8")
    return p


def codes(diags) -> list[str]:
    return [d.code for d in diags]


def graph(bundle):
    """What must not depend on how the module was read."""
    out = []
    for w in bundle.workflows:
        tasks = [
            (
                t.id,
                t.action.kind,
                dict(t.action.fields),
                t.retries,
                t.timeout_s,
                t.params,
                t.outputs,
            )
            for t in w.tasks
        ]
        out.append((w.id, w.params, tasks, [(e.src, e.dst) for e in w.edges]))
    return out


# ---------------------------------------------------------------------------
# the corpus read both ways


AGREE = [
    "weekly_wrapper.py",
    "daily_sales.py",
    "diamond.py",
    "dynamic_deps.py",
    "external_inputs.py",
    "fan_in_loop.py",
    "multi_root.py",
    "namespaced.py",
    "retries.py",
    "util_decorators.py",
    "param_types.py",
    "interval_rollup.py",
]


@pytest.mark.parametrize("name", AGREE)
def test_static_reading_gives_the_imported_graph(name):
    imported = parse(CORPUS / name)
    static = parse(CORPUS / name, static=True)
    assert imported.workflows and graph(static) == graph(imported)
    assert all(w.extra["luigi"]["read"] == "import" for w in imported.workflows)
    assert all(w.extra["luigi"]["read"] == "static" for w in static.workflows)
    assert all("LG001" in codes(w.diagnostics) for w in static.workflows)


def test_static_reading_says_what_it_could_not_know(tmp_path):
    p = write(
        tmp_path,
        "clock.py",
        """\
        import datetime
        import os

        import luigi


        class Report(luigi.Task):
            day = luigi.DateParameter(default=datetime.date.today())

            def output(self):
                return luigi.LocalTarget(os.path.join(os.environ["OUT"], "report.csv"))
        """,
    )
    (w,) = parse(p, static=True).workflows
    lg101 = {d.line: d.message for d in w.diagnostics if d.code == "LG101"}
    assert set(lg101) == {8, 11}
    assert "clock" in lg101[8] and "OUT" in " ".join(
        d.message for d in w.diagnostics if d.line == 11
    )
    assert w.task("Report").outputs == ["LocalTarget"]
    (imported,) = parse(p).workflows  # the import knows today's date
    assert imported.task("Report").params["day"] == datetime.date.today().isoformat()


# ---------------------------------------------------------------------------
# mapping


def test_fan_in_through_a_dict_gives_readable_ids_and_keys():
    w = parse(CORPUS / "daily_sales.py").workflow("SalesReport")
    assert w.upstream("SalesReport") == [
        "Normalize(source=crm)",
        "Normalize(source=shop)",
        "Normalize(source=pos)",
    ]
    assert w.upstream("Normalize(source=shop)") == ["Extract(source=shop)"]
    t = w.task("Extract(source=pos)")
    # The date is the same for every instance, so it is not in the id, but it
    # is a parameter with its Luigi type.
    assert t.params == {"date": "2024-03-01", "source": "pos"}
    assert t.extra["luigi"]["param_types"]["date"] == "DateParameter"
    assert t.outputs == ["data/raw/pos/2024-03-01.csv"]
    assert t.action.kind == "python"
    assert {k: t.action.fields[k] for k in ("callable", "module")} == {
        "callable": "Extract.run",
        "module": "daily_sales",
    }
    # and its run() as a function of its output path (tests/test_luigi_standalone.py)
    assert t.action.fields["source_code"].startswith("def run_extract(output):\n")
    keys = w.task("SalesReport").extra["luigi"]["requires"]
    assert keys == {
        "shape": "dict",
        "keys": {
            "crm": ["Normalize(source=crm)"],
            "shop": ["Normalize(source=shop)"],
            "pos": ["Normalize(source=pos)"],
        },
    }
    assert w.schedule.kind == "manual" and w.source.engine == "luigi"


def test_diamond_keeps_one_instance_of_the_shared_task():
    w = parse(CORPUS / "diamond.py").workflow("Train")
    assert w.task_ids() == ["Fetch", "Features", "Labels", "Train"]
    assert w.downstream("Fetch") == ["Features", "Labels"]
    assert w.task("Labels").params == {"positive": ["churned", "cancelled"]}
    assert w.task("Train").params == {"balanced": True}
    assert w.task("Features").params == {"window": 7}


def test_ids_name_only_the_parameters_that_tell_instances_apart():
    w = parse(CORPUS / "multi_root.py").workflow("CompareModels")
    assert w.upstream("CompareModels") == [
        "Score(model=gbm, version=1)",
        "Score(model=gbm, version=2)",
        "Score(model=linear, version=1)",
    ]
    ids = parse(CORPUS / "fan_in_loop.py").workflows[0].task_ids()
    assert "Partition(region=amer, shard=1)" in ids and "RegionTotal(region=amer)" in ids
    assert not any("_" in i and i[-10:].isalnum() and "(" not in i for i in ids[:-1])


def test_external_and_wrapper_tasks():
    w = parse(CORPUS / "external_inputs.py").workflow("Reconcile")
    dump = w.task("UpstreamDump")
    assert dump.action.kind == "external"
    assert dump.action.fields == {"output": "/mnt/billing/dump.csv"}
    # luigi.task.externalize(Vendors()) makes that one instance external.
    assert w.task("Vendors").action.kind == "external"
    wrap = parse(CORPUS / "weekly_wrapper.py").workflow("Publish").task("WeeklyReports")
    assert wrap.action.kind == "empty"
    assert wrap.extra["luigi"]["kind"] == "wrapper"
    assert wrap.params == {"week": "2024-W10"}


def test_retry_count_counts_attempts_and_worker_timeout_is_the_timeout():
    b = parse(CORPUS / "retries.py")
    # The luigi.Config section is not a task, so not a root either.
    assert [w.id for w in b.workflows] == ["Load"]
    assert [w.id for w in parse(CORPUS / "retries.py", static=True).workflows] == ["Load"]
    w = b.workflow("Load")
    flaky, parse_, load = w.task("FlakyDownload"), w.task("Parse"), w.task("Load")
    # retry_count=5: disabled after the 5th failure -> 5 attempts = 4 retries.
    assert (flaky.retries, flaky.retry_delay_s, flaky.timeout_s) == (4, 900.0, 600.0)
    assert flaky.extra["luigi"]["retry_count"] == 5
    assert flaky.extra["luigi"]["resources"] == {"api": 1}
    assert flaky.extra["luigi"]["priority"] == 10
    assert (parse_.retries, parse_.timeout_s) == (0, 120.0)  # property, retry_count=1
    assert load.retries == 0 and load.extra["luigi"]["owner_email"] == "data-team@example.com"
    lg040 = [d for d in w.diagnostics if d.code == "LG040"]
    assert [d.line for d in lg040] == [12, 30, 47]


def test_no_retry_count_means_no_retries():
    t = parse(CORPUS / "diamond.py").workflows[0].task("Fetch")
    assert t.retries == 0 and "retry_count" not in t.extra["luigi"]


def test_namespaces_are_part_of_ids():
    w = parse(CORPUS / "namespaced.py").workflow("Dashboard")
    assert w.upstream("Dashboard") == ["marketing.Clean", "finance.Clean"]
    assert w.upstream("finance.Clean") == ["finance.Ledger"]
    # Two classes named Clean: each task points at its own class line.
    assert w.task("marketing.Clean").source.line == 6
    assert w.task("finance.Clean").source.line == 29
    assert w.task("finance.Clean").extra["luigi"]["namespace"] == "finance"


def test_dynamic_dependencies_are_a_warning_at_the_yield():
    w = parse(CORPUS / "dynamic_deps.py").workflow("ConvertAll")
    assert w.task_ids() == ["Manifest", "ConvertAll"]
    d = [d for d in w.diagnostics if d.code == "LG030"]
    assert len(d) == 1 and d[0].line == 35 and d[0].severity == "warning"


def test_roots_are_classes_nobody_requires_and_defaults_can_build():
    b = parse(CORPUS / "multi_root.py")
    assert [w.id for w in b.workflows] == ["CompareModels", "Cleanup"]
    lg012 = {d.message.split()[0]: d.line for d in b.diagnostics if d.code == "LG012"}
    assert lg012 == {"Score": 7, "Backfill": 29}


def test_root_and_param_options_choose_another_graph():
    for static in (False, True):
        b = parse(
            CORPUS / "multi_root.py",
            roots=["Backfill"],
            params={"day": "2024-05-01"},
            static=static,
        )
        (w,) = b.workflows
        assert w.id == "Backfill" and w.params == {"day": "2024-05-01"}
        assert w.upstream("Backfill") == ["Score"]
        assert w.task("Score").params == {"model": "daily-2024-05-01", "version": 1}


def test_params_apply_to_automatic_roots_too():
    b = parse(CORPUS / "daily_sales.py", params={"date": "2024-12-31"})
    w = b.workflow("SalesReport")
    assert w.task("Extract(source=crm)").outputs == ["data/raw/crm/2024-12-31.csv"]


@pytest.mark.parametrize("static", [False, True])
@pytest.mark.parametrize(
    "options, message",
    [
        ({"roots": ["Nope"]}, "--root Nope: no such task class"),
        ({"params": {"colour": "red"}}, "--param colour: no root task has a parameter"),
        ({"roots": ["Backfill"]}, "no value for 'day'"),
        ({"roots": ["Backfill"], "params": {"day": "yesterday"}}, "--root Backfill"),
    ],
)
def test_bad_options_are_input_errors(options, message, static):
    with pytest.raises(InputError) as err:
        parse(CORPUS / "multi_root.py", static=static, **options)
    assert message in str(err.value)


# ---------------------------------------------------------------------------
# import problems


def test_syntax_error_is_path_and_line_exit_2():
    result = CliRunner().invoke(cli, ["parse", str(CORPUS / "broken_syntax.py")])
    assert result.exit_code == 2
    assert result.output.strip().endswith("broken_syntax.py:7: syntax error: expected ':'")
    assert "Traceback" not in result.output


def test_module_that_cannot_be_imported_is_read_statically(tmp_path):
    p = write(
        tmp_path,
        "needs_driver.py",
        """\
        import luigi
        import psycopg2_not_installed  # noqa


        class Export(luigi.Task):
            table = luigi.Parameter(default="orders")

            def output(self):
                return luigi.LocalTarget(f"/exports/{self.table}.csv")
        """,
    )
    (w,) = parse(p).workflows
    assert w.extra["luigi"]["read"] == "static"
    d = w.diagnostics[0]
    assert d.code == "LG002" and d.line == 2 and "psycopg2_not_installed" in d.message
    assert w.task("Export").outputs == ["/exports/orders.csv"]


def test_import_that_hangs_is_killed_and_read_statically(tmp_path):
    p = write(
        tmp_path,
        "slow.py",
        """\
        import time

        import luigi

        time.sleep(60)


        class Nap(luigi.Task):
            pass
        """,
    )
    start = time.monotonic()
    (w,) = parse(p, timeout=1).workflows
    assert time.monotonic() - start < 10
    assert w.diagnostics[0].code == "LG003" and "1 s" in w.diagnostics[0].message
    assert w.task_ids() == ["Nap"]
    with pytest.raises(InputError, match="positive number"):
        parse(p, timeout="soon")


def test_timeout_from_the_environment(tmp_path, monkeypatch):
    p = write(tmp_path, "slow2.py", "import time\nimport luigi\ntime.sleep(60)\n")
    monkeypatch.setenv("WFCONV_LUIGI_TIMEOUT", "0.5")
    b = parse(p)
    assert b.workflows == [] and codes(b.diagnostics) == ["LG003", "LG010"]


def test_prints_and_exits_of_the_module_do_not_break_the_answer(tmp_path):
    p = write(
        tmp_path,
        "noisy.py",
        """\
        import luigi

        print('{"not": "json"')


        class Hello(luigi.Task):
            def requires(self):
                print("asked")
                return []
        """,
    )
    (w,) = parse(p).workflows
    assert w.task_ids() == ["Hello"] and w.extra["luigi"]["read"] == "import"
    q = write(
        tmp_path,
        "exits.py",
        "import sys\nimport luigi\nsys.exit(3)\n\nclass A(luigi.Task):\n    pass\n",
    )
    (w,) = parse(q).workflows
    assert w.diagnostics[0].code == "LG002" and "SystemExit" in w.diagnostics[0].message


def test_no_bytecode_is_left_beside_the_module(tmp_path):
    p = write(tmp_path, "clean.py", "import luigi\n\nclass A(luigi.Task):\n    pass\n")
    parse(p)
    assert not (tmp_path / "__pycache__").exists()


def test_requires_that_raises_is_a_warning_and_the_rest_is_kept(tmp_path):
    p = write(
        tmp_path,
        "raises.py",
        """\
        import luigi


        class A(luigi.Task):
            pass


        class B(luigi.Task):
            def requires(self):
                return {"a": A(), "oops": 1 / 0}
        """,
    )
    b = parse(p)
    # B's graph is unknown, but B names A in requires(): A is still no root.
    (w,) = b.workflows
    assert w.id == "B" and w.task_ids() == ["B"]
    d = [d for d in w.diagnostics if d.code == "LG020"]
    assert d and d[0].line == 10 and "ZeroDivisionError" in d[0].message


def test_runaway_recursion_stops_with_an_error(tmp_path):
    p = write(
        tmp_path,
        "forever.py",
        """\
        import luigi


        class Step(luigi.Task):
            n = luigi.IntParameter(default=0)

            def requires(self):
                return Step(n=self.n + 1)
        """,
    )
    for static in (False, True):
        (w,) = parse(p, static=static, max_tasks=50).workflows
        assert len(w.tasks) == 50
        assert [d.severity for d in w.diagnostics if d.code == "LG023"] == ["error"]


def test_module_without_tasks(tmp_path):
    p = write(tmp_path, "empty.py", "import luigi\n\nX = 1\n")
    b = parse(p)
    assert b.workflows == [] and codes(b.diagnostics) == ["LG010"]


# ---------------------------------------------------------------------------
# constructs, both ways


CONSTRUCTS = """\
import datetime

import luigi
from luigi.util import inherits, requires


class Base(luigi.Task):
    date = luigi.DateParameter(default=datetime.date(2024, 2, 29))

    def output(self):
        return luigi.LocalTarget("out/%s/%s.csv" % (self.task_family, self.date))


class Extract(Base):
    pass


@requires(Extract)
class Transform(Base):
    retry_count = 2


@inherits(Transform)
class Load(luigi.Task):
    fast = luigi.BoolParameter(default=False)

    def requires(self):
        yield self.clone(Transform)
        yield from [Audit(kind=k) for k in ("rows", "sums")]

    @property
    def worker_timeout(self):
        return 30


class Audit(luigi.ExternalTask):
    kind = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(f"audit/{self.kind}.ok")
"""


@pytest.mark.parametrize("static", [False, True])
def test_util_decorators_clone_generators_and_inheritance(tmp_path, static):
    p = write(tmp_path, "constructs.py", CONSTRUCTS)
    b = parse(p, static=static)
    assert [w.id for w in b.workflows] == ["Load"]
    w = b.workflows[0]
    assert w.upstream("Load") == ["Transform", "Audit(kind=rows)", "Audit(kind=sums)"]
    assert w.upstream("Transform") == ["Extract"]
    assert w.task("Extract").outputs == ["out/Extract/2024-02-29.csv"]
    assert w.task("Transform").retries == 1
    assert w.task("Load").timeout_s == 30.0
    assert w.task("Load").params == {"date": "2024-02-29", "fast": False}
    assert w.task("Audit(kind=rows)").action.kind == "external"
    assert w.task("Load").extra["luigi"]["requires"] == {"shape": "generator"}
    assert any(d.code == "LG013" for d in b.diagnostics)  # Base is a template


def test_ir_round_trips_through_json():
    b = parse(CORPUS / "daily_sales.py")
    text = dumps(b)
    assert dumps(loads(text)) == text
    assert json.loads(text)["workflows"][0]["id"] == "SalesReport"


def test_cli_static_flag_and_root_option():
    runner = CliRunner()
    r = runner.invoke(cli, ["parse", "--static", str(CORPUS / "retries.py")])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["workflows"][0]["extra"]["luigi"]["read"] == "static"
    r = runner.invoke(
        cli, ["parse", "--root", "Score", "--param", "model=xgb", str(CORPUS / "multi_root.py")]
    )
    assert r.exit_code == 0, r.output
    (w,) = json.loads(r.output)["workflows"]
    assert w["id"] == "Score" and w["params"] == {"model": "xgb", "version": 1}


def test_module_inside_a_package_is_imported_with_its_package(tmp_path):
    pkg = tmp_path / "pipelines"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    write(
        pkg,
        "common.py",
        """\
        import luigi


        class Dated(luigi.Task):
            day = luigi.Parameter(default="2024-01-01")
        """,
    )
    p = write(
        pkg,
        "nightly.py",
        """\
        import luigi

        from .common import Dated


        class Pull(Dated):
            def output(self):
                return luigi.LocalTarget(f"pull/{self.day}")


        class Nightly(Dated):
            def requires(self):
                return Pull(day=self.day)
        """,
    )
    (w,) = parse(p).workflows
    assert w.extra["luigi"]["read"] == "import"
    assert w.task_ids() == ["Pull", "Nightly"]
    assert w.task("Pull").action.fields["module"] == "pipelines.nightly"
    assert w.task("Pull").outputs == ["pull/2024-01-01"]
    # Statically the base class of another file is unknown: read as a task,
    # with a diagnostic, and its parameter is not known.
    (s,) = parse(p, static=True).workflows
    assert s.task_ids() == ["Pull", "Nightly"]
    assert s.task("Pull").action.fields["module"] == "pipelines.nightly"
    assert any("base class is not known statically" in d.message for d in s.diagnostics)


def test_the_pipeline_is_not_run_while_the_module_is_read(tmp_path):
    marker = tmp_path / "ran.txt"
    p = write(
        tmp_path,
        "script.py",
        f"""\
        import luigi


        class Job(luigi.Task):
            def output(self):
                return luigi.LocalTarget({str(marker)!r})

            def run(self):
                self.output().open("w").close()


        luigi.build([Job()], local_scheduler=True)
        """,
    )
    b = parse(p)
    assert not marker.exists()
    assert [w.id for w in b.workflows] == ["Job"]
    d = [d for d in b.diagnostics if d.code == "LG014"]
    assert d and d[0].line == 12 and "luigi.build" in d[0].message


@pytest.mark.parametrize("static", [False, True])
def test_root_by_namespaced_family_once(static):
    b = parse(CORPUS / "namespaced.py", roots=["finance.Clean", "finance.Clean"], static=static)
    (w,) = b.workflows
    assert w.id == "finance.Clean" and w.task_ids() == ["finance.Ledger", "finance.Clean"]


@pytest.mark.parametrize("static", [False, True])
def test_a_requires_cycle_is_reported_not_looped(tmp_path, static):
    p = write(
        tmp_path,
        "cycle.py",
        """\
        import luigi


        class Ping(luigi.Task):
            def requires(self):
                return Pong()


        class Pong(luigi.Task):
            def requires(self):
                return Ping()


        class Game(luigi.WrapperTask):
            def requires(self):
                return Ping()
        """,
    )
    (w,) = parse(p, static=static).workflows
    assert w.id == "Game" and sorted(w.task_ids()) == ["Game", "Ping", "Pong"]
    cyc = [d for d in w.diagnostics if d.code == "IR004"]
    assert cyc and cyc[0].severity == "error"


@pytest.mark.parametrize("static", [False, True])
def test_hostile_parameter_values_survive_in_ids_and_json(tmp_path, static):
    p = write(
        tmp_path,
        "hostile.py",
        """\
        import luigi

        NAMES = ["a\\"b", "line\\nbreak", "naïve ☃", "back\\\\slash", "x\\"\\"\\"y"]


        class Part(luigi.Task):
            name = luigi.Parameter()


        class All(luigi.WrapperTask):
            def requires(self):
                return [Part(name=n) for n in NAMES]
        """,
    )
    b = parse(p, static=static)
    (w,) = b.workflows
    names = [w.task(t).params["name"] for t in w.upstream("All")]
    assert names == ['a"b', "line\nbreak", "naïve ☃", "back\\slash", 'x"""y']
    assert w.upstream("All")[2] == "Part(name=naïve ☃)"
    assert dumps(loads(dumps(b))) == dumps(b)


@pytest.mark.parametrize("golden", sorted((ROOT / "corpus" / "golden" / "luigi").glob("*.json")))
def test_goldens_are_valid_ir_documents(golden):
    text = golden.read_text(encoding="utf-8")
    assert dumps(loads(text, str(golden))) == text


def test_overridden_run_is_not_dynamic_and_error_lines_are_the_users(tmp_path):
    p = write(
        tmp_path,
        "override.py",
        """\
        import luigi


        class Base(luigi.Task):
            def run(self):
                yield Other()


        class Other(luigi.Task):
            pass


        class Plain(Base):
            def run(self):
                pass


        class Broken(luigi.Task):
            def requires(self):
                return luigi.task.flatten(int("x"))
        """,
    )
    for static in (False, True):
        b = parse(p, static=static, roots=["Plain", "Broken"])
        plain, broken = b.workflows
        assert not [d for d in plain.diagnostics if d.code == "LG030"]
        if not static:
            (d,) = [d for d in broken.diagnostics if d.code == "LG020"]
            assert d.line == 20 and "ValueError" in d.message


def test_the_interpreter_for_the_import_can_be_chosen(tmp_path, monkeypatch):
    import sys

    (w,) = parse(CORPUS / "diamond.py", python=sys.executable).workflows
    assert w.extra["luigi"]["read"] == "import"
    monkeypatch.setenv("WFCONV_LUIGI_PYTHON", str(tmp_path / "no-such-python"))
    (w,) = parse(CORPUS / "diamond.py").workflows
    assert w.extra["luigi"]["read"] == "static"
    d = w.diagnostics[0]
    assert d.code == "LG004" and "no-such-python" in d.message
    assert w.task_ids() == ["Fetch", "Features", "Labels", "Train"]


INHERITANCE = """\
import luigi
from luigi.contrib.external_program import ExternalProgramTask


class Base(luigi.Task):
    task_namespace = "warehouse"


class Mid(Base):
    pass


class Landed(Mid):
    run = None

    def output(self):
        return luigi.LocalTarget("landing/file.csv")


class Load(ExternalProgramTask):
    def program_args(self):
        return ["load.sh"]

    def requires(self):
        return Landed()


luigi.namespace("other")


class Top(Mid):
    def requires(self):
        return Load()


class Side(luigi.Task):
    def requires(self):
        return Top()
"""


@pytest.mark.parametrize("static", [False, True])
def test_namespaces_run_none_and_library_bases(tmp_path, static):
    p = write(tmp_path, "inherit.py", INHERITANCE)
    b = parse(p, static=static)
    (w,) = b.workflows
    assert w.id == "other.Side"  # luigi.namespace() in force for a class without its own
    assert w.task_ids() == ["warehouse.Landed", "Load", "warehouse.Top", "other.Side"]
    assert w.task("warehouse.Landed").action.kind == "external"
    base = w.task("Load").extra["luigi"]["base"]
    assert base == "luigi.contrib.external_program.ExternalProgramTask"


def test_threads_and_processes_the_module_starts_do_not_lose_the_answer(tmp_path):
    p = write(
        tmp_path,
        "lingering.py",
        """\
        import subprocess
        import sys
        import threading
        import time

        import luigi

        threading.Thread(target=time.sleep, args=(60,)).start()
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


        class Job(luigi.Task):
            pass
        """,
    )
    start = time.monotonic()
    (w,) = parse(p, timeout=3).workflows
    assert time.monotonic() - start < 10
    assert w.extra["luigi"]["read"] == "import" and w.task_ids() == ["Job"]


OVERRIDDEN_FAMILY = """\
import luigi

SHARED = ["day"]


class Base(luigi.Task):
    original_id = None
    day = luigi.Parameter(default="2024-01-01")

    @classmethod
    def get_task_family(cls):
        return cls.original_id or super().get_task_family()

    def shared(self):
        return {name: getattr(self, name) for name in SHARED}


class Extract(Base):
    original_id = "extract orders"


class Load(Base):
    original_id = "load.orders"

    def requires(self):
        return [Extract(**self.shared())]


class Flow(luigi.WrapperTask, Base):
    def requires(self):
        return Load(**self.shared())
"""


@pytest.mark.parametrize("static", [False, True])
def test_an_overriding_get_task_family_gives_the_ids(tmp_path, static):
    # The pattern wfconv's own Luigi output uses to keep the source's task ids.
    p = write(tmp_path, "family.py", OVERRIDDEN_FAMILY)
    (w,) = parse(p, static=static).workflows
    assert w.id == "Flow"
    assert w.task_ids() == ["extract orders", "load.orders", "Flow"]
    assert w.task("extract orders").params == {"day": "2024-01-01"}


# ---------------------------------------------------------------------------
# Luigi itself agrees


_RUN_IN_LUIGI = """\
import importlib.util, json, sys
import luigi

ran = []


@luigi.Task.event_handler(luigi.Event.SUCCESS)
def done(task):
    outs = [getattr(t, "path", type(t).__name__) for t in luigi.task.flatten(task.output())]
    deps = sorted(d.get_task_family() for d in task.deps())
    ran.append([task.get_task_family(), outs, deps])


spec = importlib.util.spec_from_file_location(sys.argv[2], sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules[sys.argv[2]] = module
spec.loader.exec_module(module)
ok = luigi.build([getattr(module, sys.argv[3])()], local_scheduler=True, workers=1,
                 log_level="ERROR")
print(json.dumps({"ok": ok, "ran": ran}))
"""


@pytest.mark.engine
@pytest.mark.parametrize(
    "name, root",
    [
        ("daily_sales.py", "SalesReport"),
        ("diamond.py", "Train"),
        ("fan_in_loop.py", "GlobalTotal"),
        ("util_decorators.py", "Publish"),
        ("namespaced.py", "Dashboard"),
    ],
)
def test_luigi_runs_exactly_the_tasks_of_the_ir(tmp_path, name, root):
    """Luigi's own run of the root (in an empty folder: every task is
    incomplete) executes one task per IR task, with the same outputs and
    requirements."""
    import subprocess
    import sys

    src = CORPUS / name
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_IN_LUIGI, str(src), src.stem, root],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["ok"] is True
    w = parse(src).workflow(root)
    families = {t.id: t.extra["luigi"]["family"] for t in w.tasks}
    ir = sorted(
        [families[t.id], t.outputs, sorted(families[u] for u in w.upstream(t.id))] for t in w.tasks
    )
    assert sorted(result["ran"]) == ir


_FLAKY = """\
import json
import luigi

ATTEMPTS = []


class Flaky(luigi.Task):
    retry_count = {n}

    def run(self):
        ATTEMPTS.append(1)
        raise RuntimeError("boom")


if __name__ == "__main__":
    luigi.build([Flaky()], local_scheduler=True, workers=1, log_level="ERROR")
    print(json.dumps(len(ATTEMPTS)))
"""

_KEEP_ALIVE_CFG = """\
[worker]
keep_alive = true
wait_interval = 0.1
wait_jitter = 0.0
max_keep_alive_idle_duration = 10

[scheduler]
retry_delay = 0.1
"""


@pytest.mark.engine
@pytest.mark.parametrize("n", [0, 1, 3])
def test_retries_give_the_attempts_luigi_makes(tmp_path, n):
    """docs/semantics.md §3: Luigi disables a task once its failures reach retry_count
    (with keep_alive); the IR's retries + 1 must be that number of attempts."""
    import os
    import subprocess
    import sys

    src = write(tmp_path, "flaky.py", _FLAKY.format(n=n))
    cfg = write(tmp_path, "luigi.cfg", _KEEP_ALIVE_CFG)
    proc = subprocess.run(
        [sys.executable, str(src)],
        cwd=tmp_path,
        env={**os.environ, "LUIGI_CONFIG_PATH": str(cfg)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    attempts = json.loads(proc.stdout.strip().splitlines()[-1])
    (w,) = parse(src).workflows
    assert w.task("Flaky").retries + 1 == attempts == max(n, 1)


_SLOW = """\
import json
import time

import luigi


class Slow(luigi.Task):
    worker_timeout = 1

    def run(self):
        time.sleep(30)


if __name__ == "__main__":
    start = time.time()
    ok = luigi.build([Slow()], local_scheduler=True, workers=1, log_level="ERROR")
    print(json.dumps([ok, time.time() - start]))
"""


@pytest.mark.engine
def test_worker_timeout_fails_the_attempt_like_timeout_s(tmp_path):
    """A worker_timeout makes Luigi run the task in a subprocess and kill it
    (even with one worker), which is what timeout_s means."""
    import subprocess
    import sys

    src = write(tmp_path, "slow.py", _SLOW)
    proc = subprocess.run(
        [sys.executable, str(src)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    ok, seconds = json.loads(proc.stdout.strip().splitlines()[-1])
    assert ok is False and seconds < 20
    (w,) = parse(src).workflows
    assert w.task("Slow").timeout_s == 1.0


_PLAIN_RUNS = """
import subprocess

import luigi


class Base(luigi.Task):
    def output(self):
        return luigi.LocalTarget("out/" + type(self).__name__)

    def mark_done(self):
        with self.output().open("w") as fh:
            fh.write("done")


class ShellBase(Base):
    def shell(self, command):
        subprocess.run(command, shell=True, check=True)


class NotAShell(Base):
    def shell(self, command):
        print(command)


class Extract(ShellBase):
    day = luigi.Parameter(default="2024-01-01")
    retry_count = 2

    def run(self):
        self.shell("echo extract")
        self.mark_done()


class Echo(NotAShell):
    def requires(self):
        return Extract()

    def run(self):
        self.shell("echo only printed")
        self.mark_done()


class Todo(Base):
    def requires(self):
        return Echo()

    def run(self):
        raise NotImplementedError("not written yet")


class Marker(Base):
    def requires(self):
        return Todo()

    def run(self):
        self.mark_done()


class Alert(Base):
    day = luigi.Parameter()

    def run(self):
        print("extract failed on", self.day)


@Extract.event_handler(luigi.Event.FAILURE)
def _alert(task, exception):
    Alert(day=task.day).run()
"""


@pytest.mark.parametrize("static", [True, False])
def test_plain_run_bodies_and_failure_handlers(tmp_path, static):
    """A run() that plainly runs a shell command, fails, or only marks itself
    done is that action; a `shell` method that is no shell leaves a Python
    action. A task class a FAILURE handler builds runs after the failed task
    (one_failed), with the failed task's parameters of the same name."""
    src = write(tmp_path, "plain_runs.py", _PLAIN_RUNS)
    (w,) = parse(src, static=static).workflows
    kinds = {
        t.id: (t.action.kind, t.action.fields.get("command") or t.action.fields.get("message"))
        for t in w.tasks
    }
    assert kinds == {
        "Extract": ("shell", "echo extract"),
        "Echo": ("python", None),
        "Todo": ("fail", "not written yet"),
        "Marker": ("empty", None),
        "Alert": ("python", None),
    }
    assert ("Extract", "Alert") in {(e.src, e.dst) for e in w.edges}
    assert w.task("Alert").trigger_rule == "one_failed"
    assert w.task("Alert").params == {"day": "2024-01-01"}
    assert w.task("Marker").trigger_rule == "all_success"
    assert w.schedule.kind == "manual"  # SCHEDULE is read only from wfconv's own modules
    # Extract has retries: Luigi starts Alert after each failed attempt
    assert [(d.code, d.task) for d in w.diagnostics if d.code == "LG026"] == [("LG026", "Alert")]


_HANDLER_ALSO_REQUIRED = """
import luigi


class Notify(luigi.Task):
    def run(self):
        print("notify")


class Load(luigi.Task):
    def run(self):
        print("load")


class Report(luigi.Task):
    def requires(self):
        return [Load(), Notify()]


@Load.event_handler(luigi.Event.FAILURE)
def _notify(task, exception):
    Notify().run()
"""


def test_a_handler_class_the_graph_requires_keeps_its_requires_edges(tmp_path):
    """Notify runs because Report requires it: a FAILURE handler naming it too
    does not make it a one_failed task."""
    src = write(tmp_path, "also_required.py", _HANDLER_ALSO_REQUIRED)
    for static in (True, False):
        (w,) = parse(src, static=static).workflows
        assert sorted((e.src, e.dst) for e in w.edges) == [("Load", "Report"), ("Notify", "Report")]
        assert w.task("Notify").trigger_rule == "all_success"


def test_luigi_2_boolean_parameter_parses_its_value_as_a_bool(tmp_path):
    """BooleanParameter (Luigi 1.x/2.x name of BoolParameter): --param x=false is
    False, not the truthy string 'false' (which chose the wrong requires() branch)."""
    p = tmp_path / "old_bool.py"
    p.write_text(
        textwrap.dedent(
            """
            import luigi

            class Local(luigi.Task):
                def run(self):
                    pass

            class Remote(luigi.Task):
                def run(self):
                    pass

            class Top(luigi.Task):
                use_hadoop = luigi.BooleanParameter()

                def requires(self):
                    if self.use_hadoop:
                        return Remote()
                    return Local()
            """
        ),
        encoding="utf-8",
    )
    b = parse(p, static=True, roots=["Top"], params={"use_hadoop": "false"})
    assert [w.task_ids() for w in b.workflows] == [["Local", "Top"]]
