"""SARIF 2.1.0 (the format GitHub code scanning and other tools ingest).

One run; one rule per code that occurs (audit codes carry their help text,
frontend codes pass through with their own id); results stream out as files
are audited and the tool/rules object is written after them (JSON key order
does not matter). URIs are relative to the working directory with ``/``
separators, under ``uriBaseId`` ``%SRCROOT%``; lines start at 1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

import wfconv
from wfconv import codes
from wfconv.audit.model import FileResult, Finding
from wfconv.audit.run import Reporter, Summary

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def artifact_uri(path: str) -> str:
    """A URI reference: relative to the working directory (``%SRCROOT%``) when
    possible, percent-encoded (spaces, ``#``, ``%`` and non-ASCII in paths)."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            return p.as_uri()
    return quote(p.as_posix(), safe="/-._~") if str(p) != "." else os.curdir


def result_of(f: Finding) -> dict:
    loc: dict = {"artifactLocation": {"uri": artifact_uri(f.path), "uriBaseId": "%SRCROOT%"}}
    if f.line and f.line >= 1:
        loc["region"] = {"startLine": f.line}
    out = {
        "ruleId": f.code,
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": f.message},
        "locations": [{"physicalLocation": loc}],
        # Stable across line moves, like --baseline.
        "partialFingerprints": {"wfconvIdentity/v1": "|".join(f.identity()[1:])},
    }
    props = {
        k: v for k, v in (("workflow", f.workflow), ("task", f.task), ("origin", f.origin)) if v
    }
    if props:
        out["properties"] = props
    return out


def rule_of(code: str, severity: str) -> dict:
    """The reportingDescriptor of a code, from the one table (wfconv.codes).

    ``helpUri`` is the page of the wfconv repository that documents the code,
    as a path relative to the repository root (``docs/audit.md#finding-codes``):
    wfconv points at nothing outside its own repository, and the same text is
    in ``help`` so that a viewer needs no link at all."""
    c = codes.get(code)
    if c is None:  # a code no table knows (a newer IR file): say only what we know
        return {
            "id": code,
            "name": code,
            "shortDescription": {"text": f"diagnostic {code}"},
            "fullDescription": {"text": f"diagnostic {code} (not in this wfconv's table)"},
            "defaultConfiguration": {"level": LEVELS.get(severity, "warning")},
        }
    full = c.summary + (f". {c.description}" if c.description else "")
    help_text = full + (f"\nHow to fix: {c.fix}." if c.fix else "") + f"\nDocumented in {c.doc}."
    level = LEVELS.get(c.severity if c.severity in LEVELS else severity, "warning")
    return {
        "id": code,
        "name": code,
        "shortDescription": {"text": c.summary},
        "fullDescription": {"text": full},
        "help": {"text": help_text},
        "helpUri": c.doc,
        "defaultConfiguration": {"level": level},
        "properties": {
            "family": codes.FAMILIES.get(c.family, c.family),
            **({"area": c.area} if c.area else {}),
        },
    }


class SarifReporter(Reporter):
    def __init__(self, out: TextIO):
        self.out = out
        self.first = True
        self.rules: dict[str, str] = {}

    def start(self) -> None:
        self.out.write(
            '{"$schema": '
            + json.dumps(SARIF_SCHEMA)
            + ', "version": "2.1.0", "runs": [{\n"results": ['
        )

    def file(self, result: FileResult, findings: list[Finding]) -> None:
        for f in findings:
            self.rules.setdefault(f.code, f.severity)
            self.out.write(
                ("\n  " if self.first else ",\n  ") + json.dumps(result_of(f), ensure_ascii=False)
            )
            self.first = False

    def cross_file(self, findings: list[Finding]) -> None:
        self.file(FileResult("", "audited"), findings)

    def end(self, s: Summary) -> None:
        driver = {
            "name": "wfconv-audit",
            "version": wfconv.__version__,
            "semanticVersion": wfconv.__version__,
            "rules": [rule_of(c, sev) for c, sev in sorted(self.rules.items())],
        }
        tail = {
            "tool": {"driver": driver},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
            "invocations": [{"executionSuccessful": True}],
            "properties": {"summary": s.to_dict()},
        }
        self.out.write("\n],\n" + json.dumps(tail, ensure_ascii=False)[1:-1] + "}]}\n")
