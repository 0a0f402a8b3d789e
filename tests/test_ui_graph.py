"""The one drawer (backends/svg.py): Graphviz lays out every picture of the
UI, the audit report and compare's report. What a reader sees is checked on
the SVG itself: every task is a box, every edge a path, no edge runs through
a box it does not join, and a cycle is drawn whole."""

from __future__ import annotations

import re
import shutil

import pytest
from lxml import etree

from wfconv.backends import svg
from wfconv.frontends import load
from wfconv.ir.model import Action, Edge, Task, Workflow

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")

_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def _points(text: str) -> list[tuple[float, float]]:
    nums = [float(x) for x in _NUM.findall(text)]
    return list(zip(nums[::2], nums[1::2], strict=False))


def _bezier(p0, p1, p2, p3, n=24):
    for k in range(n + 1):
        t = k / n
        a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
        yield (
            a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
            a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
        )


def layout(picture: str):
    """{task: bounding box}, [(src, dst, points along the edge)] of a drawing."""
    root = etree.fromstring(picture.replace(' xmlns="http://www.w3.org/2000/svg"', "").encode())
    boxes, edges = {}, []
    for g in root.iter("g"):
        cls = g.get("class") or ""
        title = g.find("title")
        if title is None:
            continue
        if cls.startswith("node"):
            pts = []
            for shape in g.iter():
                tag = etree.QName(shape).localname
                if tag in ("polygon", "path"):
                    pts += _points(shape.get("points") or shape.get("d") or "")
                elif tag == "ellipse":
                    cx, cy = float(shape.get("cx")), float(shape.get("cy"))
                    rx, ry = float(shape.get("rx")), float(shape.get("ry"))
                    pts += [(cx - rx, cy - ry), (cx + rx, cy + ry)]
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            boxes[title.text] = (min(xs), min(ys), max(xs), max(ys))
        elif cls == "edge":
            src, dst = title.text.split("->")
            d = next(e for e in g.iter() if etree.QName(e).localname == "path").get("d")
            pts = _points(d)
            curve = []
            for i in range(0, len(pts) - 3, 3):
                curve += list(_bezier(*pts[i : i + 4]))
            edges.append((src, dst, curve))
    return boxes, edges


def crossings(picture: str) -> list[tuple[str, str, str]]:
    boxes, edges = layout(picture)
    out = []
    for src, dst, curve in edges:
        for name, (x0, y0, x1, y1) in boxes.items():
            if name in (src, dst):
                continue
            m = 2.0  # a curve may graze a corner; passing through is what matters
            if any(x0 + m < x < x1 - m and y0 + m < y < y1 - m for x, y in curve):
                out.append((src, dst, name))
    return out


def test_no_edge_runs_through_a_box_and_every_task_is_drawn():
    # A wide fan-out/fan-in with long edges skipping ranks: the case where the
    # old hand-made layouts drew straight lines through the boxes in between.
    tasks = ["start", *[f"mid_{i}" for i in range(6)], "deep_1", "deep_2", "end"]
    edges = [("start", f"mid_{i}") for i in range(6)]
    edges += [(f"mid_{i}", "end") for i in range(6)]
    edges += [("start", "deep_1"), ("deep_1", "deep_2"), ("deep_2", "end"), ("start", "end")]
    edges += [("mid_0", "deep_2"), ("start", "deep_2")]
    w = Workflow(
        "wide",
        tasks=[Task(t, Action("shell")) for t in tasks],
        edges=[Edge(a, b) for a, b in edges],
    )
    (picture,) = svg.draw([(w, svg.style("wide"))])
    boxes, drawn = layout(picture)
    assert set(boxes) == set(tasks)
    assert sorted((a, b) for a, b, _ in drawn) == sorted(edges)
    assert crossings(picture) == []


def test_the_corpus_is_drawn_without_crossings_and_the_cycle_readably():
    bundle = load(
        [
            "corpus/airflow/cycle.py",
            "corpus/airflow/taskgroups.py",
            "corpus/oozie/decision_default.xml",
            "corpus/luigi/diamond.py",
        ]
    )
    pictures = svg.draw([(w, svg.style(w.id)) for w in bundle.workflows])
    for w, picture in zip(bundle.workflows, pictures, strict=True):
        assert picture.startswith("<svg") and "<?xml" not in picture
        assert "http" not in picture.replace('xmlns="http://www.w3.org/2000/svg"', "")
        boxes, drawn = layout(picture)
        assert set(boxes) == set(w.task_ids()), w.id
        assert len(drawn) == len(w.edges), w.id
        assert crossings(picture) == [], w.id
    cyc = next(p for w, p in zip(bundle.workflows, pictures, strict=True) if w.id == "cyclic")
    _, drawn = layout(cyc)
    # b -> c -> d -> b: the back edge is drawn as its own path, arrowhead included
    assert {(a, b) for a, b, _ in drawn} >= {("b", "c"), ("c", "d"), ("d", "b")}


def test_hostile_names_are_escaped_and_links_and_states_are_drawn():
    w = Workflow(
        '<b>"x"</b>',
        tasks=[Task("<script>", Action("shell")), Task("a&b", Action("empty"))],
        edges=[Edge("<script>", "a&b")],
    )
    (picture,) = svg.draw(
        [
            (
                w,
                svg.style(
                    "t<",
                    {"a&b"},
                    states={"<script>": "failed"},
                    links={"a&b": "/runs/1/task?task=a%26b"},
                ),
            )
        ]
    )
    assert "<script>" not in picture and "&lt;script&gt;" in picture
    assert svg.STATE_COLOURS["failed"] in picture and 'href="/runs/1/task?task=a%26b"' in picture
    etree.fromstring(picture.encode())  # well-formed: it sits inside pages as is


def test_without_graphviz_the_page_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(svg, "dot_program", lambda: None)
    w = Workflow("w", tasks=[Task("<a>", Action("shell"))])
    (note,) = svg.draw([(w, None)])
    assert "apt-get install graphviz" in note and "&lt;a&gt;" in note and "<svg" not in note
