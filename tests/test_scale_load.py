"""Scale: the IR's fast load path accepts exactly what the JSON Schema accepts,
and the command line streams what it prints."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from wfconv.ir.schema import _fast_check, _validator

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "corpus" / "golden"

# Values put in place of every member of a valid document, one at a time:
# each JSON type, and the edges of the constraints the schema states
# (minimum 0, exclusiveMinimum 0, minLength 1, integer vs 1.0, bool vs int).
ODD_VALUES = [None, True, False, 0, 1, -1, 1.0, 1.5, -0.5, "", "x", "cron", [], [1], [-1], {}]


def _documents():
    """Golden IR documents with many kinds of members (schedules of every
    kind, retries, groups, sources, mapped tasks, diagnostics)."""
    names = [
        "airflow/etl_basic.py.json",
        "airflow/mapped_tasks.py.json",
        "airflow/cycle.py.json",
        "oozie/cron_coord.json",
        "oozie/all_actions.xml.json",
    ]
    docs = []
    for name in names:
        p = GOLDEN / name
        if p.exists():
            docs.append(json.loads(p.read_text(encoding="utf-8")))
    assert len(docs) >= 3
    return docs


def _slots(node, path=(), seen=None):
    """(path, key) of each member of a document, once per place in the
    schema (list items count as one: the first task stands for all)."""
    seen = set() if seen is None else seen
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for k, v in items:
        shape = tuple("[]" if isinstance(p, int) else p for p in (*path, k))
        if shape in seen:
            continue
        seen.add(shape)
        yield path, k
        yield from _slots(v, (*path, k), seen)


def _agree(doc) -> tuple[bool, bool]:
    fast = _fast_check()(doc)
    slow = next(_validator().iter_errors(doc), None) is None
    return fast, slow


def test_fast_check_and_json_schema_agree_on_every_mutation():
    checked = rejected = 0
    seen: set = set()
    for doc in _documents():
        assert _agree(doc) == (True, True)
        for path, key in list(_slots(doc, seen=seen)):
            for value in [*ODD_VALUES, ...]:  # ... stands for "member removed"
                bad = copy.deepcopy(doc)
                node = bad
                for p in path:
                    node = node[p]
                if value is ...:
                    if isinstance(node, list):
                        continue
                    del node[key]
                else:
                    node[key] = value
                fast, slow = _agree(bad)
                assert fast == slow, (path, key, value, fast, slow)
                checked += 1
                rejected += not fast
    # The mutations exercise both answers, many times over.
    assert checked > 1000 and rejected > 500, (checked, rejected)


@pytest.mark.parametrize(
    ("member", "value"),
    [("wfconv_ir", True), ("wfconv_ir", 1.0), ("wfconv_ir", 2)],
)
def test_fast_check_keeps_json_equality_of_the_version(member, value):
    doc = _documents()[0]
    doc[member] = value
    # JSON Schema's const: true is not 1, 1.0 is.
    assert _agree(doc) == ((value == 1 and value is not True),) * 2
