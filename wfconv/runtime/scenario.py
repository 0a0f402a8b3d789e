"""Scenarios: what happens to the tasks of a simulated run.

A scenario is the fault script shared by ``wfconv run`` and ``wfconv verify``
(which runs the source and the converted IR under the same scenario and
compares the traces). Everything not said succeeds.

Python API (stable)::

    Scenario(fail={"load": ALL, "extract": 2},     # every attempt / first 2 attempts fail
             branch={"choose": ["path_b"]},         # branch choice ([] = ShortCircuit false)
             sensor={"wait_file": 3, "wait_db": NEVER},  # succeeds on poke 3 / never
             skip={"optional"},                     # the task skips itself (bash exit 99)
             durations={"load": 120.0},             # virtual seconds per attempt
             default_duration=1.0)

CLI spelling: ``--fail TASK`` / ``--fail TASK:N``, ``--branch TASK=ID[,ID]``,
``--sensor TASK=N|never``, ``--skip TASK``, ``--duration TASK=SECONDS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wfconv.errors import UsageError

ALL = "all"  # fail: every attempt fails
NEVER = "never"  # sensor: the condition never holds (the sensor times out)


@dataclass
class Scenario:
    fail: dict[str, int | str] = field(default_factory=dict)
    branch: dict[str, list[str]] = field(default_factory=dict)
    sensor: dict[str, int | str] = field(default_factory=dict)
    skip: set[str] = field(default_factory=set)
    durations: dict[str, float] = field(default_factory=dict)
    default_duration: float = 1.0

    # -- outcomes --------------------------------------------------------
    def attempt_fails(self, task_id: str, attempt: int) -> bool:
        """Does attempt ``attempt`` (1-based) of ``task_id`` fail?"""
        n = self.fail.get(task_id)
        if n is None:
            return False
        return n == ALL or attempt <= int(n)

    def duration(self, task_id: str) -> float:
        return self.durations.get(task_id, self.default_duration)

    def task_ids(self) -> set[str]:
        """Every task the scenario names (to check them against a workflow)."""
        return (
            set(self.fail)
            | set(self.branch)
            | set(self.sensor)
            | set(self.skip)
            | set(self.durations)
        )

    # -- (de)serialisation ----------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "fail": dict(self.fail),
            "branch": {k: list(v) for k, v in self.branch.items()},
            "sensor": dict(self.sensor),
            "skip": sorted(self.skip),
            "durations": dict(self.durations),
            "default_duration": self.default_duration,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scenario:
        return cls(
            fail=dict(d.get("fail", {})),
            branch={k: list(v) for k, v in d.get("branch", {}).items()},
            sensor=dict(d.get("sensor", {})),
            skip=set(d.get("skip", [])),
            durations={k: float(v) for k, v in d.get("durations", {}).items()},
            default_duration=float(d.get("default_duration", 1.0)),
        )

    @classmethod
    def from_cli(
        cls,
        fail: tuple[str, ...] = (),
        branch: tuple[str, ...] = (),
        sensor: tuple[str, ...] = (),
        skip: tuple[str, ...] = (),
        duration: tuple[str, ...] = (),
        default_duration: float = 1.0,
    ) -> Scenario:
        """Build a scenario from the CLI spellings; bad spellings are usage errors."""
        sc = cls(default_duration=default_duration)
        for item in fail:
            task, sep, n = item.rpartition(":")
            if sep and n.isdigit() and task:
                sc.fail[task] = int(n)
            elif sep and n.lower() == ALL and task:
                sc.fail[task] = ALL
            else:
                sc.fail[item] = ALL
        for item in branch:
            task, sep, ids = item.partition("=")
            if not sep or not task:
                raise UsageError(f"--branch expects TASK=ID[,ID], got {item!r}")
            sc.branch[task] = [x.strip() for x in ids.split(",") if x.strip()]
        for item in sensor:
            task, sep, n = item.rpartition("=")
            if not sep or not task:
                raise UsageError(f"--sensor expects TASK=N or TASK=never, got {item!r}")
            if n.lower() == NEVER:
                sc.sensor[task] = NEVER
            elif n.isdigit() and int(n) >= 1:
                sc.sensor[task] = int(n)
            else:
                raise UsageError(f"--sensor {item!r}: N must be a poke number >= 1 or 'never'")
        sc.skip.update(skip)
        for item in duration:
            task, sep, secs = item.rpartition("=")
            try:
                sc.durations[task] = float(secs)
            except ValueError:
                raise UsageError(f"--duration expects TASK=SECONDS, got {item!r}") from None
            if not sep or not task or sc.durations[task] < 0:
                raise UsageError(f"--duration expects TASK=SECONDS, got {item!r}")
        return sc
