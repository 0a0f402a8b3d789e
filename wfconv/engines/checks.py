"""The results of the engine harness: one ``Check`` per check class and engine.

Check classes (docs/verify.md): ``complete`` (no placeholder, stub or task that
still needs the source engine), ``loads``, ``structure``, ``time``,
``payload`` and ``behaviour``. A status is ``pass``, ``fail``, ``unverified``
(the engine is absent, or it cannot show this aspect: the reason says which)
or ``n/a`` (nothing to check: an unscheduled workflow has no time check).

A verdict is EQUIVALENT only when no check failed; an unverified check is
never counted as a pass: the verdict then names it ("unverified in X").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASS, FAIL, UNVERIFIED, NA = "pass", "fail", "unverified", "n/a"
CHECKS = ("complete", "loads", "structure", "time", "payload", "behaviour")


@dataclass
class Check:
    name: str  # one of CHECKS
    engine: str  # "airflow 3.3.2", "prefect 3.8.8", "luigi", "oozie schemas", "wfconv"
    status: str
    details: list[str] = field(default_factory=list)
    # the details a difference was explained by (ledger codes), kept apart from failures
    explained: list[str] = field(default_factory=list)
    # packages the output needs that the engine lacks: why the check is unverified
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != FAIL

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "engine": self.engine,
            "status": self.status,
            "details": self.details,
            "explained": self.explained,
            **({"missing": self.missing} if self.missing else {}),
        }


def fail_or_pass(name: str, engine: str, problems: list[str], explained=()) -> Check:
    return Check(name, engine, FAIL if problems else PASS, list(problems), list(explained))


def unverified(checks: list[Check]) -> list[str]:
    """ "check in engine" for every unverified check, for the verdict line."""
    return [f"{c.name} in {c.engine}" for c in checks if c.status == UNVERIFIED]
