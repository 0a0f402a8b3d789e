"""How wfconv's main objects show in Jupyter (``_repr_html_``, ``_repr_markdown_``).

The classes delegate here so that the model modules stay plain data. Every
value is escaped: ids and messages come from user files.
"""

from __future__ import annotations

from html import escape
from typing import Any


def _md(text: Any) -> str:
    """A Markdown table cell: pipes and newlines would break the row."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _html_table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if c is None else str(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _md_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_md("" if c is None else c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _schedule(w) -> str:
    s = w.schedule
    if s.kind == "cron":
        return f"cron {s.cron} ({s.timezone})"
    if s.kind == "interval":
        return f"every {s.seconds:g} s"
    return s.kind


def _workflow_rows(w) -> list[list[Any]]:
    ups: dict[str, list[str]] = {}
    for e in w.edges:
        ups.setdefault(e.dst, []).append(e.src)
    return [
        [t.id, t.action.kind, t.trigger_rule, t.retries, ", ".join(ups.get(t.id, []))]
        for t in w.tasks
    ]


WORKFLOW_HEADERS = ["task", "action", "trigger rule", "retries", "upstream"]


def workflow_html(w) -> str:
    losses = sum(d.severity in ("warning", "error") for d in w.diagnostics)
    return (
        f"<div><b>workflow {escape(w.id)}</b>: {len(w.tasks)} tasks, {len(w.edges)} edges, "
        f"schedule {escape(_schedule(w))}, {losses} ledger warning(s)/error(s)"
        + _html_table(WORKFLOW_HEADERS, _workflow_rows(w))
        + "</div>"
    )


def workflow_markdown(w) -> str:
    from wfconv.backends import render_graph

    return (
        f"**workflow `{_md(w.id)}`**: {len(w.tasks)} tasks, {len(w.edges)} edges, "
        f"schedule {_md(_schedule(w))}\n\n"
        + _md_table(WORKFLOW_HEADERS, _workflow_rows(w))
        + "\n```mermaid\n"
        + render_graph(w, "mermaid").rstrip("\n")
        + "\n```\n"
    )


def bundle_html(b) -> str:
    return "".join(workflow_html(w) for w in b.workflows) or "<div>no workflow</div>"


def bundle_markdown(b) -> str:
    return "\n".join(workflow_markdown(w) for w in b.workflows) or "no workflow\n"


RUN_HEADERS = ["task", "state", "tries", "start", "end"]


def _run_rows(r) -> list[list[Any]]:
    from wfconv.runtime.results import iso

    return [
        [tid, tr.state, len(tr.attempts), iso(tr.start_ts), iso(tr.end_ts)]
        for tid, tr in r.tasks.items()
    ]


def _run_head(r) -> str:
    from wfconv.runtime.results import iso

    return f"{r.workflow} {r.run_id}: {r.state} (logical date {iso(r.logical_date_ts)})"


def run_html(r) -> str:
    return f"<div><b>{escape(_run_head(r))}</b>" + _html_table(RUN_HEADERS, _run_rows(r)) + "</div>"


def run_markdown(r) -> str:
    return f"**{_md(_run_head(r))}**\n\n" + _md_table(RUN_HEADERS, _run_rows(r))


def _verify_rows(v) -> list[list[Any]]:
    rows = [["problem", p] for p in v.problems]
    rows += [["structure", d.describe()] for d in v.structure]
    rows += [["behaviour", s.describe()] for s in v.behaviour if not s.equivalent]
    rows += [["ledger", f"{d.code} {d.severity}: {d.message}"] for d in v.ledger]
    return rows


def verify_html(v) -> str:
    return (
        f"<div><b>{escape(v.summary())}</b>"
        + _html_table(["", "detail"], _verify_rows(v))
        + "</div>"
    )


def verify_markdown(v) -> str:
    return f"**{_md(v.summary())}**\n\n" + _md_table(["", "detail"], _verify_rows(v))
