"""The audit report of the whole corpus is byte-identical to its golden
(corpus/golden/audit/corpus.json): speed work on the static readers and the
audit must not change a single finding, metric or file status.

Regenerate on purpose only: ``python tests/golden.py --audit``, then read the diff."""

from __future__ import annotations

import difflib

from golden import AUDIT_GOLDEN, render_audit


def test_corpus_audit_matches_golden():
    want = AUDIT_GOLDEN.read_text(encoding="utf-8")
    got = render_audit()
    if got != want:
        diff = "".join(
            difflib.unified_diff(want.splitlines(True), got.splitlines(True), "golden", "now", n=1)
        )
        raise AssertionError(f"the corpus audit differs from its golden:\n{diff[:6000]}")
