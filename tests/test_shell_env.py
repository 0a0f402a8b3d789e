"""A shell action's ``env``: added to the inherited environment (the IR's
default, Oozie's env-var, Luigi's generated shell) or the whole environment
(``env_replace``: Airflow's BashOperator without ``append_env=True``,
``subprocess.run(env=...)``). Every reader sets it, every writer keeps it or
says it cannot, and the runtime runs the command with the right environment."""

from __future__ import annotations

import textwrap

from wfconv import emit
from wfconv.frontends import airflow, luigi, prefect
from wfconv.ir.model import Action, Task, Workflow
from wfconv.runtime import Scenario, execute
from wfconv.runtime.executors import LocalExecutor
from wfconv.runtime.store import RunStore

DAG = textwrap.dedent(
    """
    from datetime import datetime
    from airflow import DAG
    from airflow.operators.bash import BashOperator

    with DAG("envd", start_date=datetime(2024, 1, 1), schedule=None):
        r = BashOperator(task_id="replace", bash_command="env", env={"A": "1"})
        a = BashOperator(task_id="add", bash_command="env", env={"A": "1"}, append_env=True)
        r >> a
    """
)


def _env_fields(w: Workflow) -> dict[str, dict]:
    return {
        t.id: {k: v for k, v in t.action.fields.items() if k in ("env", "env_replace")}
        for t in w.tasks
    }


def test_airflow_env_without_append_env_replaces_the_environment():
    (w,) = airflow.parse("envd.py", DAG).workflows
    assert _env_fields(w) == {
        "replace": {"env": {"A": "1"}, "env_replace": True},
        "add": {"env": {"A": "1"}},
    }
    assert all(t.extra["airflow"]["kwargs"] == {} for t in w.tasks)


def test_every_backend_keeps_add_or_replace_and_the_python_ones_read_it_back(tmp_path):
    (w,) = airflow.parse("envd.py", DAG).workflows
    code = emit(w, "airflow").files
    (text,) = code.values()
    # Only the additive task gets append_env=True.
    assert text.count("append_env=True") == 1
    assert text.index("append_env=True") > text.index('task_id="add"')

    text = emit(w, "prefect").single()
    assert 'env={"A": "1"},' in text
    assert 'env={**os.environ, "A": "1"},' in text
    path = tmp_path / "envd_prefect.py"
    path.write_text(text, encoding="utf-8")
    (back,) = prefect.parse(str(path), text).workflows
    assert _env_fields(back) == _env_fields(w)

    emitted = emit(w, "luigi")
    files = emitted.files
    (name,) = [n for n in files if n.endswith(".py") and n not in emitted.shared]
    assert 'self.shell("env", env={"A": "1"}, replace_env=True)' in files[name]
    for each, text in files.items():  # the helper module beside it
        (tmp_path / each).write_text(text, encoding="utf-8")
    path = tmp_path / name
    (back,) = luigi.parse(str(path), files[name], static=True).workflows
    assert _env_fields(back) == _env_fields(w)

    out = emit(w, "oozie")
    assert [(d.code, d.task) for d in out.diagnostics if d.code == "BO408"] == [
        ("BO408", "replace")
    ]


def test_the_runtime_runs_the_command_with_the_environment_the_source_gives(tmp_path, monkeypatch):
    monkeypatch.setenv("WFCONV_INHERITED", "yes")
    probe = "echo ${WFCONV_INHERITED:-none}-$A > {out}"
    w = Workflow("envd")
    for tid, replace in (("replace", True), ("add", False)):
        fields = {"command": probe.replace("{out}", str(tmp_path / tid)), "env": {"A": "1"}}
        if replace:
            fields["env_replace"] = True
        w.tasks.append(Task(tid, Action("shell", fields)))
    store = RunStore(tmp_path / "runs.sqlite")
    ex = LocalExecutor(2)
    try:
        (res,) = execute(w, Scenario(), executor=ex, store=store, cwd=str(tmp_path))
    finally:
        ex.shutdown()
    assert res.state == "success"
    assert (tmp_path / "replace").read_text().strip() == "none-1"
    assert (tmp_path / "add").read_text().strip() == "yes-1"


def test_a_mapped_env_keeps_its_meaning_too():
    rows = [{"command": "echo a", "env": {"X": "1"}}, {"command": "echo b", "env": {"X": "2"}}]

    def mapped(replace: bool) -> Workflow:
        fields = {"command": "", **({"env_replace": True} if replace else {})}
        task = Task(
            "pairs", Action("shell", fields), mapped={"kind": "zip", "over": {"kwargs": rows}}
        )
        return Workflow("m", tasks=[task])

    (replaced,) = emit(mapped(True), "airflow").files.values()
    (added,) = emit(mapped(False), "airflow").files.values()
    assert "append_env" not in replaced and "append_env=True" in added
    # Read from Airflow: a mapped env without append_env=True replaces the environment.
    src = DAG.replace(
        'r = BashOperator(task_id="replace", bash_command="env", env={"A": "1"})',
        'r = BashOperator.partial(task_id="replace").expand_kwargs(\n'
        '        [{"bash_command": "env", "env": {"A": "1"}}])',
    )
    (w,) = airflow.parse("envd.py", src).workflows
    assert w.task("replace").action.fields.get("env_replace") is True
