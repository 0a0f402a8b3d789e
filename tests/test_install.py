"""The light base install: what works without the engines' libraries, and what
a user is told when a command needs an extra (docs/install.md).

A fresh virtualenv per test would cost a minute; instead the commands run in a
child interpreter where the engines cannot be imported (a meta-path blocker
installed by ``sitecustomize``), which is what the base install looks like to
wfconv's import graph. The real fresh-venv package count is measured by hand
(docs/install.md gives the command).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from wfconv.extras import EXTRAS

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
# Everything the base install leaves out (the engines, their servers).
BLOCKED = ("prefect", "luigi", "dask", "distributed", "fastapi", "uvicorn", "sqlalchemy")

BLOCKER = f"""
import sys
BLOCKED = {BLOCKED!r}
class _Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError("blocked by the base-install test: " + name, name=name)
        return None
sys.meta_path.insert(0, _Blocker())
"""


@pytest.fixture(scope="module")
def base_env(tmp_path_factory):
    site = tmp_path_factory.mktemp("base-install")
    (site / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(site)
    env.pop("WFCONV_LUIGI_PYTHON", None)
    return env


def wfconv(env, *args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "wfconv", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_blocker_really_blocks(base_env):
    r = subprocess.run(
        [sys.executable, "-c", "import prefect"], env=base_env, capture_output=True, text=True
    )
    assert r.returncode != 0 and "blocked by the base-install test" in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["airflow-to-prefect", "corpus/airflow/etl_basic.py"],  # the README's first command
        ["convert", "corpus/airflow/etl_basic.py", "--to", "luigi"],
        ["convert", "corpus/oozie/decision_default.xml", "--to", "airflow"],
        ["parse", "corpus/prefect/etl_basic.py"],
        ["parse", "corpus/oozie/coord_app"],
        ["graph", "corpus/airflow/etl_basic.py"],
        ["audit", "corpus/airflow", "--no-cache", "-j", "0", "--fail-on", "never"],
        ["run", "corpus/airflow/etl_basic.py", "--date", "2024-03-01", "--no-db"],
        ["verify", "corpus/airflow/etl_basic.py", "--to", "prefect"],
        ["schema"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_light_commands_work_without_the_engines(base_env, args):
    r = wfconv(base_env, *args, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip()
    assert "blocked" not in r.stderr and "Traceback" not in r.stderr


def test_prefect_code_is_emitted_without_prefect(base_env):
    r = wfconv(base_env, "airflow-to-prefect", "corpus/airflow/etl_basic.py", cwd=ROOT)
    assert "from prefect import" in r.stdout and "@flow" in r.stdout


@pytest.mark.parametrize(
    ("args", "extra", "label"),
    [
        (
            ["verify", "corpus/airflow/etl_basic.py", "--to", "prefect", "--engine"],
            "prefect",
            "Prefect",
        ),
        (["verify", "corpus/airflow/etl_basic.py", "--to", "luigi", "--engine"], "luigi", "Luigi"),
        (["verify", "corpus/airflow/etl_basic.py", "--to", "luigi"], "luigi", "Luigi"),
        (["parse", "corpus/luigi/diamond.py"], "luigi", "Luigi"),
        (["parse", "--static", "corpus/luigi/diamond.py"], "luigi", "Luigi"),
        (
            [
                "run",
                "corpus/airflow/etl_basic.py",
                "--no-db",
                "--date",
                "2024-03-01",
                "--executor",
                "dask",
            ],
            "dask",
            "Dask",
        ),
    ],
    ids=lambda a: " ".join(a[:4]) if isinstance(a, list) else a,
)
def test_commands_name_the_extra_they_need(base_env, args, extra, label):
    r = wfconv(base_env, *args, cwd=ROOT)
    assert r.returncode == 2
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("wfconv: ") and line.endswith(
        f"needs {label}: pip install 'wfconv[{extra}]'"
    ), r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr


def test_verify_engine_message_is_the_documented_one(base_env):
    r = wfconv(
        base_env, "verify", "corpus/airflow/etl_basic.py", "--to", "prefect", "--engine", cwd=ROOT
    )
    assert r.stderr.strip() == (
        "wfconv: verify --engine for prefect needs Prefect: pip install 'wfconv[prefect]'"
    )


def test_a_folder_with_luigi_files_names_each_and_goes_on(base_env):
    r = wfconv(base_env, "parse", "corpus/luigi", cwd=ROOT)
    assert r.returncode == 2
    assert (
        "corpus/luigi/diamond.py: reading Luigi modules needs Luigi: pip install 'wfconv[luigi]'"
        in r.stderr
    )


def test_audit_reports_files_it_could_not_read_for_lack_of_an_extra(base_env):
    r = wfconv(
        base_env,
        "audit",
        "corpus/luigi/diamond.py",
        "corpus/airflow/etl_basic.py",
        "--no-cache",
        "-j",
        "0",
        "--format",
        "json",
        cwd=ROOT,
    )
    import json

    doc = json.loads(r.stdout)
    au906 = [f for f in doc["findings"] if f["code"] == "AU906"]
    assert [f["path"] for f in au906] == ["corpus/luigi/diamond.py"]
    assert "pip install 'wfconv[luigi]'" in au906[0]["message"]
    assert doc["summary"]["workflows"] >= 1  # the Airflow file was still audited


def test_pyproject_keeps_the_engines_out_of_the_base_install():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = " ".join(meta["dependencies"]).lower()
    for name in BLOCKED:
        assert name not in base, name
    optional = meta["optional-dependencies"]
    for extra in EXTRAS.values():
        assert extra.name in optional, extra.name
    assert "luigi" in " ".join(optional["luigi"]) and "prefect" in " ".join(optional["prefect"])
    assert optional["engines"] == ["wfconv[prefect,luigi]"]
    assert optional["all"] == ["wfconv[prefect,luigi,dask,ui]"]
    # The README's test command installs .[test]: it must bring every engine.
    assert "wfconv[all]" in optional["test"]


def test_pre_commit_hooks_follow_pre_commits_schema():
    """Checked by pre-commit's own manifest loader (its cfgv schema): unknown
    keys, wrong types or a missing id/name/entry/language fail here as they
    would for a user."""
    from pre_commit.clientlib import load_manifest

    hooks = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    ids = {h["id"] for h in hooks}
    assert {"wfconv-audit", "wfconv-audit-airflow3"} <= ids
    for h in hooks:
        assert h["language"] == "python" and h["entry"].startswith("wfconv ")
        # The entry is a real command line of wfconv.
        from click.testing import CliRunner

        from wfconv.cli import main

        args = h["entry"].split()[1:]
        r = CliRunner().invoke(main, [*args, "corpus/airflow/etl_basic.py", "-j", "0"])
        assert r.exit_code in (0, 1), r.output


def test_pre_commit_schema_really_rejects_a_bad_manifest(tmp_path):
    from pre_commit.clientlib import InvalidManifestError, load_manifest

    bad = tmp_path / "hooks.yaml"
    bad.write_text("- id: x\n  name: x\n  entry: wfconv audit\n  language: pythn\n")
    with pytest.raises(InvalidManifestError):
        load_manifest(str(bad))
