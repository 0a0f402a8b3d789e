"""The code tables of ``docs/``, generated from ``wfconv.codes`` so that the
pages and the code never disagree (``python -m wfconv.codes --write-docs``)."""

from __future__ import annotations

import re
from pathlib import Path

from wfconv.codes import table
from wfconv.codes.model import Code

# page -> (families it lists, columns)
PAGES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "docs/codes/ir.md": (("IR", "WF"), ("code", "severity", "meaning")),
    "docs/codes/airflow.md": (("AF",), ("code", "severity", "meaning")),
    "docs/codes/prefect.md": (("PF",), ("code", "severity", "meaning")),
    "docs/codes/dagfactory.md": (("DF",), ("code", "severity", "meaning")),
    "docs/codes/luigi.md": (("LG",), ("code", "severity", "where", "meaning")),
    "docs/codes/oozie.md": (("OZ",), ("code", "severity", "meaning")),
    "docs/codes/backends-airflow-prefect.md": (("BA", "BP"), ("code", "severity", "meaning")),
    "docs/codes/backends-luigi-oozie.md": (("BL", "BO"), ("code", "severity", "meaning")),
    "docs/codes/runtime.md": (("RT",), ("code", "when", "what the runtime did")),
}

_CELL = {
    "code": lambda c: c.code,
    "severity": lambda c: c.severity,
    "meaning": lambda c: c.summary,
    "when": lambda c: c.summary,
    "where": lambda c: c.scope,
    "what the runtime did": lambda c: c.description,
}


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(x.replace("\n", " ") for x in cells) + " |"


def markdown_table(families: tuple[str, ...], columns: tuple[str, ...]) -> str:
    codes: list[Code] = [c for c in table().values() if c.family in families]
    lines = [_row(list(columns)), "|" + "---|" * len(columns)]
    lines += [_row([_CELL[col](c) for col in columns]) for c in codes]
    return "\n".join(lines) + "\n"


def render_page(text: str, families: tuple[str, ...], columns: tuple[str, ...]) -> str:
    """``text`` with its code table (the first table whose first column is
    ``code``) replaced by the generated one."""
    m = re.search(r"^\|\s*[Cc]ode\s*\|.*\n(?:\|.*\n)*", text, re.M)
    if m is None:
        raise ValueError("no code table on the page")
    return text[: m.start()] + markdown_table(families, columns) + text[m.end() :]


def write_docs(root: Path) -> list[str]:
    changed = []
    for page, (families, columns) in PAGES.items():
        path = root / page
        old = path.read_text(encoding="utf-8")
        new = render_page(old, families, columns)
        if new != old:
            path.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed
