"""Large inputs are read in pieces (wfconv/frontends/pychunks.py) and give
exactly what reading them whole gives; what no reader can afford is refused
as ``path:line: message``. (Time and memory are measured by
bench/bench_large.py and bench/fuzz_campaign.py, not asserted here.)"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from wfconv.errors import InputError
from wfconv.frontends import load_path, pychunks
from wfconv.ir.jsonio import dumps

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    p
    for folder in ("corpus/airflow", "corpus/prefect", "corpus/luigi", "corpus/audit")
    for p in (ROOT / folder).glob("*.py")
) + sorted((ROOT / "tests" / "fixtures" / "hostile").glob("*/*.py"))

# Constructs a cut must never split: statements continued past a line at the
# block's indentation (a string, brackets, a backslash, a decorator, else).
TRICKY = '''\
"""Module docstring."""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator


def helper(x):
    if x:
        return x
    else:
        return "none"


with DAG(
    "tricky",
    start_date=datetime(2024, 1, 1),
    schedule=None,
) as dag:
    a = BashOperator(
        task_id="a",
        bash_command="""echo one
x = not a statement
    """,
    )
    b = BashOperator(task_id="b", bash_command="echo " + \\
    "continued")
    c = BashOperator(task_id="c",
    bash_command=helper("c"))
    if True:
        d = BashOperator(task_id="d", bash_command="echo d")
    else:
        d = None
    try:
        from airflow.operators.empty import EmptyOperator
    except ImportError:
        from airflow.operators.dummy import DummyOperator as EmptyOperator
    e = EmptyOperator(task_id="e")
    a >> b >> c >> d >> e
'''


def _read(path: Path) -> str:
    text = path.read_bytes().decode("utf-8", "replace")
    luigi = "luigi" in text and "airflow" not in text and "prefect" not in text
    try:  # Luigi statically: the import child reads no tree of wfconv's
        return dumps(load_path(path, static=True) if luigi else load_path(path))
    except InputError as exc:
        return f"InputError {exc}"


@pytest.fixture
def chunked(monkeypatch):
    """Every file counts as large, and every block is cut as small as can be."""
    monkeypatch.setattr(pychunks, "LARGE_BYTES", 0)
    monkeypatch.setattr(pychunks, "LAZY_LINES", 2)
    monkeypatch.setattr(pychunks, "CHUNK_LINES", 1)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_file_read_in_pieces_gives_the_same_ir(path, monkeypatch):
    whole = _read(path)
    monkeypatch.setattr(pychunks, "LARGE_BYTES", 0)
    monkeypatch.setattr(pychunks, "LAZY_LINES", 2)
    for chunk_lines in (1, 3):
        monkeypatch.setattr(pychunks, "CHUNK_LINES", chunk_lines)
        assert _read(path) == whole


def test_cuts_never_split_a_statement(tmp_path, chunked):
    path = tmp_path / "tricky.py"
    path.write_text(TRICKY)
    tree = pychunks.parse_module(TRICKY, str(path))
    assert isinstance(tree.body, pychunks.Statements)
    (dag_with,) = [st for st in tree.body if isinstance(st, ast.With)]
    assert isinstance(dag_with.body, pychunks.Statements)  # the long block is lazy
    whole = ast.parse(TRICKY)
    assert [ast.dump(s) for s in tree.body if not isinstance(s, ast.With)] == [
        ast.dump(s) for s in whole.body if not isinstance(s, ast.With)
    ]
    assert [ast.dump(s) for s in dag_with.body] == [ast.dump(s) for s in whole.body[-1].body]
    (w,) = load_path(path).workflows
    assert w.task_ids() == ["a", "b", "c", "d", "e"]
    assert w.task("a").action.fields["command"] == "echo one\nx = not a statement\n    "


def test_a_syntax_error_in_a_lazy_block_has_its_line(tmp_path, chunked):
    text = TRICKY + "    f = BashOperator(task_id='f', bash_command=)\n"
    path = tmp_path / "broken.py"
    path.write_text(text)
    with pytest.raises(SyntaxError) as whole:
        ast.parse(text)
    with pytest.raises(InputError) as err:
        load_path(path)
    assert err.value.line == whole.value.lineno == text.count("\n")
    assert err.value.message == f"syntax error: {whole.value.msg}"


def test_a_statement_no_reader_can_afford_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(pychunks, "LARGE_BYTES", 1000)
    monkeypatch.setattr(pychunks, "MAX_STATEMENT_CHARS", 5000)
    path = tmp_path / "literal.py"
    path.write_text(
        "from airflow import DAG\n\nDATA = [" + ", ".join(map(str, range(3000))) + "]\n"
    )
    with pytest.raises(InputError) as err:
        load_path(path)
    assert err.value.line == 3
    assert "too large to read statically" in err.value.message


def test_a_large_generated_dag_is_read_lazily(tmp_path):
    """The bench's 50,000-task shape, at 1.2 MB: the with block is lazy and
    every task is read."""
    lines = [
        "from datetime import datetime",
        "from airflow import DAG",
        "from airflow.operators.bash import BashOperator",
        'with DAG("big", start_date=datetime(2024, 1, 1), schedule=None) as dag:',
    ]
    n = 12_000
    lines += [f'    t{i} = BashOperator(task_id="t{i}", bash_command="echo {i}")' for i in range(n)]
    lines += [f"    t{i} >> t{i + 1}" for i in range(n - 1)]
    text = "\n".join(lines) + "\n"
    assert len(text) > pychunks.LARGE_BYTES
    path = tmp_path / "big.py"
    path.write_text(text)
    tree = pychunks.parse_module(text, str(path))
    assert isinstance(tree.body[-1].body, pychunks.Statements)
    (w,) = load_path(path).workflows
    assert len(w.tasks) == n and len(w.edges) == n - 1
    assert w.task("t11999").source.line == 4 + n
    assert textwrap.dedent(w.task("t7").action.fields["command"]) == "echo 7"
