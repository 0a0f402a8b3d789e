"""Every code wfconv reports, in one table: severity, summary, description,
fix, example and the page that documents it.

The readers (AF, PF, LG, OZ), IR validation (IR, WF), the writers (BA, BP, BL,
BO) and the runtime (RT) are listed in ``wfconv.codes.entries``; the audit's own
findings (AU) in ``wfconv.audit.codes``; ``wfconv upgrade``'s (UG) in
``wfconv.upgrade.codes``. Everything that shows a code reads it
here: ``wfconv explain``, the ledger, the audit's outputs and SARIF rules, and
``Diagnostic`` itself, whose severity is the table's (so one code has one
severity in every command). The tables in ``docs/`` are generated from it:
``python -m wfconv.codes --write-docs``.
"""

from __future__ import annotations

from functools import cache

from wfconv.codes.model import SEVERITIES, Code

__all__ = ["SEVERITIES", "Code", "get", "severity", "table"]

FAMILIES = {
    "AU": "audit finding",
    "AF": "Airflow reader",
    "DF": "dag-factory reader",
    "PF": "Prefect reader",
    "LG": "Luigi reader",
    "OZ": "Oozie reader",
    "IR": "IR validation",
    "WF": "input",
    "BA": "Airflow writer",
    "BP": "Prefect writer",
    "BL": "Luigi writer",
    "BO": "Oozie writer",
    "RT": "reference runtime",
    "UG": "Airflow 3 upgrade",
}


@cache
def table() -> dict[str, Code]:
    """Code -> Code, every family."""
    from wfconv.audit.codes import AREAS, CODES
    from wfconv.codes.entries import ENTRIES
    from wfconv.codes.examples import EXAMPLES

    out = {c.code: c for c in ENTRIES}
    for code, c in CODES.items():
        out[code] = Code(
            code,
            c.severity,
            "docs/audit.md#finding-codes",
            c.title,
            description=f"Why it matters: {c.why}.",
            fix=c.fix,
            example=EXAMPLES.get(code, ""),
            area=AREAS[c.area],
        )
    from wfconv.upgrade.codes import AREAS as UPGRADE_AREAS
    from wfconv.upgrade.codes import CODES as UPGRADE
    from wfconv.upgrade.codes import SEVERITY_OF_KIND

    for code, c in UPGRADE.items():
        out[code] = Code(
            code,
            SEVERITY_OF_KIND[c.kind],
            "docs/upgrade.md#codes",
            c.title,
            description=f"Kind: {c.kind}. Why: {c.why}.",
            fix=c.fix,
            area=UPGRADE_AREAS[c.area],
        )
    return out


@cache
def _severities() -> dict[str, str]:
    return {k: c.severity for k, c in table().items() if c.severity in SEVERITIES}


def get(code: str) -> Code | None:
    return table().get(code.upper())


def severity(code: str, fallback: str) -> str:
    """The table's severity of ``code``; ``fallback`` for codes it does not
    know or whose severity varies."""
    return _severities().get(code, fallback)
