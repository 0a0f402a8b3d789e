"""Every reference to the project's documents resolves inside the repository.

Code, tests, the README and the docs cite documents by repo path
(``docs/semantics.md R3``, ``docs/architecture.md §4 "What the fields mean"``,
``docs/codes/oozie.md``) and link them in Markdown. A reference to a missing
file, a section number or rule a document does not have, or a section title it
does not use, is a broken promise to a reader; so is a path to a source file
that moved, and any link that leaves the repository.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = [
    *ROOT.glob("wfconv/**/*.py"),
    *ROOT.glob("wfconv/**/*.j2"),
    *(p for p in ROOT.glob("tests/*.py") if p.name != "test_docs.py"),  # its examples
    *ROOT.glob("bench/*.py"),
    ROOT / "README.md",
    ROOT / "pyproject.toml",
    *ROOT.glob("docs/**/*.md"),
]
MARKDOWN = [ROOT / "README.md", *ROOT.glob("docs/**/*.md")]

# docs/x.md followed by section marks: §4, §1-§4, §6 R1, R3, §4 "Title", ", §1".
REF = re.compile(
    r"""(?P<doc>docs/[\w./-]+?\.md)
        (?P<tail>(?:[ ,]+(?:§\s?\d+(?:-§?\d+)?(?:\s"[^"\n]+")?|R\d+\b))*)""",
    re.X,
)
MARK = re.compile(r'§\s?(\d+)(?:-§?(\d+))?(?:\s"([^"\n]+)")?|R(\d+)\b')
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
# Paths of the package mentioned in prose (`wfconv/frontends/pyeval.py`, and
# `frontends/oozie/xml.py` inside the package).
LAYERS = "frontends|backends|runtime|audit|verify|ir|cli|engines"
CODE_PATH = re.compile(rf"(?<![\w/.])((?:wfconv/)?(?:{LAYERS})/[\w/]*\w\.(?:py|j2|xsd))\b")


@cache
def outline(doc: Path) -> tuple[set[int], set[int], set[str]]:
    """(numbered sections, rules R<n>, lower-cased titles of headings and bold labels)."""
    text = doc.read_text(encoding="utf-8")
    sections = {int(m) for m in re.findall(r"^#{2,3} (\d+)\.", text, re.M)}
    rules = {int(m) for m in re.findall(r"\*\*R(\d+)\.", text)}
    titles = {
        re.sub(r"^\d+\.\s*", "", t).strip().lower()
        for t in re.findall(r"^#+ (.+)$", text, re.M) + re.findall(r"\*\*([^*\n]+?)\.?\*\*", text)
    }
    return sections, rules, titles


def references():
    for path in SCANNED:
        text = path.read_text(encoding="utf-8")
        for m in REF.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            yield f"{path.relative_to(ROOT)}:{line}", m.group("doc"), m.group("tail")


ALL_REFS = list(references())


def test_the_scan_finds_the_references_it_should():
    docs = {doc for _, doc, _ in ALL_REFS}
    assert {"docs/semantics.md", "docs/architecture.md", "docs/audit.md"} <= docs
    assert any("R3" in tail for _, doc, tail in ALL_REFS if doc == "docs/semantics.md")
    assert len(ALL_REFS) > 100
    assert sum(len(CODE_PATH.findall(md.read_text(encoding="utf-8"))) for md in MARKDOWN) > 10


def problems_of(doc: str, tail: str) -> list[str]:
    target = ROOT / doc
    if not target.is_file():
        return [f"{doc} does not exist"]
    sections, rules, titles = outline(target)
    out = []
    for m in MARK.finditer(tail):
        first, last, title, rule = m.groups()
        if rule is not None:
            if int(rule) not in rules:
                out.append(f"{doc} has no rule R{rule}")
            continue
        for n in range(int(first), int(last or first) + 1):
            if n not in sections:
                out.append(f"{doc} has no section §{n}")
        if title and title.strip().lower() not in titles:
            out.append(f'{doc} has no heading "{title}"')
    return out


def test_every_doc_reference_resolves():
    broken = [f"{where}: {p}" for where, doc, tail in ALL_REFS for p in problems_of(doc, tail)]
    assert not broken, "\n".join(broken)


def test_the_checker_catches_broken_references():
    assert problems_of("docs/nope.md", "") == ["docs/nope.md does not exist"]
    assert problems_of("docs/semantics.md", " R99") == ["docs/semantics.md has no rule R99"]
    assert problems_of("docs/architecture.md", " §1-§2, §42") == [
        "docs/architecture.md has no section §42"
    ]
    assert problems_of("docs/architecture.md", ' §4 "No such heading"') == [
        'docs/architecture.md has no heading "No such heading"'
    ]
    assert problems_of("docs/semantics.md", " §6 R1, R8") == []


def slug(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes."""
    t = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return t.replace(" ", "-")


@pytest.mark.parametrize("md", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_links_stay_in_the_repo_and_resolve(md):
    text = md.read_text(encoding="utf-8")
    bad = []
    for m in LINK.finditer(text):
        href = m.group(1)
        if re.match(r"[a-z]+:", href):
            bad.append(f"{href}: points outside the repository")
            continue
        file_part, _, anchor = href.partition("#")
        target = (md.parent / file_part).resolve() if file_part else md
        if not target.exists() or not target.is_relative_to(ROOT):
            bad.append(f"{href}: no such file in the repository")
            continue
        if anchor and target.suffix == ".md":
            heads = re.findall(r"^#+ (.+)$", target.read_text(encoding="utf-8"), re.M)
            if anchor not in {slug(h) for h in heads}:
                bad.append(f"{href}: no heading #{anchor}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("md", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_source_paths_named_in_the_docs_exist(md):
    text = md.read_text(encoding="utf-8")
    named = {p if p.startswith("wfconv/") else f"wfconv/{p}" for p in CODE_PATH.findall(text)}
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"{md.relative_to(ROOT)} names paths that do not exist: {missing}"


def test_nothing_points_at_the_old_shared_folder():
    hits = [
        f"{p.relative_to(ROOT)}"
        for p in SCANNED
        if "../shared" in p.read_text(encoding="utf-8") and p != Path(__file__)
    ]
    assert not hits


def test_no_merge_conflict_markers_are_left_in_any_file():
    """A conflict left from a merge splits a generated code table (its
    generator rewrites only the part before the marker) and reads as noise."""
    marker = re.compile(r"^(<{7}|>{7}) ", re.M)
    files = [*SCANNED, *ROOT.glob("corpus/golden/**/*"), *ROOT.glob("*.md"), *ROOT.glob("*.toml")]
    bad = sorted(
        str(p.relative_to(ROOT))
        for p in files
        if p.is_file() and marker.search(p.read_text(encoding="utf-8", errors="replace"))
    )
    assert bad == []
