"""cron_field_values (backends/common.py): the times a cron line matches, as
cronsim - the runtime's cron engine - reads them. Two spellings of one
schedule compare equal; cronsim's extensions are not plain cron."""

from __future__ import annotations

import pytest

from wfconv.backends.common import cron_field_values
from wfconv.backends.prefect import cron_to_rrule


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("0 6 * * 1-5", "0 6 * * MON,TUE,WED,THU,FRI"),
        ("*/15 * * * *", "0,15,30,45 * * * *"),
        ("0 0 1 jan-mar 7", "0 0 1 1,2,3 0"),  # names, any case; 7 is Sunday too
        ("5/20 2-8/3 * * *", "5,25,45 2,5,8 * * *"),
    ],
)
def test_two_spellings_match_the_same_times(a, b):
    assert cron_field_values(a) == cron_field_values(b) is not None


def test_values_per_field():
    minute, hour, dom, month, dow = cron_field_values("30 2 1,15 * SUN-SAT")
    assert (minute, hour, dom) == ([30], [2], [1, 15])
    assert month == list(range(1, 13)) and dow == list(range(7))


@pytest.mark.parametrize(
    "line",
    [
        "0 0 L * *",  # last day of the month
        "0 0 LW * *",
        "0 0 * * 1#2",  # second Monday
        "0 0 * * 5L",
        "0 0 0 * * *",  # a seconds field
        "*/0 * * * *",  # a zero step (the hand-written parser raised here)
        "0 0 * * 5-1",
        "61 * * * *",
        "0 0 31 2 *",  # a day no month of the line has
        "@daily",
    ],
)
def test_not_plain_cron(line):
    assert cron_field_values(line) is None
    assert cron_to_rrule(line) is None
