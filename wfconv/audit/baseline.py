"""``--baseline FILE``: a previous ``wfconv audit --format json`` report. Only
findings that are not in it are reported. Identity = code + file + workflow +
task + message (not the line: unrelated edits move lines). Counted as a
multiset: a second identical finding is new."""

from __future__ import annotations

import json
from collections import Counter

from wfconv.audit.model import Finding
from wfconv.errors import InputError


def load_baseline(path: str) -> Counter:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise InputError(path, None, f"cannot read baseline: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, exc.lineno, f"baseline is not JSON: {exc.msg}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise InputError(path, None, "baseline must be a report of `wfconv audit --format json`")
    out: Counter = Counter()
    for item in doc["findings"]:
        if isinstance(item, dict) and "code" in item and "path" in item:
            out[Finding.from_dict(item).identity()] += 1
    return out
