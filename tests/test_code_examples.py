"""Every audit code's example (wfconv/codes/examples.py) is audited as a user
would (``wfconv audit``) and really produces its code; ``wfconv explain``
shows it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from wfconv.audit.codes import CODES
from wfconv.cli import main
from wfconv.codes.examples import EXAMPLES, NEXT_FILE

# Caused by wfconv's environment, not by a file's text (see the module's docstring).
NO_EXAMPLE = {"AU903", "AU904", "AU906"}


def _write(folder, text: str) -> None:
    for i, part in enumerate(text.split(NEXT_FILE + "\n")):
        suffix = {"<": ".xml", "{": ".json"}.get(part[0], ".py")
        encoding = "latin-1" if part.startswith("# -*- coding: latin-1 -*-") else "utf-8"
        (folder / f"example{i}{suffix}").write_bytes(part.encode(encoding))


def test_every_audit_code_has_an_example_or_a_reason():
    assert set(EXAMPLES) <= set(CODES)
    assert set(CODES) - set(EXAMPLES) == NO_EXAMPLE


@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_example_produces_its_code(code, tmp_path):
    _write(tmp_path, EXAMPLES[code])
    args = ["audit", "--no-cache", "-j", "0", "--format", "json", "--fail-on", "never"]
    r = CliRunner().invoke(main, [*args, "--now", "2026-01-01", str(tmp_path)])
    assert r.exit_code == 0, r.output
    got = {f["code"] for f in json.loads(r.output)["findings"]}
    assert code in got


def test_explain_shows_the_example():
    r = CliRunner().invoke(main, ["explain", "AU405"])
    assert r.exit_code == 0
    assert "Example:\n" in r.output and '        return "nowhere"' in r.output
    data = json.loads(CliRunner().invoke(main, ["explain", "AU001", "--format", "json"]).output)
    assert "a >> b >> a" in json.dumps(data)
