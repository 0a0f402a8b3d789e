"""Never run what the user did not write: text that is not a template in its
source (Oozie's templates are EL, Prefect renders nothing) stays literal
through the IR (wfconv.ir.literal), the runtime and every writer."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wfconv.frontends import load
from wfconv.ir import literal

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
WFCONV = [str(Path(sys.executable).parent / "wfconv")]
PAYLOAD = "{{ lipsum.__globals__['os'].popen('touch canary').read() }} {% if true %}x{% endif %}"


@settings(deadline=None)
@given(st.text(alphabet="{}%#ab '\"\n-", max_size=20))
def test_escaped_text_renders_to_itself_and_unescapes(text):
    from wfconv.runtime.templates import render

    spelled = literal.escape(text)
    assert literal.unescape(spelled) == text
    assert literal.is_literal(spelled)
    assert render(spelled, {}) == text
    assert render(spelled + "{{ ds }}", {"ds": "D"}) == text + "D"  # a template may follow


def test_oozie_text_enters_the_ir_as_literal_text():
    (w,) = load(HOSTILE / "oozie" / "jinja_argument.xml").workflows
    args = w.task("write").action.fields["args"]
    assert args[2] == (
        "{{ '{{' }} lipsum.__globals__['os'].popen('touch canary').read() }} "
        "{{ '{%' }} if true %}x{{ '{%' }} endif %} {{ run_id }}{{ '{' }}"
    )


def test_prefect_text_enters_the_ir_as_literal_text():
    (w,) = load(HOSTILE / "prefect" / "jinja_command.py").workflows
    assert w.task("write").action.fields["command"] == (
        "printf '%s' '{{ '{{' }} 7 * 7 }} {{ '{%' }} raw %}' > command.txt"
    )
    # An f-string over a flow parameter is a template; its braces are text.
    assert w.task("echo").action.fields["op_kwargs"] == {
        "text": "{{ '{{' }} 6 * 7 }} {{ params.day }}"
    }


@pytest.mark.parametrize(
    ("source", "written", "expected"),
    [
        ("oozie/jinja_argument.xml", "argument.txt", PAYLOAD),
        ("prefect/jinja_command.py", "command.txt", "{{ 7 * 7 }} {% raw %}"),
    ],
)
def test_the_runtime_runs_the_literal_text(tmp_path, source, written, expected):
    r = subprocess.run(
        [*WFCONV, "run", str(HOSTILE / source), "--executor", "local", "--no-db"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "internal error" not in r.stderr
    assert (tmp_path / written).read_text().startswith(expected)
    assert not (tmp_path / "canary").exists()


@pytest.mark.parametrize("target", ["airflow", "luigi", "oozie"])
def test_writers_keep_the_text_literal(tmp_path, target):
    out = tmp_path / target
    r = subprocess.run(
        [*WFCONV, "convert", str(HOSTILE / "oozie" / "jinja_argument.xml"), "--to", target],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert r.returncode in (0, 2), r.stderr
    if r.returncode == 2:  # several files: write them
        r = subprocess.run(
            [
                *WFCONV,
                "convert",
                str(HOSTILE / "oozie" / "jinja_argument.xml"),
                "--to",
                target,
                "-o",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
        code = "\n".join(p.read_text() for p in sorted(out.iterdir()) if p.suffix == ".xml")
    else:
        code = r.stdout
    if target == "oozie":
        # Oozie text is literal again: the braces as written, EL for the run id.
        assert "{{ lipsum.__globals__[&apos;os&apos;]" in code or (
            "{{ lipsum.__globals__['os']" in code
        )
        assert "{{ '{{' }}" not in code and "${wf:id()}" in code
    elif target == "luigi":
        assert "{{ '{{' }} lipsum" in code  # the module's render() prints the escapes
        assert "BL403" not in r.stderr
    else:
        assert "{{ '{{' }} lipsum" in code  # Airflow renders the escape to the text


@pytest.mark.engine
@pytest.mark.slow
def test_an_oozie_argument_runs_no_python_in_the_converted_prefect_flow(
    prefect_harness, tmp_path, monkeypatch
):
    """The issue's reproducer: an Oozie <argument> holding Jinja created a
    canary file when the converted flow ran in real Prefect."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    r = subprocess.run(
        [
            *WFCONV,
            "convert",
            str(HOSTILE / "oozie" / "jinja_argument.xml"),
            "--to",
            "prefect",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    # the flow module, beside wfconv's helper module that renders in jinja2's sandbox
    (path,) = [p for p in out.glob("*.py") if p.name != "wfconv_prefect.py"]
    monkeypatch.syspath_prepend(str(out))
    spec = importlib.util.spec_from_file_location("wfconv_jinja_argument_flow", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    from prefect import Flow

    (flow_fn,) = [v for v in vars(module).values() if isinstance(v, Flow)]
    state = flow_fn(return_state=True)
    assert state.is_completed(), state
    assert not (tmp_path / "canary").exists()
    assert (tmp_path / "argument.txt").read_text().startswith(PAYLOAD)


def test_a_prefect_flow_read_back_keeps_its_templates_and_its_literal_text(tmp_path):
    """wfconv_render(...) in wfconv's own Prefect code is template text; the
    round trip Oozie -> Prefect -> IR gives the same escaped IR."""
    r = subprocess.run(
        [
            *WFCONV,
            "verify",
            str(HOSTILE / "oozie" / "jinja_argument.xml"),
            "--to",
            "prefect",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["verdict"] == "equivalent"
