"""Audit outputs for CI systems, and per-code statistics.

- ``--format github``: GitHub Actions workflow commands, one line per finding
  (``::warning file=dags/etl.py,line=12,title=AU203::message``), which the
  runner turns into annotations on the pull request's diff. Values are escaped
  as the runner expects: ``%``, CR and LF everywhere, ``:`` and ``,`` in
  properties as well.
- ``--format gitlab``: a GitLab Code Quality report, a JSON array of issues
  (``description``, ``check_name``, ``fingerprint``, ``severity``,
  ``location.path``, ``location.lines.begin``) that a job publishes with
  ``artifacts: reports: codequality``.
- ``--statistics``: how many findings of each code, most frequent first (as
  ``ruff check --statistics``), as a table or JSON.
"""

from __future__ import annotations

import hashlib
import json
from typing import TextIO

from wfconv import codes
from wfconv.audit.model import FileResult, Finding
from wfconv.audit.run import Reporter, Summary

GITHUB_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}
GITLAB_SEVERITIES = {"error": "critical", "warning": "major", "info": "info"}


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(f: Finding) -> str:
    props = [f"file={_gh_property(f.path)}"]
    if f.line:
        props.append(f"line={f.line}")
    props.append(f"title={_gh_property(f.code)}")
    level = GITHUB_LEVELS.get(f.severity, "warning")
    return f"::{level} {','.join(props)}::{_gh_data(f'{f.code} {f.message}')}"


class GithubReporter(Reporter):
    def __init__(self, out: TextIO):
        self.out = out

    def file(self, result: FileResult, findings: list[Finding]) -> None:
        for f in findings:
            self.out.write(github_line(f) + "\n")

    def cross_file(self, findings: list[Finding]) -> None:
        self.file(FileResult("", "audited"), findings)


def gitlab_issue(f: Finding) -> dict:
    # Stable across line moves, like --baseline and SARIF's partialFingerprints.
    fingerprint = hashlib.sha256("\0".join(f.identity()).encode("utf-8")).hexdigest()
    return {
        "description": f"{f.code} {f.message}",
        "check_name": f.code,
        "fingerprint": fingerprint,
        "severity": GITLAB_SEVERITIES.get(f.severity, "major"),
        "location": {"path": f.path, "lines": {"begin": f.line or 1}},
    }


class GitlabReporter(Reporter):
    """Streams the array: ``[`` at the start, one issue per finding, ``]``."""

    def __init__(self, out: TextIO):
        self.out = out
        self.first = True

    def start(self) -> None:
        self.out.write("[")

    def file(self, result: FileResult, findings: list[Finding]) -> None:
        for f in findings:
            self.out.write(
                ("\n  " if self.first else ",\n  ")
                + json.dumps(gitlab_issue(f), ensure_ascii=False)
            )
            self.first = False

    def cross_file(self, findings: list[Finding]) -> None:
        self.file(FileResult("", "audited"), findings)

    def end(self, s: Summary) -> None:
        self.out.write("\n]\n")


def statistics(s: Summary) -> list[dict]:
    rows = []
    for code, count in sorted(s.codes.items(), key=lambda kv: (-kv[1], kv[0])):
        c = codes.get(code)
        rows.append(
            {
                "code": code,
                "count": count,
                "severity": c.severity if c else None,
                "summary": c.summary if c else None,
            }
        )
    return rows


class StatisticsReporter(Reporter):
    """Only the per-code counts, at the end (``--statistics``)."""

    def __init__(self, out: TextIO, fmt: str):
        self.out = out
        self.fmt = fmt

    def end(self, s: Summary) -> None:
        rows = statistics(s)
        if self.fmt == "json":
            self.out.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
            return
        from wfconv.cli.term import table_text

        self.out.write(
            table_text(
                ("COUNT", "CODE", "SEVERITY", "SUMMARY"),
                [(r["count"], r["code"], r["severity"], r["summary"]) for r in rows],
                stream=self.out,
                styled=(2,),
                right=(0,),
            )
        )
