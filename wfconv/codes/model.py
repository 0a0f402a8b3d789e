"""One code of the table (see ``wfconv.codes``)."""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Code:
    """A stable diagnostic or finding code.

    ``severity`` is the one every command reports it with (error, warning,
    info), or ``varies`` for the few writer codes that still name two facts
    of different weight (their summary says which is which). ``doc`` is the
    repository path of the page that documents it, with its anchor. ``strict``
    is False for codes that say something about the source that no conversion
    loses (Airflow 3 removals): ``convert --strict`` does not fail on them.
    """

    code: str
    severity: str
    doc: str
    summary: str
    description: str = ""
    fix: str = ""
    example: str = ""
    scope: str = ""  # where the entry is attached (Luigi: workflow, file, ...)
    strict: bool = True
    area: str = ""

    @property
    def family(self) -> str:
        return self.code[:2]
