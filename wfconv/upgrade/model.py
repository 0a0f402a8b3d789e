"""What ``wfconv upgrade`` is asked (Options) and what it reports (Finding)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass


@dataclass
class Finding:
    code: str
    line: int
    message: str

    @property
    def kind(self) -> str:
        """``fix``, ``lossy`` or ``manual`` (wfconv/upgrade/codes.py)."""
        from wfconv.upgrade.codes import CODES

        return CODES[self.code].kind


@dataclass
class Options:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    timetable: str = "interval"  # or "trigger"
    today: _dt.date | None = None

    def enabled(self, code: str) -> bool:
        c = code.upper()
        if self.select and not any(c.startswith(s.upper()) for s in self.select):
            return False
        return not any(c.startswith(s.upper()) for s in self.ignore)

    def day(self) -> _dt.date:
        return self.today or _dt.datetime.now(_dt.UTC).date()
