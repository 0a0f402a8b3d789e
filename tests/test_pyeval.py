"""The shared abstract interpreter: what a module's statically knowable part evaluates to."""

from __future__ import annotations

import ast
import datetime as dt
import textwrap

import pytest

from wfconv.frontends.pyeval import (
    LOOP,
    NOT_HANDLED,
    RUNTIME,
    HookError,
    Hooks,
    Interpreter,
    Ref,
    Unknown,
)


def run(src: str, hooks: Hooks | None = None) -> tuple[dict, Interpreter]:
    src = textwrap.dedent(src)
    interp = Interpreter(hooks, path="m.py", source=src, module_name="m")
    return interp.run_module(ast.parse(src)), interp


def notes(interp: Interpreter) -> list[tuple[str, int]]:
    return [(n.kind, n.line) for n in interp.notes]


def test_constants_formatting_and_containers():
    g, i = run(
        """
        N = 7
        a = f"job_{N:03d}_{'x'!r}"
        b = "%s-%d" % ("run", N)
        c = "{}/{name}".format("root", name="leaf")
        d = {"k": [1, (2, 3)], **{"z": {4}}}
        e = -N ** 2 + 10 // 3
        f = "a" if N > 5 else "b"
        g_ = not (N < 3 or N == 7)
        """
    )
    assert g["a"] == "job_007_'x'"
    assert g["b"] == "run-7"
    assert g["c"] == "root/leaf"
    assert g["d"] == {"k": [1, (2, 3)], "z": {4}}
    assert g["e"] == -49 + 3
    assert g["f"] == "a"
    assert g["g_"] is False
    assert i.notes == []


def test_comprehensions_loops_and_reassignment():
    g, i = run(
        """
        steps = {"clean": 1, "load": 2, "skip": 0}
        names = [f"{k}_{v}" for k, v in steps.items() if v]
        grid = {(r, c): r * c for r in range(2) for c in range(2)}
        order = []
        prev = "start"
        for name, weight in steps.items():
            if not weight:
                continue
            order.append((prev, name))
            prev = name
        else:
            order.append((prev, "end"))
        n = 0
        while n < 5:
            n += 2
            if n > 3:
                break
        total = sum(x for x in range(4))
        """
    )
    assert g["names"] == ["clean_1", "load_2"]
    assert g["grid"] == {(0, 0): 0, (0, 1): 0, (1, 0): 0, (1, 1): 1}
    assert g["order"] == [("start", "clean"), ("clean", "load"), ("load", "end")]
    assert g["prev"] == "load"
    assert g["n"] == 4
    assert g["total"] == 6
    assert i.notes == []


def test_functions_factories_and_globals():
    g, i = run(
        """
        def make(name, *parts, sep="_", **extra):
            def inner(x):
                return sep.join([name, *parts, x])
            return inner(extra.get("suffix", "z"))

        for key in ["a", "b"]:
            globals()[f"dag_{key}"] = make(key, "p", suffix=key.upper())
        ordered = sorted(["b", "a", "c"], key=lambda s: -ord(s))
        """
    )
    assert g["dag_a"] == "a_p_A"
    assert g["dag_b"] == "b_p_B"
    assert g["ordered"] == ["c", "b", "a"]
    assert i.notes == []


def test_dates_and_paths():
    g, _ = run(
        """
        import os
        import pendulum
        from datetime import datetime, timedelta, timezone
        start = datetime(2024, 1, 31, 6, tzinfo=timezone.utc) + timedelta(days=1, hours=2)
        paris = pendulum.datetime(2024, 3, 1, tz="Europe/Paris")
        every = pendulum.duration(minutes=90).total_seconds()
        path = os.path.join("/opt", "jobs", f"{start:%Y%m%d}.sql")
        """
    )
    assert g["start"] == dt.datetime(2024, 2, 1, 8, tzinfo=dt.UTC)
    assert g["paris"].utcoffset() == dt.timedelta(hours=1)
    assert g["every"] == 5400.0
    assert g["path"] == "/opt/jobs/20240201.sql"


def test_imports_become_qualified_refs():
    g, _ = run(
        """
        import airflow.operators.bash as b
        from airflow.sdk import DAG as D
        import os.path
        """
    )
    assert g["b"] == Ref("airflow.operators.bash")
    assert g["D"] == Ref("airflow.sdk.DAG")
    assert g["os"] == Ref("os")


def test_runtime_values_are_unknown_with_reason_and_line():
    g, i = run(
        """
        import json, os, requests
        cfg = json.load(open("conf.json"))
        env = os.environ["STAGE"]
        home = os.getenv("HOME", "/root")
        data = requests.get("http://x").json()
        mixed = f"{env}-suffix"
        helper = unknown_helper(3)
        """
    )
    for name in ("cfg", "env", "home", "data", "mixed", "helper"):
        assert isinstance(g[name], Unknown), name
    assert g["mixed"].line == 4 and g["mixed"].source == 'f"{env}-suffix"'
    kinds_lines = notes(i)
    assert (RUNTIME, 3) in kinds_lines and (RUNTIME, 4) in kinds_lines
    assert (
        (RUNTIME, 5) in kinds_lines and (RUNTIME, 6) in kinds_lines and (RUNTIME, 8) in kinds_lines
    )
    # An unknown flowing into an f-string is not reported twice.
    assert (RUNTIME, 7) not in kinds_lines
    msgs = " ".join(n.message for n in i.notes)
    assert "reads a file" in msgs and "environment variable STAGE" in msgs
    assert "network" in msgs and "unknown_helper" in msgs


def test_control_flow_on_unknown_values():
    g, i = run(
        """
        import os
        seen = []
        for t in os.listdir("/data"):
            seen.append(t)
        if os.environ.get("PROD"):
            seen.append("prod")
        else:
            seen.append("dev")
        while os.environ.get("LOOP"):
            seen.append("never")
        """
    )
    assert g["seen"] == ["prod", "dev"]
    assert (LOOP, 4) in notes(i)
    assert ("condition", 6) in notes(i)
    assert ("condition", 10) in notes(i)


def test_errors_and_budgets_never_escape():
    g, i = run(
        """
        a = 1 / 0
        b = "x" * 10 ** 9
        c = 2 ** 10 ** 8
        d = list(range(10 ** 9))
        def f(n):
            return f(n + 1)
        e = f(0)
        i = 0
        while True:
            i += 1
        after = "reached"
        """
    )
    for name in "abcde":
        assert isinstance(g[name], Unknown), name
    assert g["after"] == "reached"
    assert {"error", "limit"} <= {n.kind for n in i.notes}


def test_source_text_handles_unicode_offsets():
    g, i = run('x = "é" + os_thing.get("ü")\n')
    assert g["x"].source == '"é" + os_thing.get("ü")'


def test_hooks_see_calls_operators_with_blocks_and_decorators():
    class Seen(Hooks):
        def __init__(self):
            self.events = []

        def call(self, interp, func, args, kwargs, node):
            if isinstance(func, Ref) and func.name == "Thing":
                return ("thing", kwargs.get("name"))
            return NOT_HANDLED

        def binop(self, interp, op, left, right, node):
            if isinstance(op, ast.RShift) and isinstance(left, tuple):
                self.events.append((">>", left[1], right[1]))
                return right
            return NOT_HANDLED

        def enter_with(self, interp, value, node):
            self.events.append(("enter", value[1]))
            return "bound"

        def exit_with(self, interp, value, node):
            self.events.append(("exit", value[1]))

        def decorate(self, interp, decorator, target, node):
            return ("decorated", target.name)

    hooks = Seen()
    g, _ = run(
        """
        from lib import Thing, deco
        with Thing(name="ctx") as c:
            Thing(name="a") >> Thing(name="b") >> Thing(name="c")

        @deco
        def fn():
            pass
        """,
        hooks,
    )
    assert g["c"] == "bound"
    assert g["fn"] == ("decorated", "fn")
    assert hooks.events == [("enter", "ctx"), (">>", "a", "b"), (">>", "b", "c"), ("exit", "ctx")]


def test_a_bug_in_a_hook_is_not_mistaken_for_user_code():
    class Broken(Hooks):
        def call(self, interp, func, args, kwargs, node):
            raise KeyError("bug")

    with pytest.raises(HookError):
        run("x = anything()\n", Broken())


def test_classes_of_the_file_with_instances_enabled():
    src = textwrap.dedent(
        """
        class Base:
            kind = "base"

            @staticmethod
            def twice(x):
                return x * 2

        class Builder(Base):
            def __init__(self, name, n=1):
                super().__init__()
                self.name = name
                self.n = n

            @property
            def label(self):
                return f"{self.kind}:{self.name}"

            @classmethod
            def make(cls, name):
                return cls(name, n=3)

            def build(self):
                return [self.label] * self.twice(self.n)

        out = Builder.make("x").build()
        """
    )
    on = Interpreter(path="m.py", source=src, instances=True)
    assert on.run_module(ast.parse(src))["out"] == ["base:x"] * 6
    assert on.notes == []
    off = Interpreter(path="m.py", source=src)
    assert isinstance(off.run_module(ast.parse(src))["out"], Unknown)


def test_engine_objects_through_getitem_setattr_classes_and_fstrings():
    class Obj:
        def __init__(self, name):
            self.name = name

    class Engine(Hooks):
        def __init__(self):
            self.set = []
            self.classes = []

        def call(self, interp, func, args, kwargs, node):
            if isinstance(func, Ref) and func.name == "Obj":
                return Obj(args[0])
            return NOT_HANDLED

        def getitem(self, interp, obj, key, node):
            return Obj(f"{obj.name}[{key}]") if isinstance(obj, Obj) else NOT_HANDLED

        def setattr(self, interp, obj, name, value, node):
            self.set.append((obj.name, name, value))
            return None

        def make_class(self, interp, cls):
            self.classes.append((cls.name, cls.base_names()))
            return NOT_HANDLED

        def to_str(self, interp, obj):
            return f"<{obj.name}>" if isinstance(obj, Obj) else NOT_HANDLED

    hooks = Engine()
    g, i = run(
        """
        from lib import Obj, BaseThing
        o = Obj("a")
        o.doc = "hello"
        text = f"see {o['k']}"
        class Mine(BaseThing):
            level = 3
        """,
        hooks,
    )
    assert g["text"] == "see <a[k]>"
    assert hooks.set == [("a", "doc", "hello")]
    assert hooks.classes == [("Mine", ["BaseThing"])]
    assert g["Mine"].namespace == {"level": 3}
    assert i.notes == []
