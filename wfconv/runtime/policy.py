"""Retry clocks and sensor timing (docs/semantics.md §6 R8, §1 sensors).

Retry delay after the n-th failed try (n ≥ 1), by the engine the IR came
from (``workflow.source.engine``):

- a list of delays (Prefect ``retry_delay_seconds=[...]``): ``list[min(n-1, len-1)]``;
- ``fixed``: the task's ``retry_delay_s`` (engine default when None);
- ``exponential``:
  * Airflow (the reference, and any other source not listed): the value of
    ``TaskInstance.next_retry_datetime`` — ``min_backoff = ceil(d·2^(n-1))``
    (at least 1), plus ``sha1("dag#task#logical_date#n") mod min_backoff``,
    so a deterministic value in [d·2^(n-1), d·2^n), then capped by 24 h
    (``MAX_RETRY_DELAY``) and by ``max_retry_delay``;
  * Prefect ``exponential_backoff(f)``: f·2^(n-1);
  * Oozie ``retry-policy=exponential``: i·2^(n-1).

``max_retry_delay`` caps exponential delays only: in Airflow's
``next_retry_datetime`` the cap sits inside the exponential branch, so a fixed
``retry_delay`` larger than ``max_retry_delay`` is used as is.

The wait is measured from the failed try's end (Airflow ``end_date + delay``).
The hash input spells the logical date with ``isoformat()`` (pendulum 2's
``str``); the value always lies in the documented window, and verify compares
delays only as bounds (R8).
"""

from __future__ import annotations

import math
from datetime import datetime

MAX_RETRY_DELAY_S = 86400.0  # Airflow's [core] max_retry_delay hard cap (24 h)

# retry_delay_s = None means "the engine's default" (docs/semantics.md §1-§4).
DEFAULT_RETRY_DELAY_S: dict[str | None, float] = {
    "airflow": 300.0,
    "prefect": 0.0,
    "luigi": 900.0,
    "oozie": 600.0,  # retry-interval default: 10 minutes
    None: 300.0,
}

DEFAULT_POKE_INTERVAL_S = 60.0
DEFAULT_SENSOR_TIMEOUT_S = 7 * 86400.0


def airflow_exponential(
    base_s: float, try_number: int, dag_id: str, task_id: str, logical_date: datetime
) -> float:
    """Airflow's hashed exponential backoff (before the max_retry_delay cap)."""
    import hashlib  # here: its import (OpenSSL) is ~8 ms of every `wfconv run`

    min_backoff = max(1, math.ceil(base_s * 2 ** (try_number - 1)))
    digest = hashlib.sha1(
        f"{dag_id}#{task_id}#{logical_date.isoformat()}#{try_number}".encode()
    ).hexdigest()
    return float(min(min_backoff + int(digest, 16) % min_backoff, MAX_RETRY_DELAY_S))


def _doubling(base_s: float, try_number: int, *_: object) -> float:
    return base_s * 2 ** (try_number - 1)


EXPONENTIAL_BY_ENGINE = {"prefect": _doubling, "oozie": _doubling}


def retry_delay(
    task, try_number: int, engine: str | None, dag_id: str, logical_date: datetime
) -> float:
    """Seconds to wait after failed try ``try_number`` before the next one."""
    d = task.retry_delay_s
    if isinstance(d, list):
        if not d:
            return 0.0
        delay = float(d[min(try_number - 1, len(d) - 1)])
    else:
        base = (
            DEFAULT_RETRY_DELAY_S.get(engine, DEFAULT_RETRY_DELAY_S[None])
            if d is None
            else float(d)
        )
        if task.retry_backoff == "exponential":
            fn = EXPONENTIAL_BY_ENGINE.get(engine or "")
            if fn is None:
                delay = airflow_exponential(base, try_number, dag_id, task.id, logical_date)
            else:
                delay = fn(base, try_number)
            # Airflow applies max_retry_delay inside the exponential branch only.
            if task.max_retry_delay_s is not None:
                delay = min(delay, float(task.max_retry_delay_s))
        else:
            delay = base
    return delay


def sensor_settings(task) -> tuple[float, float, bool]:
    """(poke_interval, timeout, soft_fail) of a sensor task."""
    f = task.action.fields
    pi = f.get("poke_interval_s")
    to = f.get("timeout_s")
    return (
        float(pi) if pi is not None else DEFAULT_POKE_INTERVAL_S,
        float(to) if to is not None else DEFAULT_SENSOR_TIMEOUT_S,
        bool(f.get("soft_fail", False)),
    )


def sensor_outcome(
    poke_interval: float, timeout: float, succeed_on: int | None
) -> tuple[bool, float]:
    """Airflow's poke loop: poke k happens at (k-1)·poke_interval after the
    start (pokes take no time); after a false poke, if the elapsed time exceeds
    ``timeout`` the sensor gives up. Returns (succeeded, elapsed seconds)."""
    if poke_interval <= 0:
        poke_interval = 0.0
    if poke_interval == 0:
        # Degenerate: all pokes at the start.
        return (succeed_on is not None, 0.0)
    # Last poke that happens: the first k with (k-1)·pi > timeout.
    last = math.floor(timeout / poke_interval) + 2
    if succeed_on is not None and succeed_on <= last:
        return True, (succeed_on - 1) * poke_interval
    return False, (last - 1) * poke_interval
