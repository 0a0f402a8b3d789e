"""Oozie backend: series-parallel nesting, workflow.xml shape and graph rules,
coordinator/job.properties, the ledger, determinism, hostile strings, and the
round trip through the Oozie frontend."""

from __future__ import annotations

import datetime
import importlib.util
import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from wfconv.backends import oozie
from wfconv.backends.oozie.context import _xml_safe
from wfconv.backends.seriesparallel import Leaf, Parallel, Series, decompose, implied_edges
from wfconv.ir.model import Action, Edge, Schedule, Task, Workflow

WF = "{uri:oozie:workflow:1.0}"
SHELL = "{uri:oozie:shell-action:1.0}"


def wf(tasks, edges, **kw) -> Workflow:
    ts = [
        t if isinstance(t, Task) else Task(t, Action("shell", {"command": f"echo {t}"}))
        for t in tasks
    ]
    es = [e if isinstance(e, Edge) else Edge(*e) for e in edges]
    return Workflow(id=kw.pop("id", "wf"), tasks=ts, edges=es, **kw)


def xml(e) -> etree._Element:
    return etree.fromstring(e.files["workflow.xml"].encode())


def codes(e) -> list[str]:
    return [d.code for d in e.diagnostics]


def node(root, name):
    for el in root:
        if isinstance(el.tag, str) and el.get("name") == name:
            return el
    raise KeyError(name)


def ok_to(root, name):
    return node(root, name).find(WF + "ok").get("to")


def err_to(root, name):
    return node(root, name).find(WF + "error").get("to")


def reach(nodes, edges):
    succ = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
    out = set()
    for n in nodes:
        stack, seen = list(succ[n]), set()
        while stack:
            m = stack.pop()
            if m not in seen:
                seen.add(m)
                stack.extend(succ[m])
        out |= {(n, m) for m in seen}
    return out


# ---------------------------------------------------------------------------
# series-parallel decomposition


def test_series_parallel_graph_needs_no_extra_ordering():
    d = decompose(["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    assert d.losses == []
    assert d.tree == Series([Leaf("a"), Parallel([Leaf("b"), Leaf("c")]), Leaf("d")])


def test_n_shaped_graph_loses_exactly_one_ordering():
    # a -> c, b -> c, b -> d : no nesting without making d wait for a
    d = decompose(["a", "b", "c", "d"], [("a", "c"), ("b", "c"), ("b", "d")])
    assert [lost.pairs for lost in d.losses] == [[("a", "d")]]
    assert d.tree == Series([Parallel([Leaf("a"), Leaf("b")]), Parallel([Leaf("c"), Leaf("d")])])


def test_independent_chains_stay_parallel():
    d = decompose(["a", "b", "x", "y"], [("a", "b"), ("x", "y")])
    assert d.losses == []
    assert d.tree == Parallel([Series([Leaf("a"), Leaf("b")]), Series([Leaf("x"), Leaf("y")])])


def test_cycle_is_refused():
    with pytest.raises(ValueError):
        decompose(["a", "b"], [("a", "b"), ("b", "a")])


@st.composite
def dags(draw, max_nodes=9):
    n = draw(st.integers(1, max_nodes))
    nodes = [f"t{i}" for i in range(n)]
    pairs = [(nodes[i], nodes[j]) for i, j in itertools.combinations(range(n), 2)]
    edges = (
        draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs))) if pairs else []
    )
    return nodes, edges


@settings(max_examples=150, deadline=None)
@given(dags())
def test_decomposition_keeps_every_ordering_and_reports_exactly_the_added_ones(dag):
    nodes, edges = dag
    d = decompose(nodes, edges)
    imposed = implied_edges(d.tree)
    original = reach(nodes, edges)
    assert original <= imposed  # no dependency is ever dropped
    reported = {p for lost in d.losses for p in lost.pairs}
    assert reported == imposed - original  # every added ordering is in the ledger
    assert sorted(n for n in _leaves(d.tree)) == sorted(nodes)


def _leaves(t):
    if isinstance(t, Leaf):
        return [t.node]
    return [x for c in t.children for x in _leaves(c)]


# ---------------------------------------------------------------------------
# workflow.xml


def test_diamond_is_a_fork_join_with_schema_valid_xml():
    e = oozie.emit(wf(["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]))
    assert oozie.validate_workflow_xml(e.files["workflow.xml"]) == []
    root = xml(e)
    assert root.find(WF + "start").get("to") == "a"
    fork = node(root, ok_to(root, "a"))
    assert etree.QName(fork).localname == "fork"
    assert [p.get("start") for p in fork] == ["b", "c"]
    join = ok_to(root, "b")
    assert ok_to(root, "c") == join and node(root, join).get("to") == "d"
    assert ok_to(root, "d") == "end"
    assert err_to(root, "a") == "kill"
    assert node(root, "kill").find(WF + "message").text.startswith("Action failed")
    assert "BO101" not in codes(e)
    shell = node(root, "a").find(SHELL + "shell")
    assert [c.text for c in shell] == ["echo", "a"]


def test_non_series_parallel_dag_reports_the_lost_ordering_by_name():
    e = oozie.emit(wf(["a", "b", "c", "d"], [("a", "c"), ("b", "c"), ("b", "d")]))
    assert oozie.validate_workflow_xml(e.files["workflow.xml"]) == []
    lost = [d for d in e.diagnostics if d.code == "BO101"]
    assert len(lost) == 1 and "a -> d" in lost[0].message and lost[0].severity == "warning"


def test_error_edge_becomes_error_transition_and_kill_task_a_kill_node():
    w = wf(
        [
            "load",
            Task("cleanup", Action("shell", {"command": "rm -rf tmp"}), trigger_rule="one_failed"),
            Task("die", Action("fail", {"message": "load failed: ${wf:lastErrorNode()}"})),
        ],
        [Edge("load", "cleanup", "error"), ("cleanup", "die")],
    )
    e = oozie.emit(w)
    root = xml(e)
    assert oozie.validate_workflow_xml(e.files["workflow.xml"]) == []
    assert ok_to(root, "load") == "end"
    assert err_to(root, "load") == "cleanup"
    assert ok_to(root, "cleanup") == "die"
    die = node(root, "die")
    assert etree.QName(die).localname == "kill"
    # user text that looks like EL is kept literal
    assert die.find(WF + "message").text == "load failed: ${'$'}{wf:lastErrorNode()}"


def test_one_failed_without_error_edge_is_an_error_handler_too():
    w = wf(
        [
            "a",
            "b",
            Task(
                "alert",
                Action("email", {"to": ["ops@x"], "subject": "s", "body": "b"}),
                trigger_rule="one_failed",
            ),
        ],
        [("a", "b"), ("a", "alert"), ("b", "alert")],
    )
    e = oozie.emit(w)
    root = xml(e)
    assert err_to(root, "a") == "alert" and err_to(root, "b") == "alert"
    assert ok_to(root, "a") == "b" and ok_to(root, "b") == "end"
    email = node(root, "alert").find("{uri:oozie:email-action:0.2}email")
    assert email.find("{uri:oozie:email-action:0.2}to").text == "ops@x"


def test_decision_with_cases_and_default_converges_on_the_join_task():
    br = Task(
        "check",
        Action(
            "branch", {"cases": [{"when": "${fs:exists('/in')}", "to": "full"}], "default": "skip"}
        ),
    )
    w = wf(
        [
            "start_",
            br,
            "full",
            "skip",
            Task("after", Action("empty"), trigger_rule="none_failed_min_one_success"),
        ],
        [
            ("start_", "check"),
            ("check", "full"),
            ("check", "skip"),
            ("full", "after"),
            ("skip", "after"),
        ],
    )
    e = oozie.emit(w)
    assert oozie.validate_workflow_xml(e.files["workflow.xml"]) == []
    root = xml(e)
    dec = node(root, "check")
    assert etree.QName(dec).localname == "decision"
    sw = dec.find(WF + "switch")
    assert [(c.get("to"), c.text) for c in sw.findall(WF + "case")] == [
        ("full", "${fs:exists('/in')}")
    ]
    assert sw.find(WF + "default").get("to") == "skip"
    assert ok_to(root, "full") == "after" and ok_to(root, "skip") == "after"
    assert "BO202" not in codes(e)  # none_failed_min_one_success is Oozie's convergence


def test_decision_join_with_all_success_is_reported():
    br = Task("check", Action("branch", {"cases": [{"when": "${x}", "to": "p"}], "default": "q"}))
    e = oozie.emit(
        wf(
            [br, "p", "q", "after"],
            [("check", "p"), ("check", "q"), ("p", "after"), ("q", "after")],
        )
    )
    assert "BO202" in codes(e)


def test_airflow_branch_without_cases_reads_a_job_property():
    br = Task("pick", Action("branch", {"callable": "choose"}))
    e = oozie.emit(wf([br, "p", "q"], [("pick", "p"), ("pick", "q")]))
    root = xml(e)
    cases = node(root, "pick").find(WF + "switch").findall(WF + "case")
    assert [c.text for c in cases] == [
        "${wf:conf('pick_branch') eq 'p'}",
        "${wf:conf('pick_branch') eq 'q'}",
    ]
    assert "BO205" in codes(e)
    assert oozie.validate_workflow_xml(e.files["workflow.xml"]) == []


def test_decision_inside_a_fork_routes_end_to_the_join():
    br = Task("check", Action("branch", {"cases": [{"when": "${x}", "to": "p"}], "default": "end"}))
    w = wf(
        ["a", br, "p", "other", "z"],
        [("a", "check"), ("a", "other"), ("check", "p"), ("p", "z"), ("other", "z")],
    )
    e = oozie.emit(w)
    assert oozie.validate_workflow_xml(e.files["workflow.xml"]) == []
    root = xml(e)
    default = node(root, "check").find(WF + "switch").find(WF + "default").get("to")
    assert etree.QName(node(root, default)).localname == "join"


def test_retries_become_minutes_rounded_up_with_ledger():
    t = Task(
        "a",
        Action("shell", {"command": "x"}),
        retries=5,
        retry_delay_s=90,
        retry_backoff="exponential",
    )
    e = oozie.emit(wf([t], []))
    a = node(xml(e), "a")
    assert (a.get("retry-max"), a.get("retry-interval"), a.get("retry-policy")) == (
        "5",
        "2",
        "exponential",
    )
    assert {"BO301", "BO302", "BO303"} <= set(codes(e))


def test_templates_become_el_and_dates_come_from_the_coordinator():
    t = Task(
        "a",
        Action(
            "shell", {"command": "run {{ ds }} {{ params.bucket }} {{ run_id }} {{var.value.x}}"}
        ),
    )
    w = wf(
        [t],
        [],
        params={"bucket": "exports"},
        schedule=Schedule("cron", "0 0 * * *"),
        start_date="2024-01-01T00:00:00+00:00",
        end_date="2024-02-01T00:00:00+00:00",
        catchup=False,
    )
    e = oozie.emit(w)
    shell = node(xml(e), "a").find(SHELL + "shell")
    # a plain command line: program and arguments, no shell in between
    assert [c.text for c in shell] == ["run", "${ds}", "${bucket}", "${wf:id()}", "{{var.value.x}}"]
    assert "BO501" in codes(e)
    coord = etree.fromstring(e.files["coordinator.xml"].encode())
    C = "{uri:oozie:coordinator:0.5}"
    # Airflow's interval [2024-01-01, 01-02) runs at its end: the first nominal time;
    # the last interval starts on end_date, and Oozie's end is exclusive.
    assert (
        coord.get("frequency"),
        coord.get("start"),
        coord.get("end"),
        coord.get("timezone"),
    ) == ("${coord:days(1)}", "2024-01-02T00:00Z", "2024-02-02T00:01Z", "UTC")
    assert coord.find(f"{C}controls/{C}execution").text == "LAST_ONLY"
    props = {p.find(C + "name").text: p.find(C + "value").text for p in coord.iter(C + "property")}
    assert props == {
        "ds": "${coord:formatTime(coord:dateOffset(coord:nominalTime(), -1, 'DAY'), 'yyyy-MM-dd')}"
    }
    params = {
        p.find(WF + "name").text: getattr(p.find(WF + "value"), "text", None)
        for p in xml(e).find(WF + "parameters")
    }
    assert params == {"bucket": "exports", "ds": None}
    jp = parse_properties(e.files["job.properties"])
    assert jp["bucket"] == "exports" and jp["oozie.coord.application.path"] == "${appRoot}"


def test_cron_day_of_week_is_translated_and_unscheduled_has_no_coordinator():
    e = oozie.emit(
        wf(
            ["a"],
            [],
            schedule=Schedule("cron", "30 6 * * 1-5"),
            start_date="2024-01-01T00:00:00+00:00",
        )
    )
    coord = etree.fromstring(e.files["coordinator.xml"].encode())
    assert coord.get("frequency") == "30 6 * * 2-6"
    e2 = oozie.emit(wf(["a"], []))
    assert set(e2.files) == {"workflow.xml", "job.properties"}
    assert "oozie.wf.application.path" in parse_properties(e2.files["job.properties"])
    e3 = oozie.emit(wf(["a"], [], schedule=Schedule("assets", datasets=["s3://x"])))
    assert "coordinator.xml" not in e3.files and "BO601" in codes(e3)


def test_ids_are_mapped_deterministically_and_the_mapping_is_kept():
    ids = ["group.task one", "ünïcode", "class", "9lives", "a" * 60, "end"]
    e = oozie.emit(wf(ids, list(zip(ids, ids[1:], strict=False))))
    assert e.files == oozie.emit(wf(ids, list(zip(ids, ids[1:], strict=False)))).files
    assert oozie.validate_workflow_xml(e.files["workflow.xml"]) == []
    comment = next(c for c in xml(e).iter(etree.Comment))
    import json

    mapping = json.loads(comment.text.split(":", 1)[1])
    assert sorted(mapping.values()) == sorted(i for i in ids if i not in ("class",))
    assert all(re.fullmatch(r"[A-Za-z_][-_A-Za-z0-9]{0,38}", k) for k in mapping)
    assert codes(e).count("BO001") == len(mapping)


def test_every_action_kind_emits_schema_valid_xml():
    kinds = [
        Task(
            "sh", Action("shell", {"command": "a | b", "env": {"K": "v"}, "capture_output": True})
        ),
        Task(
            "py", Action("python", {"module": "pkg.mod", "callable": "fn", "op_kwargs": {"x": 1}})
        ),
        Task("py2", Action("python", {"callable": "lambda_"})),
        Task("em", Action("empty")),
        Task(
            "sub", Action("subworkflow", {"app_path": "${nameNode}/apps/child", "conf": {"a": "b"}})
        ),
        Task("sq", Action("sql", {"sql": "select 1"})),
        Task("ct", Action("container", {"image": "alpine", "cmds": ["echo", "hi"]})),
        Task(
            "se",
            Action(
                "sensor",
                {
                    "sensor": "FileSensor",
                    "target": "/in/_SUCCESS",
                    "poke_interval_s": 30,
                    "timeout_s": 600,
                },
            ),
        ),
        Task("se2", Action("sensor", {"sensor": "HttpSensor"})),
        Task("ex", Action("external", {"output": "/data/x"})),
        Task("jv", Action("hadoop", {"engine": "java", "main_class": "a.B", "args": ["1"]})),
        Task("pg", Action("hadoop", {"engine": "pig", "script": "x.pig", "params": ["A=1"]})),
        Task("hv", Action("hadoop", {"engine": "hive", "script": "q.hql"})),
        Task("sp", Action("hadoop", {"engine": "spark", "jar": "x.jar", "main_class": "M"})),
        Task(
            "mr",
            Action(
                "hadoop", {"engine": "streaming", "streaming": {"mapper": "cat", "reducer": "wc"}}
            ),
        ),
        Task(
            "fs",
            Action(
                "hadoop",
                {
                    "engine": "fs",
                    "operations": [{"op": "mkdir", "path": "/x"}, {"op": "delete", "path": "/y"}],
                },
            ),
        ),
        Task(
            "op",
            Action("opaque", {"type": "custom", "xml": '<my xmlns="uri:custom:1"><a>1</a></my>'}),
        ),
        Task("op2", Action("opaque", {"type": "WeirdOperator"})),
        Task("em2", Action("email", {"to": ["a@b", "c@d"], "subject": "s {{ ds }}", "body": "b"})),
    ]
    ids = [t.id for t in kinds]
    e = oozie.emit(wf(kinds, list(zip(ids, ids[1:], strict=False))))
    assert oozie.validate_workflow_xml(e.files["workflow.xml"]) == []
    root = xml(e)
    assert node(root, "op").find("{uri:custom:1}my") is not None
    assert node(root, "fs").find(WF + "fs")[0].tag == WF + "mkdir"
    assert {"BO402", "BO404", "BO403", "BO401", "BO405"} <= set(codes(e))


def test_validator_catches_broken_nesting():
    bad = b"""<workflow-app xmlns="uri:oozie:workflow:1.0" name="x">
      <start to="f"/>
      <fork name="f"><path start="a"/><path start="b"/></fork>
      <action name="a"><fs/><ok to="j"/><error to="k"/></action>
      <action name="b"><fs/><ok to="end"/><error to="k"/></action>
      <join name="j" to="end"/>
      <kill name="k"><message>m</message></kill>
      <end name="end"/></workflow-app>"""
    assert any("fork 'f'" in p for p in oozie.validate_workflow_xml(bad))
    assert any(
        "schema" in p for p in oozie.validate_workflow_xml(bad.replace(b'name="a"', b'name="1a"'))
    )


# ---------------------------------------------------------------------------
# hostile strings


def parse_properties(text: str) -> dict[str, str]:
    """A java.util.Properties reader for what the backend writes (one logical
    line per property; backslash escapes)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, i = [], 0
        while i < len(line):
            ch = line[i]
            if ch == "\\":
                key.append(line[i : i + 2] if line[i + 1] != "u" else line[i : i + 6])
                i += 2 if line[i + 1] != "u" else 6
                continue
            if ch in "=:":
                break
            key.append(ch)
            i += 1
        k = "".join(key).encode("latin-1", "backslashreplace").decode("unicode_escape")
        v = line[i + 1 :]
        v = re.sub(r"\\([=:#! ])", r"\1", v)
        out[re.sub(r"\\([=:#! ])", r"\1", k)] = (
            v.encode("latin-1", "backslashreplace")
            .decode("unicode_escape")
            .encode("utf-16", "surrogatepass")
            .decode("utf-16")
        )
    return out


PIECES = list("ab \"'\\\n\r\t\x01{}$%#<>&;|`é漢💥") + ['"""', "{{ ", " }}", "${", "--", "\u202e"]
HOSTILE = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
IDS = st.one_of(
    HOSTILE.filter(bool),
    st.sampled_from(["class", "def", "end", "start", "kill", "fork-1", "join-1"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(IDS, min_size=1, max_size=6, unique=True), HOSTILE, HOSTILE, st.data())
def test_hostile_strings_give_valid_xml_and_survive(ids, command, value, data):
    pairs = list(itertools.combinations(ids, 2))
    edges = data.draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    tasks = [Task(i, Action("shell", {"command": command or "true"})) for i in ids]
    w = Workflow(
        id=value or "w", tasks=tasks, params={"p": value}, edges=[Edge(a, b) for a, b in edges]
    )
    e = oozie.emit(w)
    assert e.files == oozie.emit(w).files
    assert oozie.validate_workflow_xml(e.files["workflow.xml"]) == []
    root = xml(e)
    # every shell command comes back exactly (after EL's literal-dollar escape;
    # characters XML 1.0 cannot hold are U+FFFD, and the ledger says so)
    for a in root.iter(SHELL + "shell"):
        assert oozie_el_literal([c.text or "" for c in a]) == xml_safe(command or "true")
    assert parse_properties(e.files["job.properties"]).get("p") == value


def xml_safe(s: str) -> str:
    return _xml_safe(s)


def oozie_el_literal(argv: list[str]) -> str:
    argv = [a.replace("${'$'}{", "${") for a in argv]
    if argv[:2] == ["bash", "-c"]:
        return argv[2]
    return " ".join(argv)  # a plain argv: words separated by single spaces


# ---------------------------------------------------------------------------
# round trip through the Oozie frontend (once it exists)

HAVE_OOZIE_FRONTEND = importlib.util.find_spec("wfconv.frontends.oozie") is not None


def read_back(e, tmp_path):
    from wfconv.frontends import load

    for name, text in e.files.items():
        (tmp_path / name).write_bytes(text.encode("utf-8"))
    (back,) = load(str(tmp_path), "oozie").workflows
    return back


def xml_coord_frequency(e) -> str:
    return etree.fromstring(e.files["coordinator.xml"].encode()).get("frequency")


def aligned(iso: str, cron: str) -> datetime.datetime:
    from cronsim import CronSim

    start = datetime.datetime.fromisoformat(iso)
    return next(CronSim(cron, start - datetime.timedelta(seconds=1)))


def ticks(w: Workflow, n: int) -> list[datetime.datetime]:
    """The first ``n`` interval starts (Airflow's data-interval model)."""
    from zoneinfo import ZoneInfo

    from cronsim import CronSim

    start = datetime.datetime.fromisoformat(w.start_date)
    if w.schedule.kind == "interval":
        return [start + datetime.timedelta(seconds=w.schedule.seconds * k) for k in range(n)]
    tz = ZoneInfo(w.schedule.timezone or "UTC")
    it = CronSim(w.schedule.cron, (start - datetime.timedelta(seconds=1)).astimezone(tz))
    return [next(it) for _ in range(n)]


def last_tick(iso: str, cron: str) -> datetime.datetime:
    from cronsim import CronSim

    end = datetime.datetime.fromisoformat(iso)
    return next(CronSim(cron, end + datetime.timedelta(seconds=1), reverse=True))


def closure(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    nodes = {n for e in edges for n in e}
    return reach(sorted(nodes), sorted(edges))


def synthetic(t: Task) -> bool:
    return bool((t.extra.get("oozie") or {}).get("synthetic"))


def contracted_edges(
    back: Workflow, hidden: set[str], orig: dict[str, str]
) -> set[tuple[str, str]]:
    """Edges between visible tasks, following paths through hidden ones."""
    succ: dict[str, list[str]] = {}
    for x in back.edges:
        succ.setdefault(x.src, []).append(x.dst)
    out = set()
    for t in back.tasks:
        if t.id in hidden:
            continue
        stack, seen = list(succ.get(t.id, [])), set()
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            if n in hidden:
                stack.extend(succ.get(n, []))
            else:
                out.add((orig[t.id], orig[n]))
    return out


def assert_round_trip(w: Workflow, e, back: Workflow) -> None:
    """``back`` = ``w`` except what the ledger of ``e`` lists: renamed ids
    (BO001), the default kill node (BO208), converging rules (BO209)."""
    import json

    ledger = {d.code for d in e.diagnostics}
    comment = next(
        (c for c in xml(e).iter(etree.Comment) if c.text.strip().startswith("wfconv node names")),
        None,
    )
    names = json.loads(comment.text.split(":", 1)[1]) if comment is not None else {}
    assert ("BO001" in ledger) == bool(names)
    orig = {n: names.get(n, n) for n in back.task_ids()}
    kills = {d.target for d in e.diagnostics if d.code == "BO208"}
    # The frontend models Oozie transitions with routing tasks (extra.oozie.synthetic)
    # and clones a kill node per source: contract them to compare the real graph.
    dropped = {
        t.id
        for t in back.tasks
        if synthetic(t) or t.id in kills or any(t.id.startswith(k + "__from_") for k in kills)
    }
    tasks = {orig[t.id]: t for t in back.tasks if t.id not in dropped}
    hidden = {t.id for t in w.tasks if synthetic(t)}  # the source's own routing tasks
    visible = [t for t in w.tasks if t.id not in hidden]
    assert sorted(tasks) == sorted(t.id for t in visible)
    # implied edges are not written; the frontend restores those whose loss
    # would be exact (BO102 info: must come back); the others (BO102 warning)
    # come back only where the read-back rules make them exact
    implied = {d.target for d in e.diagnostics if d.code == "BO102" and d.severity == "warning"}
    got = {(a, b) for a, b in contracted_edges(back, dropped, orig) if f"{a} -> {b}" not in implied}
    want = {
        (a, b)
        for a, b in contracted_edges(w, hidden, {t: t for t in w.task_ids()})
        if f"{a} -> {b}" not in implied
    }
    waited = {d.target for d in e.diagnostics if d.code == "BO407"}
    if waited:  # sensors the coordinator waits for: every first task waits for them
        rest = {(a, b) for a, b in want if a not in waited and b not in waited}
        firsts = {t.id for t in visible if t.id not in waited} - {b for _, b in rest}
        want = rest | {(s, r) for s in waited for r in firsts}
    if "BO101" in ledger:
        # orderings added for fork/join nesting (listed in the ledger) change which
        # edges are written; the orderings themselves must match exactly
        handlers = {x.dst for x in w.edges if x.kind == "error"}
        main = [t for t in w.task_ids() if t not in handlers]
        added = {
            p
            for lost in decompose(main, [(x.src, x.dst) for x in w.edges if x.dst in main]).losses
            for p in lost.pairs
        }
        assert closure(got) == closure(want | added)
    else:
        assert got == want

    def listed(code: str, task_id: str) -> bool:
        return any(d.code == code and f"task {task_id!r}" in d.message for d in e.diagnostics)

    for t in visible:
        b = tasks[t.id]
        if listed("BO303", t.id):  # above Oozie's system maximum
            assert b.retries == 3
        elif t.action.kind == "branch" and listed("BO701", t.id):  # decisions do not retry
            assert b.retries == 0
        elif listed("BO409", t.id):  # a sensor's timeout is never retried
            assert b.retries == 0
        else:
            assert b.retries == t.retries, t.id
        same_meaning = [
            d.target for d in e.diagnostics if d.code == "BO210" and f"task {t.id!r}" in d.message
        ]
        routed = back.upstream(b.id) and all(synthetic(back.task(u)) for u in back.upstream(b.id))
        if listed("BO209", t.id):
            assert b.trigger_rule == "one_success", t.id
        elif same_meaning:
            assert b.trigger_rule == same_meaning[0], t.id
        elif routed:
            pass  # the frontend encodes the rule in its routing tasks (compared as edges above)
        elif not (listed("BO201", t.id) or listed("BO202", t.id)):
            assert b.trigger_rule == t.trigger_rule, t.id
    if ledger & {"BO601", "BO603"}:  # no coordinator, or one without a start: read back unscheduled
        assert back.schedule.kind == "manual"
        return
    if w.schedule.kind in ("manual", "once"):
        assert back.schedule.kind == "manual"
        return
    if "BO606" in ledger:  # day-of-week written in Oozie's Quartz numbering (Sunday=1) ...
        assert xml_coord_frequency(e) != w.schedule.cron
        # ... and read back in Unix numbering: the same cron
        assert (back.schedule.kind, back.schedule.cron) == ("cron", w.schedule.cron)
    # The same run times, whatever the spelling (a 7-day interval for a weekly
    # cron, a cron for an hourly interval): first the interval starts ...
    assert ticks(back, 5) == ticks(w, 5) or "BO605" in ledger
    if w.end_date and "BO602" not in ledger:
        # ... then the last interval: the last tick at or before end_date
        assert last_before(back) == last_before(w)


def last_before(w: Workflow) -> datetime.datetime | None:
    from cronsim import CronSim

    end = datetime.datetime.fromisoformat(w.end_date)
    if w.schedule.kind == "interval":
        start = datetime.datetime.fromisoformat(w.start_date)
        k = (end - start) // datetime.timedelta(seconds=w.schedule.seconds)
        return start + k * datetime.timedelta(seconds=w.schedule.seconds) if k >= 0 else None
    return next(CronSim(w.schedule.cron, end + datetime.timedelta(seconds=1), reverse=True))


@pytest.mark.skipif(not HAVE_OOZIE_FRONTEND, reason="Oozie frontend not in this checkout yet")
def test_round_trip_through_the_oozie_frontend(tmp_path):
    br = Task(
        "check",
        Action(
            "branch",
            {"cases": [{"when": "${wf:conf('full') eq 'yes'}", "to": "full"}], "default": "light"},
        ),
    )
    w = wf(
        [
            Task(
                "extract",
                Action("shell", {"command": "extract.sh --day {{ ds }}"}),
                retries=2,
                retry_delay_s=300,
            ),
            "t1",
            "t2",
            br,
            "full",
            "light",
            Task(
                "publish",
                Action("shell", {"command": "publish.sh"}),
                trigger_rule="none_failed_min_one_success",
            ),
            Task("on_error", Action("shell", {"command": "alert.sh"}), trigger_rule="one_failed"),
            Task("die", Action("fail", {"message": "extract failed"})),
        ],
        [
            ("extract", "t1"),
            ("extract", "t2"),
            ("t1", "check"),
            ("t2", "check"),
            ("check", "full"),
            ("check", "light"),
            ("full", "publish"),
            ("light", "publish"),
            Edge("extract", "on_error", "error"),
            ("on_error", "die"),
        ],
        schedule=Schedule("cron", "0 0 * * *"),
        start_date="2024-01-01T00:00:00+00:00",
        end_date="2025-01-01T00:00:00+00:00",
    )
    e = oozie.emit(w)
    back = read_back(e, tmp_path)
    assert_round_trip(w, e, back)
    assert back.task("extract").retry_delay_s == 300
    assert back.task("on_error").trigger_rule == "one_failed"
    assert back.task("check").action.kind == "branch"
    assert back.schedule.kind == "cron" and back.schedule.cron == "0 0 * * *"


ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
ENGINES = ("oozie", "airflow", "prefect", "luigi")


def _corpus_workflows(engine: str):
    from wfconv.errors import InputError
    from wfconv.frontends import load

    out = []
    for p in sorted((ROOT / "corpus" / engine).glob("*")):
        try:
            bundle = load(str(p), engine)
        except InputError:  # inputs that must be refused are the frontends' own tests
            continue
        out += [(p.name, w) for w in bundle.workflows if not w.has_errors()]
    return out


@pytest.mark.skipif(not HAVE_OOZIE_FRONTEND, reason="Oozie frontend not in this checkout yet")
@pytest.mark.parametrize("engine", ENGINES)
def test_every_corpus_workflow_round_trips_through_oozie(tmp_path, engine):
    if engine != "oozie" and importlib.util.find_spec(f"wfconv.frontends.{engine}") is None:
        pytest.skip(f"{engine} frontend not in this checkout yet")
    seen = 0
    for i, (name, w) in enumerate(_corpus_workflows(engine)):
        e = oozie.emit(w)
        assert e.files == oozie.emit(w).files, name
        no_fj = "oozie.wf.validate.ForkJoin=false" in e.files["job.properties"]
        assert oozie.validate_workflow_xml(e.files["workflow.xml"], no_fj) == [], name
        d = tmp_path / f"{i}"
        d.mkdir()
        back = read_back(e, d)
        try:
            assert_round_trip(_without_default_kill(w), e, back)
        except AssertionError as exc:
            raise AssertionError(f"{name} ({w.id}): {exc}") from exc
        seen += 1
    assert seen >= 5


def _without_default_kill(w: Workflow) -> Workflow:
    """A source that already had Oozie's usual kill node keeps it under its own
    name; nothing to strip (kept as a hook for readability of the assertion)."""
    return w


SCHEDULES = st.sampled_from(
    [
        (Schedule("manual"), None, None),
        (Schedule("cron", "0 0 * * *"), "2024-01-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00"),
        (Schedule("cron", "0 * * * *"), "2024-01-01T05:00:00+00:00", None),
        (Schedule("cron", "15 6 * * *"), "2024-01-01T00:00:00+00:00", "2024-01-10T00:00:00+00:00"),
    ]
)


@pytest.mark.skipif(not HAVE_OOZIE_FRONTEND, reason="Oozie frontend not in this checkout yet")
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(IDS, min_size=1, max_size=6, unique=True), HOSTILE, SCHEDULES, st.data())
def test_random_workflows_round_trip_through_the_oozie_frontend(
    tmp_path_factory, ids, command, sched, data
):
    pairs = list(itertools.combinations(ids, 2))
    edges = data.draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    tasks = [
        Task(
            i,
            Action("shell", {"command": command or "true"}),
            retries=data.draw(st.integers(0, 3)),
            retry_delay_s=60.0 * data.draw(st.integers(1, 5)),
        )
        for i in ids
    ]
    for t in tasks:
        if t.retries == 0:
            t.retry_delay_s = None
    es = [Edge(a, b) for a, b in edges]
    if data.draw(st.booleans()):
        tasks.append(
            Task("on failure", Action("shell", {"command": "alert"}), trigger_rule="one_failed")
        )
        es.append(Edge(ids[0], "on failure", "error"))
    schedule, start, end = sched
    w = Workflow(id="rt", tasks=tasks, edges=es, schedule=schedule, start_date=start, end_date=end)
    e = oozie.emit(w)
    no_fj = "oozie.wf.validate.ForkJoin=false" in e.files["job.properties"]
    assert oozie.validate_workflow_xml(e.files["workflow.xml"], no_fj) == []
    back = read_back(e, tmp_path_factory.mktemp("rt"))
    assert_round_trip(w, e, back)


def test_output_does_not_depend_on_hash_seed():
    """Byte-identical output across interpreter runs (set/dict ordering must
    never leak into the files)."""
    import subprocess
    import sys

    script = (
        "import hashlib, json\n"
        "from wfconv.frontends import load\n"
        "from wfconv.backends import oozie, luigi, mermaid, dot\n"
        "h = hashlib.sha256()\n"
        "for p, eng in [('corpus/oozie/nested_fork.xml', 'oozie'), ('corpus/oozie/decision_default.xml', 'oozie'),\n"
        "               ('corpus/airflow/taskflow_api.py', 'airflow')]:\n"
        "    for w in load(p, eng).workflows:\n"
        "        for m in (oozie, luigi):\n"
        "            e = m.emit(w)\n"
        "            h.update(json.dumps([e.files, [d.message for d in e.diagnostics]]).encode())\n"
        "        h.update((mermaid.render(w) + dot.render(w)).encode())\n"
        "print(h.hexdigest())\n"
    )
    digests = set()
    for seed in ("1", "2"):
        env = {**__import__("os").environ, "PYTHONHASHSEED": seed}
        res = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )
        assert res.returncode == 0, res.stderr
        digests.add(res.stdout.strip())
    assert len(digests) == 1


def test_interval_end_dates_with_offsets_and_quoted_formats():
    t = Task(
        "a",
        Action(
            "shell",
            {
                "command": (
                    "run {{ data_interval_end.strftime('%Y%m%d') }} "
                    "{{ (data_interval_end + macros.timedelta(days=-1)).strftime('%Y/%m/%d') }} "
                    "{{ data_interval_end.strftime('%Y-%m-%dT%H:%M') }}"
                )
            },
        ),
    )
    w = wf([t], [], schedule=Schedule("cron", "0 0 * * *"), start_date="2024-01-01T00:00:00+00:00")
    e = oozie.emit(w)
    shell = node(xml(e), "a").find(SHELL + "shell")
    assert [c.text for c in shell] == [
        "run",
        "${data_interval_end_Ymd}",
        "${data_interval_end_m1d_Ysmsd}",
        "${data_interval_end_Y_m_dTHcM}",
    ]
    C = "{uri:oozie:coordinator:0.5}"
    coord = etree.fromstring(e.files["coordinator.xml"].encode())
    props = {p.find(C + "name").text: p.find(C + "value").text for p in coord.iter(C + "property")}
    assert props == {
        "data_interval_end_Ymd": "${coord:formatTime(coord:nominalTime(), 'yyyyMMdd')}",
        "data_interval_end_m1d_Ysmsd": "${coord:formatTime(coord:dateOffset(coord:nominalTime(), -1, 'DAY'), 'yyyy/MM/dd')}",
        "data_interval_end_Y_m_dTHcM": "${coord:formatTime(coord:nominalTime(), \"yyyy-MM-dd'T'HH:mm\")}",
    }
    assert "BO501" not in codes(e)


def test_el_from_an_oozie_source_stays_el_and_hadoop_extras_are_kept():
    from wfconv.ir.model import SourceRef

    t = Task(
        "jv",
        Action(
            "hadoop",
            {
                "engine": "java",
                "main_class": "a.Main",
                "args": ["${wf:actionData('sh')['rows']}"],
                "prepare": [{"op": "delete", "path": "/out"}],
                "properties": {"q": "etl"},
                "files": ["/lib/x.jar#x.jar"],
                "archives": ["/lib/deps.zip#deps"],
            },
        ),
    )
    e = oozie.emit(Workflow(id="w", tasks=[t], source=SourceRef("oozie", "wf.xml", 1)))
    assert oozie.validate_workflow_xml(e.files["workflow.xml"]) == []
    java = node(xml(e), "jv").find(WF + "java")
    assert [etree.QName(c).localname for c in java] == [
        "prepare",
        "configuration",
        "main-class",
        "arg",
        "file",
        "archive",
    ]
    assert java.find(WF + "arg").text == "${wf:actionData('sh')['rows']}"
    # the same text from another engine is literal: Oozie must not evaluate it
    e2 = oozie.emit(Workflow(id="w", tasks=[t], source=SourceRef("airflow", "d.py", 1)))
    assert (
        node(xml(e2), "jv").find(WF + "java").find(WF + "arg").text
        == "${'$'}{wf:actionData('sh')['rows']}"
    )


def test_a_file_sensor_at_the_start_becomes_a_coordinator_input_event(tmp_path):
    sensor = Task(
        "wait_input",
        Action(
            "sensor",
            {"sensor": "FileSensor", "target": "/data/in/{{ ds }}/_READY", "timeout_s": 3600},
        ),
    )
    w = wf(
        [sensor, "load", "other"],
        [("wait_input", "load")],
        schedule=Schedule("cron", "0 2 * * *"),
        start_date="2024-01-01T00:00:00+00:00",
        end_date="2024-02-01T00:00:00+00:00",
    )
    e = oozie.emit(w)
    assert "wait_input" not in e.files["workflow.xml"]
    C = "{uri:oozie:coordinator:0.5}"
    coord = etree.fromstring(e.files["coordinator.xml"].encode())
    ds = coord.find(f"{C}datasets/{C}dataset")
    assert (ds.get("name"), ds.get("frequency"), ds.get("initial-instance")) == (
        "input",
        "${coord:days(1)}",
        "2024-01-01T02:00Z",
    )  # one period before the first run
    assert ds.find(C + "uri-template").text == "/data/in/${YEAR}-${MONTH}-${DAY}"
    assert ds.find(C + "done-flag").text == "_READY"
    assert coord.find(f"{C}input-events/{C}data-in/{C}instance").text == "${coord:current(-1)}"
    assert coord.find(f"{C}controls/{C}timeout").text == "60"
    assert "BO407" in codes(e)
    if HAVE_OOZIE_FRONTEND:
        back = read_back(e, tmp_path)
        assert_round_trip(w, e, back)
        assert back.task("wait_input").action.fields["target"].endswith("/_READY")


# --- what wfconv's own comments carry back -------------------------------------------


def _two_tasks(**kw) -> Workflow:
    return Workflow(
        id="wf",
        tasks=[
            Task("start", Action("shell", {"command": "echo a"})),
            Task("b.c", Action("shell", {"command": "echo b"})),
        ],
        edges=[Edge("start", "b.c")],
        **kw,
    )


def test_renamed_ids_and_the_unhandled_error_kill_come_back_as_the_source(tmp_path):
    w = _two_tasks()
    e = oozie.emit(w)
    root = xml(e)
    kinds = {etree.QName(el).localname for el in root if isinstance(el.tag, str)}
    assert "kill" in kinds  # Oozie needs an error transition for every action
    back = read_back(e, tmp_path)
    assert back.task_ids() == ["start", "b.c"]
    assert [(x.src, x.dst, x.kind) for x in back.edges] == [("start", "b.c", "control")]
    assert [t.trigger_rule for t in back.tasks] == ["all_success", "all_success"]


def test_unaligned_start_and_no_end_come_back(tmp_path):
    w = _two_tasks(
        schedule=Schedule("cron", "30 6 * * 1-5", timezone="Europe/Berlin"),
        start_date="2024-01-01T00:00:00+00:00",
        catchup=True,
    )
    e = oozie.emit(w)
    coord = etree.fromstring(e.files["coordinator.xml"].encode())
    assert coord.get("frequency") == "30 6 * * 2-6"  # Quartz numbering in the file
    back = read_back(e, tmp_path)
    assert back.schedule.cron == "30 6 * * 1-5"
    assert (back.start_date, back.end_date) == (w.start_date, None)


def test_dates_comment_that_contradicts_the_coordinator_is_ignored(tmp_path):
    w = _two_tasks(
        schedule=Schedule("cron", "0 6 * * *", model="trigger"),
        start_date="2024-01-01T06:00:00+00:00",
        end_date="2024-02-01T06:00:00+00:00",
        catchup=True,
    )
    e = oozie.emit(w)
    key = '"start_date": "2024'
    forged = e.files["coordinator.xml"].replace(key, key[:-1] + "3")  # only in the comment
    assert forged != e.files["coordinator.xml"]
    e.files["coordinator.xml"] = forged
    back = read_back(e, tmp_path)
    assert (back.start_date, back.end_date) == (w.start_date, w.end_date)


def test_hand_written_kill_and_malformed_comments_are_read_as_oozie(tmp_path):
    from wfconv.frontends import load

    (tmp_path / "workflow.xml").write_text(
        '<workflow-app xmlns="uri:oozie:workflow:1.0" name="t">'
        '<!-- wfconv kill node for unhandled errors: "a" -->'
        '<!-- wfconv node names -> task ids: {"a": 5} -->'
        '<start to="a"/><action name="a"><fs/><ok to="end"/><error to="kill"/></action>'
        '<kill name="kill"><message>m</message></kill><end name="end"/></workflow-app>',
        encoding="utf-8",
    )
    (back,) = load(str(tmp_path), "oozie").workflows
    # 'a' is no kill node and 5 no task id: both comments are ignored
    assert back.task_ids() == ["a", "kill"]
    assert back.task("a").action.kind == "empty"  # <fs/> without operations does nothing
    assert back.task("kill").trigger_rule == "one_failed"


def test_kill_comment_is_ignored_when_the_kill_is_reached_otherwise(tmp_path):
    from wfconv.frontends import load

    (tmp_path / "workflow.xml").write_text(
        '<workflow-app xmlns="uri:oozie:workflow:1.0" name="t">'
        '<!-- wfconv kill node for unhandled errors: "kill" -->'
        '<start to="d"/><decision name="d"><switch><case to="kill">${true}</case>'
        '<default to="a"/></switch></decision>'
        '<action name="a"><fs/><ok to="end"/><error to="kill"/></action>'
        '<kill name="kill"><message>m</message></kill><end name="end"/></workflow-app>',
        encoding="utf-8",
    )
    (back,) = load(str(tmp_path), "oozie").workflows
    # the kill stays (cloned per source): the decision's case and a's error both reach it
    assert {"kill__from_d", "kill__from_a"} <= set(back.task_ids())
    assert not [d for d in back.diagnostics if d.code == "OZ101"]


def test_params_catchup_and_run_dates_round_trip_or_are_ledgered(tmp_path):
    w = _two_tasks(
        schedule=Schedule("cron", "0 6 * * *"),
        start_date="2024-01-01T06:00:00+00:00",
        params={"limit": 10, "nameNode": None, "bucket": "b"},
    )
    w.tasks[0].action.fields["command"] = "echo {{ ds }} {{ params.limit }} ${nameNode}"
    e = oozie.emit(w)
    ledger = {d.code: d for d in e.diagnostics}
    assert "'10'" in ledger["BO608"].message  # an int becomes a string
    # catchup unset: the data-interval model's engine (Airflow 2) catches up, and so does Oozie
    assert "BO607" not in ledger and "BO604" not in ledger
    # a declared parameter without a value gets no placeholder value
    assert "nameNode=" not in e.files["job.properties"]
    back = read_back(e, tmp_path)
    # ds is passed by the coordinator: substituted, not a parameter of the workflow
    assert back.params == {"limit": "10", "nameNode": None, "bucket": "b"}
    assert "{{" in back.tasks[0].action.fields["command"]
    assert back.catchup is True


def test_join_keeps_the_name_routing_tasks_were_named_after(tmp_path, repo_root):
    from wfconv.frontends import load_path

    (w,) = load_path(str(repo_root / "corpus/oozie/nested_fork.xml"), "oozie").workflows
    assert {"want-report__outer-join", "outer-join__copy-raw"} <= set(w.task_ids())
    e = oozie.emit(w)
    joins = [el for el in xml(e) if isinstance(el.tag, str) and etree.QName(el).localname == "join"]
    assert sorted((j.get("name"), j.get("to")) for j in joins) == [
        ("join-2", "merge"),  # no routing task named the inner join: numbered
        ("outer-join", "publish"),
    ]
    assert oozie.validate_workflow_xml(e.files["workflow.xml"]) == []
    back = read_back(e, tmp_path)
    assert sorted(back.task_ids()) == sorted(w.task_ids())


def _diamond_with_shortcut(rule: str) -> Workflow:
    tasks = [Task(x, Action("shell", {"command": f"echo {x}"})) for x in "abc"]
    tasks[2].trigger_rule = rule
    return Workflow(id="wf", tasks=tasks, edges=[Edge("a", "b"), Edge("b", "c"), Edge("a", "c")])


def test_implied_edge_comes_back_where_dropping_it_is_exact(tmp_path):
    w = _diamond_with_shortcut("all_success")
    e = oozie.emit(w)
    (bo102,) = [d for d in e.diagnostics if d.code == "BO102"]
    assert bo102.severity == "info"
    assert "implied edges" in e.files["workflow.xml"]
    back = read_back(e, tmp_path)
    assert sorted((x.src, x.dst) for x in back.edges) == [("a", "b"), ("a", "c"), ("b", "c")]


def test_implied_edge_whose_loss_changes_the_rule_is_a_warning(tmp_path):
    w = _diamond_with_shortcut("all_done")
    e = oozie.emit(w)
    bo102 = [d for d in e.diagnostics if d.code == "BO102"]
    assert [(d.severity, d.task) for d in bo102] == [("warning", "c")]


def test_a_start_date_before_1970_starts_the_coordinator_in_1970():
    """datetime.min (Airflow's examples) overflowed the first nominal time."""
    w = wf(
        ["a"],
        [],
        schedule=Schedule("cron", "0 0 * * *"),
        start_date="0001-01-01T00:00:00+00:00",
        catchup=False,
    )
    out = oozie.emit(w)
    assert 'start="1970-01-02T00:00Z"' in out.files["coordinator.xml"]
    assert [d.code for d in out.diagnostics if d.code == "BO610"] == ["BO610"]


def test_a_sensor_that_times_out_is_not_retried():
    """Airflow never retries a sensor that timed out: the polling action gets
    no retry-max (a retry would poll again), and the ledger says so."""
    from wfconv.backends import oozie as oozie_backend

    w = Workflow(
        "sensed",
        tasks=[
            Task(
                "wait",
                Action(
                    "sensor", {"sensor": "FileSensor", "target": "/in/_SUCCESS", "timeout_s": 60}
                ),
                retries=3,
                retry_delay_s=60,
            ),
            Task("load", Action("shell", {"command": "load.sh"}), retries=2, retry_delay_s=60),
        ],
    )
    w.add_edge("wait", "load")
    out = oozie_backend.emit(w)
    xml = out.files["workflow.xml"]
    assert xml.count("retry-max") == 1 and 'retry-max="2"' in xml
    assert [(d.code, d.task) for d in out.diagnostics if d.code == "BO409"] == [("BO409", "wait")]
