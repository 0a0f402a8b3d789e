"""HTML report: one self-contained file (no scripts, no external assets) with
the summary, the findings table and, per workflow, its metrics and a drawing
of its graph (inline SVG, tasks laid out by longest-path level, critical path
highlighted). Rows are spooled to temporary files while the audit streams so
that the summary can come first and memory stays flat."""

from __future__ import annotations

import html
import tempfile
from typing import TextIO

import wfconv
from wfconv.audit.model import FileResult, Finding, WorkflowSummary
from wfconv.audit.run import Reporter, Summary

MAX_DRAWINGS = 200
NODE_W, NODE_H, GAP_X, GAP_Y = 150, 26, 40, 12

CSS = """
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.error{color:#b00020;font-weight:600}.warning{color:#9a6700}.info{color:#555}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em}
.card b{display:block;font-size:1.5em}code{background:#f6f6f6;padding:0 3px}
svg text{font:11px monospace}details{margin:.5em 0}
"""


def esc(x) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _levels(w: WorkflowSummary) -> list[int]:
    n = len(w.nodes)
    preds: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    for a, b in w.links:
        succ[a].append(b)
        preds[b].append(a)
        indeg[b] += 1
    level = [0] * n
    ready = [i for i in range(n) if indeg[i] == 0]
    placed = set()
    while ready:
        i = ready.pop()
        placed.add(i)
        for s in succ[i]:
            level[s] = max(level[s], level[i] + 1)
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    last = max(level, default=0) + 1
    return [level[i] if i in placed else last for i in range(n)]  # cycle members: own column


def svg_graph(w: WorkflowSummary, uid: str = "a") -> str:
    """The graph as inline SVG; ``uid`` keeps the arrow marker id unique in the page."""
    if not w.nodes:
        return "<p>(graph not drawn: too many tasks)</p>"
    levels = _levels(w)
    rows: dict[int, int] = {}
    pos = []
    for lv in levels:
        r = rows.get(lv, 0)
        rows[lv] = r + 1
        pos.append((lv * (NODE_W + GAP_X) + 5, r * (NODE_H + GAP_Y) + 5))
    width = (max(levels) + 1) * (NODE_W + GAP_X) + 10
    height = max(rows.values()) * (NODE_H + GAP_Y) + 10
    crit = set(w.critical_path)
    cpairs = set(zip(w.critical_path, w.critical_path[1:], strict=False))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="graph of {esc(w.id)}"><defs><marker id="{uid}" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#888"/></marker></defs>'
    ]
    for a, b in w.links:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        hot = (w.nodes[a], w.nodes[b]) in cpairs
        parts.append(
            f'<line x1="{x1 + NODE_W}" y1="{y1 + NODE_H / 2}" x2="{x2}" y2="{y2 + NODE_H / 2}" '
            f'stroke="{"#d9480f" if hot else "#aaa"}" stroke-width="{2 if hot else 1}" marker-end="url(#{uid})"/>'
        )
    for i, name in enumerate(w.nodes):
        x, y = pos[i]
        label = name if len(name) <= 20 else name[:19] + "…"
        fill = "#fff4e6" if name in crit else "#f1f3f5"
        parts.append(
            f'<g><title>{esc(name)}</title><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="4" '
            f'fill="{fill}" stroke="#868e96"/><text x="{x + 6}" y="{y + 17}">{esc(label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


class HtmlReporter(Reporter):
    def __init__(self, out: TextIO):
        self.out = out
        self.rows = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.wfs = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.drawn = 0

    def _rows(self, findings: list[Finding]) -> None:
        for f in findings:
            loc = f"{f.path}:{f.line}" if f.line else f.path
            scope = (f.workflow or "") + (f" / {f.task}" if f.task else "")
            self.rows.write(
                f'<tr><td class="{esc(f.severity)}">{esc(f.severity)}</td><td><code>{esc(f.code)}</code></td>'
                f"<td>{esc(loc)}</td><td>{esc(scope)}</td><td>{esc(f.message)}</td></tr>\n"
            )

    def file(self, result: FileResult, findings: list[Finding]) -> None:
        self._rows(findings)
        for w in result.workflows:
            depth = "-" if w.depth is None else w.depth
            width = "-" if w.width is None else f"{w.width}{'' if w.width_exact else ' (at least)'}"
            self.wfs.write(
                f"<details><summary><b>{esc(w.id)}</b> ({esc(w.engine)}) — {esc(result.path)}: {w.tasks} tasks, "
                f"{w.edges} edges, depth {depth}, width {esc(width)}</summary>"
            )
            if w.critical_path:
                self.wfs.write("<p>critical path: " + " → ".join(esc(x) for x in w.critical_path) + "</p>")
            if self.drawn < MAX_DRAWINGS:
                self.wfs.write(svg_graph(w, f"arrow{self.drawn}"))
                self.drawn += 1
            self.wfs.write("</details>\n")

    def cross_file(self, findings: list[Finding]) -> None:
        self._rows(findings)

    def _copy(self, spool) -> None:
        spool.seek(0)
        while chunk := spool.read(1 << 16):
            self.out.write(chunk)
        spool.close()

    def end(self, s: Summary) -> None:
        d = s.to_dict()
        cards = [
            ("files", d["files"]), ("audited", d["audited"]), ("unparsable", d["failed"]),
            ("skipped", d["skipped"]), ("workflows", d["workflows"]), ("tasks", d["tasks"]),
            ("errors", d["findings"]["error"]), ("warnings", d["findings"]["warning"]),
            ("info", d["findings"]["info"]),
        ]
        self.out.write(
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>wfconv audit</title>'
            f"<style>{CSS}</style></head><body><h1>wfconv audit</h1>"
            f"<p>wfconv {esc(wfconv.__version__)} — {d['seconds']} s, {d['files_per_second']} files/s</p>"
            '<h2>Summary</h2><div class="cards">'
            + "".join(f'<div class="card"><b>{v}</b>{esc(k)}</div>' for k, v in cards)
            + "</div>"
        )
        if d["findings_by_code"]:
            self.out.write(
                "<p>by code: " + ", ".join(f"<code>{esc(c)}</code> {n}" for c, n in d["findings_by_code"].items()) + "</p>"
            )
        self.out.write(
            "<h2>Findings</h2><table><thead><tr><th>severity</th><th>code</th><th>location</th>"
            "<th>workflow / task</th><th>message</th></tr></thead><tbody>\n"
        )
        self._copy(self.rows)
        self.out.write(f"</tbody></table><h2>Workflows</h2><p>graphs drawn for the first {MAX_DRAWINGS} workflows</p>\n")
        self._copy(self.wfs)
        self.out.write("</body></html>\n")
