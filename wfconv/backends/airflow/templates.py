"""Airflow 3's names for the template variables it removed.

An Airflow 2 template that reads ``prev_ds``, ``execution_date``,
``tomorrow_ds``, ``prev_execution_date_success`` or ``triggering_dataset_events``
renders an undefined name in Airflow 3: empty text, or a failed task when the
template calls it. ``airflow3_spelling`` writes each in Airflow 3's terms, in
``{{ ... }}`` expressions and ``{% ... %}`` statements alike (``{% if prev_ds
%}`` is a test that would silently turn false), and names those it cannot
spell: the period-bound ones on a schedule without a constant period, and
``conf`` (Airflow's configuration is no template variable in Airflow 3).
"""

from __future__ import annotations

import re

_BLOCK = re.compile(r"(\{\{|\{%-?)(.*?)(-?%\}|\}\})", re.S)

# Airflow 2 names with a spelling in Airflow 3 that does not need the schedule.
_FIXED = {
    "execution_date": "logical_date",
    "tomorrow_ds": "macros.ds_add(ds, 1)",
    "yesterday_ds": "macros.ds_add(ds, -1)",
    "tomorrow_ds_nodash": "macros.ds_format(macros.ds_add(ds, 1), '%Y-%m-%d', '%Y%m%d')",
    "yesterday_ds_nodash": "macros.ds_format(macros.ds_add(ds, -1), '%Y-%m-%d', '%Y%m%d')",
    # the previous successful run's logical date, which Airflow 2's data
    # intervals (the model these names come from) start at
    "prev_execution_date_success": "prev_data_interval_start_success",
    "triggering_dataset_events": "triggering_asset_events",
}
# Names that need the schedule's period (the previous or next run).
_PERIODIC = {
    "prev_ds": (-1, "ds"),
    "next_ds": (1, "ds"),
    "prev_ds_nodash": (-1, "ds_nodash"),
    "next_ds_nodash": (1, "ds_nodash"),
    "prev_execution_date": (-1, "date"),
    "next_execution_date": (1, "date"),
}
# Removed without a spelling.
_GONE = {"conf"}

_NAMES = re.compile(
    r"(?<![\w.'\"])(?:"
    + "|".join(sorted([*_FIXED, *_PERIODIC, *_GONE], key=len, reverse=True))
    + r")(?![\w'\"])"
)


def airflow3_spelling(text: str, period: dict[str, int] | None) -> tuple[str, list[str]]:
    """``text`` with the removed variables spelled in Airflow 3's terms, and
    the removed names kept because they have no spelling. ``period`` is the
    schedule's constant period as one ``timedelta`` keyword, or None."""
    missing: list[str] = []

    def name(m: re.Match) -> str:
        word = m.group(0)
        if word in _GONE:
            missing.append(word)
            return word
        if word in _FIXED:
            fixed = _FIXED[word]
            return fixed if re.fullmatch(r"\w+", fixed) else f"({fixed})"
        sign, kind = _PERIODIC[word]
        if period is None:
            missing.append(word)
            return word
        ((unit, n),) = period.items()
        shifted = f"(logical_date {'+' if sign > 0 else '-'} macros.timedelta({unit}={n}))"
        if kind == "date":
            return shifted
        fmt = "%Y-%m-%d" if kind == "ds" else "%Y%m%d"
        return f"{shifted}.strftime('{fmt}')"

    def block(m: re.Match) -> str:
        return m.group(1) + _NAMES.sub(name, m.group(2)) + m.group(3)

    if "{{" not in text and "{%" not in text:
        return text, []
    return _BLOCK.sub(block, text), sorted(set(missing))
