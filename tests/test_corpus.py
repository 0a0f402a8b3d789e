"""Every corpus entry parses to its golden IR (or is refused with its golden error)."""

from __future__ import annotations

import difflib

import pytest
from golden import ENGINES, golden_for, render, sources

CASES = [src for engine in ENGINES for src in sources(engine)]


@pytest.mark.parametrize("src", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_entry_matches_golden(src):
    ok_path, err_path = golden_for(src)
    if not ok_path.exists() and not err_path.exists():
        pytest.fail(f"no golden for {src.name}: run python tests/golden.py {src} and review it")
    ir, err = render(src)
    if err_path.exists():
        assert ir is None, f"{src.name} should be refused but parsed"
        assert err == err_path.read_text(encoding="utf-8")
        return
    assert err is None, f"{src.name} was refused: {err}"
    want = ok_path.read_text(encoding="utf-8")
    if ir != want:
        diff = "".join(
            difflib.unified_diff(want.splitlines(True), ir.splitlines(True), "golden", "now", n=2)
        )
        pytest.fail(f"{src.name} differs from its golden IR:\n{diff[:6000]}")
