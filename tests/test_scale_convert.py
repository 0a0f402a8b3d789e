"""``wfconv convert DIR -o OUT`` streams (issue 19): one file at a time, the
same files and ledger as converting the whole bundle at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wfconv.cli import main
from wfconv.outputs import MANIFEST, STAGING_PREFIX, FolderSet, OutputRefused

ROOT = Path(__file__).resolve().parent.parent

DAG = """\
from datetime import datetime
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.trigger_dagrun import TriggerDagRunOperator

with DAG({dag_id!r}, start_date=datetime(2024, 1, 1), schedule=None):
    first = BashOperator(task_id="first", bash_command="echo {{{{ ds }}}}", pool="etl")
{body}
"""


def _dag(dag_id: str, calls: tuple[str, ...] = (), cycle: bool = False) -> str:
    lines = []
    for i, callee in enumerate(calls):
        lines.append(
            f"    call{i} = TriggerDagRunOperator(task_id='call{i}', trigger_dag_id={callee!r}, "
            "wait_for_completion=True)"
        )
        lines.append(f"    first >> call{i}")
    if cycle:
        lines.append("    last = BashOperator(task_id='last', bash_command='true')")
        lines.append("    first >> last >> first")
    return DAG.format(dag_id=dag_id, body="\n".join(lines))


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.chdir(ROOT)
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart already
        return CliRunner()


@pytest.fixture
def calls_folder(tmp_path) -> Path:
    """Sub-workflow calls in every order the stream meets them: a caller
    read before its callee (a_caller -> m_child -> z_grandchild), a callee
    read before its caller (c_plain <- q_caller), a duplicate id, a cycle,
    and two ids with one file name whose first is a caller (x-y, x_y)."""
    src = tmp_path / "dags"
    src.mkdir()
    dags = {
        "a.py": _dag("a_caller", ("m_child",)),
        "b.py": _dag("m_child", ("z_grandchild",)),
        "c.py": _dag("c_plain"),
        "d.py": _dag("x-y", ("c_plain", "nowhere")),
        "e.py": _dag("x_y"),
        "k.py": _dag("looping", cycle=True),
        "m.py": _dag("m_child"),  # a second definition: not converted
        "q.py": _dag("q_caller", ("c_plain", "a_caller")),
        "z.py": _dag("z_grandchild"),
        "broken.py": _dag("broken").replace("with DAG(", "with DAG(("),  # unreadable
    }
    for name, text in dags.items():
        (src / name).write_text(text, encoding="utf-8")
    return src


def _at_once(bundle, target: str, **options):
    """The conversion as ``convert`` did it before it streamed: the whole
    bundle in memory, each valid first definition emitted in input order
    with every workflow of the bundle by id, files named in that order."""
    from wfconv.backends import backend
    from wfconv.cli.convert import _entry, _unique_path
    from wfconv.ir.validate import graph_errors

    module = backend(target)
    everyone: dict = {}
    for w in bundle.workflows:
        everyone.setdefault(w.id, w)
    files: dict[str, str] = {}
    outputs: dict[str, list[str]] = {}
    shared: set[str] = set()
    entries = [_entry(d, None, "parse") for d in bundle.diagnostics]
    skipped, emitted_entries = [], []
    for w in bundle.workflows:
        if everyone[w.id] is not w or graph_errors(w):
            skipped.append((w.id, w.source.path))
            continue
        emitted = module.emit(w, workflows=everyone, **options)
        names = []
        for rel, text in emitted.files.items():
            if rel in emitted.shared:
                files.setdefault(rel, text)
                shared.add(rel)
                continue
            rel = _unique_path(rel, files)
            files[rel] = text
            names.append(rel)
        outputs[w.id] = names
        emitted_entries += [_entry(d, w.id, "parse") for d in w.diagnostics]
        emitted_entries += [
            _entry(d, w.id, "emit", names[0] if names else None) for d in emitted.diagnostics
        ]
    return files, outputs, sorted(shared), entries, skipped, emitted_entries


def _check_same(runner, tmp_path, paths: list[str], target: str, *extra: str):
    from wfconv.frontends import load

    out = tmp_path / f"out-{target}"
    r = runner.invoke(main, ["convert", *paths, "--to", target, *extra, "-o", str(out)])
    assert r.exit_code in (0, 2), r.stderr
    assert "internal error" not in r.stderr
    options = {"subworkflow": "taskgroup"} if "taskgroup" in extra else {}
    files, outputs, shared, entries, skipped, emitted = _at_once(load(paths), target, **options)
    ledger_text = (out / "wfconv-ledger.json").read_text(encoding="utf-8")
    ledger = json.loads(ledger_text)
    # byte for byte the indented document json.dumps gives
    assert ledger_text == json.dumps(ledger, indent=2, ensure_ascii=False) + "\n"
    written = {
        str(p.relative_to(out)): p.read_text(encoding="utf-8")
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in (MANIFEST, "wfconv-ledger.json")
    }
    assert written == files
    assert ledger["files"] == outputs and list(ledger["files"]) == list(outputs)
    assert ledger["shared_files"] == shared
    n_diag, n_skip = len(entries), len(skipped)
    assert ledger["entries"][:n_diag] == entries
    got_skips = ledger["entries"][n_diag : n_diag + n_skip]
    assert [(e["workflow"], e["path"]) for e in got_skips] == skipped
    assert all(e["skipped"] and e["severity"] == "error" for e in got_skips)
    assert ledger["entries"][n_diag + n_skip :] == emitted
    counts = {s: sum(e["severity"] == s for e in ledger["entries"]) for s in ledger["summary"]}
    assert ledger["summary"] == counts
    assert sorted(os.listdir(out)) == sorted([MANIFEST, "wfconv-ledger.json", *files])
    return ledger, r.stderr


@pytest.mark.parametrize(
    "target, extra",
    [("prefect", ()), ("airflow", ("--subworkflow", "taskgroup")), ("luigi", ()), ("oozie", ())],
    ids=["prefect", "airflow-taskgroup", "luigi", "oozie"],
)
def test_streamed_calls_give_what_the_whole_bundle_gave(
    runner, tmp_path, calls_folder, target, extra
):
    ledger, stderr = _check_same(runner, tmp_path, [str(calls_folder)], target, *extra)
    # callers met before a callee read earlier are converted again at the end,
    # from the input read a second time: its errors are still said once
    assert stderr.count("broken.py:6: syntax error") == 1, stderr
    files = ledger["files"]
    assert "looping" not in files and len(files) == 7
    if target == "prefect":  # callees found at the end are imported, not deployments
        text = (tmp_path / "out-prefect" / files["a_caller"][0]).read_text()
        assert "from m_child import m_child" in text
        text = (tmp_path / "out-prefect" / files["q_caller"][0]).read_text()
        assert "from c_plain import c_plain" in text and "from a_caller import a_caller" in text
    if target == "airflow":  # inlined two levels deep, though read after the caller
        text = (tmp_path / "out-airflow" / files["a_caller"][0]).read_text()
        assert text.count('with TaskGroup(group_id="call0")') == 2 and "call0_call0_first" in text
    # the caller read first keeps the file name it had when everything was held
    assert files["x-y"] != files["x_y"]


@pytest.mark.slow
def test_streamed_corpus_conversion_is_the_same(runner, tmp_path):
    """The corpus (unreadable files, Oozie apps with sub-workflows, every
    engine) to Prefect: the files and ledger of the whole bundle at once."""
    ledger, _ = _check_same(
        runner,
        tmp_path,
        ["corpus/airflow", "corpus/oozie", "corpus/luigi", "corpus/prefect"],
        "prefect",
    )
    assert ledger["summary"]["error"] > 0 and len(ledger["files"]) > 30


def test_a_failed_or_refused_set_leaves_no_staging_and_no_new_folder(tmp_path):
    out = tmp_path / "new"
    with pytest.raises(RuntimeError), FolderSet(out) as files:
        files.stage("x = 1\n")
        assert [p.name.startswith(STAGING_PREFIX) for p in out.iterdir()] == [True]
        raise RuntimeError("the conversion failed half-way")
    assert not out.exists()  # the folder it created, empty again, is gone
    user = tmp_path / "user"
    user.mkdir()
    (user / "a.py").write_text("mine\n")
    with FolderSet(user) as files, pytest.raises(OutputRefused):
        files.commit({"a.py": files.stage("theirs\n")})
    assert sorted(os.listdir(user)) == ["a.py"] and (user / "a.py").read_text() == "mine\n"


def test_a_killed_runs_staging_folder_is_swept(tmp_path):
    out = tmp_path / "out"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    stale = out / f"{STAGING_PREFIX}{int(dead.stdout)}-0"
    stale.mkdir(parents=True)
    (stale / "0").write_text("half a run")
    live = out / f"{STAGING_PREFIX}{os.getppid()}-0"  # a running process's: left alone
    live.mkdir()
    with FolderSet(out) as files:
        files.commit({"a.py": files.stage("x = 1\n")})
    assert sorted(os.listdir(out)) == sorted([MANIFEST, "a.py", live.name])


@pytest.mark.slow
def test_convert_memory_does_not_grow_with_the_number_of_files(tmp_path):
    from test_scale import _peak_rss_mb, _small_dag  # parse's memory test, same files

    peaks = {}
    for n in (60, 600):
        folder = tmp_path / f"dags{n}"
        folder.mkdir()
        for i in range(n):
            (folder / f"d{i:04d}.py").write_text(_small_dag(i), encoding="utf-8")
        out = tmp_path / f"out{n}"
        peaks[n] = _peak_rss_mb("convert", str(folder), "--to", "prefect", "-o", str(out))
        ledger = json.loads((out / "wfconv-ledger.json").read_text(encoding="utf-8"))
        assert len(ledger["files"]) == n
    # Held in memory (before it streamed), 540 more files cost 16 MB here
    # (39 -> 55 MB). Streamed, the peak is the same within noise.
    assert peaks[600] < peaks[60] + 8, peaks
