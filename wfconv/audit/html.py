"""HTML report: one self-contained file (no scripts, no external assets) with
the summary, the findings table and, per workflow, its metrics and a drawing
of its graph (inline SVG laid out by Graphviz, critical path highlighted).
Rows are spooled to temporary files while the audit streams so that the
summary can come first and memory stays flat; the drawings (at most
MAX_DRAWINGS) are laid out together at the end, by one Graphviz run."""

from __future__ import annotations

import html
import tempfile
from typing import TextIO

import wfconv
from wfconv.audit.model import FileResult, Finding, WorkflowSummary
from wfconv.audit.run import Reporter, Summary

MAX_DRAWINGS = 200
# A line of the workflows spool that stands for drawing number N (escaped
# text cannot start with "<", so no workflow text can forge one).
_DRAWING = "<!--drawing "

CSS = """
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.error{color:#b00020;font-weight:600}.warning{color:#9a6700}.info{color:#555}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em}
.card b{display:block;font-size:1.5em}code{background:#f6f6f6;padding:0 3px}
details{margin:.5em 0}.graph-note{color:#555}
"""


def esc(x) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _drawing(w: WorkflowSummary):
    """The audit keeps names and index pairs of a graph: drawn by the one
    drawer (backends/svg.py), the critical path highlighted."""
    from wfconv.backends import svg

    crit = w.critical_path
    return (
        svg.plain_workflow(w.id, w.nodes, [(a, b) for a, b in w.links]),
        svg.style(None, set(crit), set(zip(crit, crit[1:], strict=False))),
    )


class HtmlReporter(Reporter):
    def __init__(self, out: TextIO):
        self.out = out
        self.rows = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.wfs = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.drawings: list = []

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
                self.wfs.write(
                    "<p>critical path: " + " → ".join(esc(x) for x in w.critical_path) + "</p>"
                )
            if not w.nodes:
                self.wfs.write("<p>(graph not drawn: too many tasks)</p>")
            elif len(self.drawings) < MAX_DRAWINGS:
                self.wfs.write(f"\n{_DRAWING}{len(self.drawings)}-->\n")
                self.drawings.append(_drawing(w))
            self.wfs.write("</details>\n")

    def cross_file(self, findings: list[Finding]) -> None:
        self._rows(findings)

    def _copy(self, spool) -> None:
        spool.seek(0)
        while chunk := spool.read(1 << 16):
            self.out.write(chunk)
        spool.close()

    def _copy_workflows(self) -> None:
        from wfconv.backends import svg

        pictures = svg.draw(self.drawings)
        self.wfs.seek(0)
        for line in self.wfs:
            if line.startswith(_DRAWING):
                self.out.write(pictures[int(line[len(_DRAWING) : -4])])
            else:
                self.out.write(line)
        self.wfs.close()

    def end(self, s: Summary) -> None:
        d = s.to_dict()
        cards = [
            ("files", d["files"]),
            ("audited", d["audited"]),
            ("unparsable", d["failed"]),
            ("skipped", d["skipped"]),
            ("workflows", d["workflows"]),
            ("tasks", d["tasks"]),
            ("errors", d["findings"]["error"]),
            ("warnings", d["findings"]["warning"]),
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
                "<p>by code: "
                + ", ".join(f"<code>{esc(c)}</code> {n}" for c, n in d["findings_by_code"].items())
                + "</p>"
            )
        self.out.write(
            "<h2>Findings</h2><table><thead><tr><th>severity</th><th>code</th><th>location</th>"
            "<th>workflow / task</th><th>message</th></tr></thead><tbody>\n"
        )
        self._copy(self.rows)
        self.out.write(
            f"</tbody></table><h2>Workflows</h2><p>graphs drawn for the first {MAX_DRAWINGS} workflows</p>\n"
        )
        self._copy_workflows()
        self.out.write("</body></html>\n")
