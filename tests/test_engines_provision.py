"""Where wfconv finds the real engines' virtualenvs (``wfconv engines``)."""

from __future__ import annotations

import re

from click.testing import CliRunner

from wfconv.cli import main
from wfconv.engines import provision


def test_an_incomplete_virtualenv_is_not_an_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("WFCONV_ENGINES_DIR", str(tmp_path))
    for name in ("WFCONV_AIRFLOW3_PYTHON", "WFCONV_AIRFLOW2_PYTHON", "WFCONV_AIRFLOW_PYTHON"):
        monkeypatch.delenv(name, raising=False)
    venv = tmp_path / "airflow-3.3.2"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    assert provision.find_python("3") is None  # an install that did not finish
    (venv / ".wfconv-complete").write_text("3.3.2\n")
    assert provision.find_python("3") == venv / "bin" / "python"
    assert provision.find_python("2") is None


def test_an_interpreter_named_by_the_environment_wins(tmp_path, monkeypatch):
    py = tmp_path / "python"
    py.write_text("")
    monkeypatch.setenv("WFCONV_ENGINES_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("WFCONV_AIRFLOW_PYTHON", str(py))
    monkeypatch.delenv("WFCONV_AIRFLOW3_PYTHON", raising=False)
    assert provision.find_python("3") == py
    monkeypatch.setenv("WFCONV_AIRFLOW2_PYTHON", str(tmp_path / "missing"))
    assert provision.find_python("2") is None


def test_engines_list_names_every_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("WFCONV_ENGINES_DIR", str(tmp_path))
    for name in ("WFCONV_AIRFLOW3_PYTHON", "WFCONV_AIRFLOW2_PYTHON", "WFCONV_AIRFLOW_PYTHON"):
        monkeypatch.delenv(name, raising=False)
    out = CliRunner().invoke(main, ["engines", "list"]).output
    assert re.search(r"^airflow3 +3\.3\.2 +not installed", out, re.M)
    assert re.search(r"^airflow2 +2\.10\.5 +not installed", out, re.M)
    assert "prefect" in out and "luigi" in out
