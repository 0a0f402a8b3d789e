"""What Jupyter shows for the main objects: tables of the real values, escaped."""

from __future__ import annotations

import html.parser
from pathlib import Path

import wfconv
from wfconv.ir.model import Action, Bundle, Task, Workflow
from wfconv.verify import verify_workflow

ROOT = Path(__file__).resolve().parent.parent


class Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        if self.tags and self.tags[-1] == "td":
            self.cells.append(data)

    def handle_endtag(self, tag):
        self.tags.pop()


def cells(text):
    p = Cells()
    p.feed(text)
    assert not p.tags, "unbalanced HTML"
    return p.cells


def test_workflow_and_bundle():
    b = wfconv.load(str(ROOT / "corpus/airflow/etl_basic.py"))
    w = b.workflows[0]
    got = cells(w._repr_html_())
    assert got[:5] == [
        "wait_for_export",
        "sensor",
        "all_success",
        "3",
        "extract",
    ]  # no upstream: empty cell
    md = w._repr_markdown_()
    assert "| extract | shell | all_success | 3 | wait_for_export |" in md
    assert "```mermaid" in md and md.rstrip().endswith("```")
    assert b._repr_html_() == w._repr_html_()


def test_hostile_ids_are_escaped():
    w = Workflow("<script>x</script>", tasks=[Task("a|b\n<i>", Action("empty"))])
    page = Bundle([w])._repr_html_()
    assert "<script>" not in page and "<i>" not in page and cells(page)[0] == "a|b\n<i>"
    assert "| a\\|b <i> |" in w._repr_markdown_()


def test_run_result_shows_iso_times():
    w = wfconv.load(str(ROOT / "corpus/airflow/etl_basic.py")).workflows[0]
    from wfconv.runtime.scenario import Scenario

    r = wfconv.run(w, Scenario.from_cli(("extract:1",), (), (), (), (), 1.0))[0]
    got = cells(r._repr_html_())
    row = got[got.index("extract") : got.index("extract") + 5]
    assert row[1:3] == ["success", "2"] and row[3].endswith("+00:00")
    assert "| extract | success | 2 |" in r._repr_markdown_()


def test_verify_report():
    w = wfconv.load(str(ROOT / "corpus/airflow/etl_basic.py")).workflows[0]
    v = verify_workflow(w, "luigi")
    page = v._repr_html_()
    assert v.summary() in page.replace("&gt;", ">")
    assert any(c.startswith("BL101 warning") for c in cells(page))
    assert v.summary() in v._repr_markdown_()
