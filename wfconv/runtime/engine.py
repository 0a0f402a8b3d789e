"""The scheduler loop: one run of one workflow, on a virtual or a real clock.

Virtual clock (``executor=None``): nothing the user wrote is executed; each
attempt's outcome and duration come from the ``Scenario`` (tasks succeed and
take ``default_duration`` seconds unless told otherwise), and the loop jumps
from event to event, so timestamps are exact and a year of hourly runs
simulates in seconds.

Real clock (an executor from ``executors``): shell commands and python
callables run for real; control tasks (empty, branch, fail) and kinds that
cannot be executed here resolve in-process at once.

The loop keeps, per task, counts of upstream outcomes and re-evaluates a
task's trigger rule (``rules``) only when one of its upstreams reaches a
terminal state: O(edges) per run, no polling.
"""

from __future__ import annotations

import heapq
import queue
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from wfconv.runtime import branching
from wfconv.runtime.graph import CompiledWorkflow
from wfconv.runtime.policy import retry_delay, sensor_outcome, sensor_settings
from wfconv.runtime.results import TERMINAL, Attempt, RunResult, TaskResult, TraceEvent
from wfconv.runtime.rules import RUN, SKIP, UPSTREAM_FAILED, WAIT, all_done_setup_success
from wfconv.runtime.scenario import NEVER, Scenario
from wfconv.runtime.schedule import RunInfo

START, FINISH = 0, 1

# Attempt outcomes produced by executors.
SUCCESS = "success"
FAILED = "failed"  # retryable
FAILED_FINAL = "failed_final"  # no retry (AirflowFailException, sensor timeout, Oozie kill)
SKIPPED = "skipped"

# Kinds the real executors run; everything else resolves in-process.
EXECUTED_KINDS = frozenset({"shell", "python"})
NOTE_NOT_EXECUTED = "RT110"
NOTE_SENSOR_SIMULATED = "RT111"
NOTE_DEADLOCK = "RT120"
NOTE_RUN_TIMEOUT = "RT121"
NOTE_PAST_NOT_MET = "RT122"
NOTE_RESUMED = "RT130"
NOTE_SUBWORKFLOW = "RT150"


@dataclass
class Outcome:
    state: str
    end: float
    reason: str | None = None
    start: float | None = None
    pid: int | None = None
    log: str | None = None
    exit_code: int | None = None


@dataclass
class InitialTask:
    """A task's recorded state when a run is resumed."""

    state: str
    attempts: list[Attempt] = field(default_factory=list)
    decided: float | None = None


class Recorder(Protocol):
    """Receives every change as it happens (``store.LiveRecorder`` writes them
    to SQLite at once, so a killed runner loses nothing it recorded)."""

    def event(self, task: str, attempt: int, state: str, t: float) -> None: ...

    def attempt(
        self,
        task: str,
        a: Attempt,
        pid: int | None = None,
        log: str | None = None,
        exit_code: int | None = None,
    ) -> None: ...

    def pid(self, task: str, attempt: int, pid: int) -> None: ...

    def retry(self, task: str, attempt: int, at: float) -> None:
        """Attempt ``attempt`` of ``task`` is due at ``at`` (it is up for retry)."""


class Recorders:
    """Several recorders as one (the store and a progress display)."""

    def __init__(self, *recorders: Recorder):
        self.recorders = recorders

    def event(self, task: str, attempt: int, state: str, t: float) -> None:
        for r in self.recorders:
            r.event(task, attempt, state, t)

    def attempt(self, task, a, pid=None, log=None, exit_code=None) -> None:
        for r in self.recorders:
            r.attempt(task, a, pid, log, exit_code)

    def pid(self, task: str, attempt: int, pid: int) -> None:
        for r in self.recorders:
            r.pid(task, attempt, pid)

    def retry(self, task: str, attempt: int, at: float) -> None:
        for r in self.recorders:
            r.retry(task, attempt, at)


class RunEngine:
    def __init__(
        self,
        cw: CompiledWorkflow,
        info: RunInfo,
        scenario: Scenario | None = None,
        executor: Any = None,
        start: float | None = None,
        recorder: Recorder | None = None,
        initial: dict[str, InitialTask] | None = None,
        work_builder: Callable[[int, int], Any] | None = None,
        concurrency: int = 16,
        run_id: str | None = None,
        decision_env: dict[str, Any] | None = None,
        past: dict[str, tuple[str, float | None]] | None = None,
        child_runner: Callable[[str, RunInfo, float], RunResult | None] | None = None,
    ):
        self.cw = cw
        self.info = info
        self.scenario = scenario or Scenario()
        self.executor = executor
        self.virtual = executor is None
        self.t0 = info.run_after.timestamp() if start is None else start
        self.recorder = recorder
        self.initial = initial or {}
        self.work_builder = work_builder
        self.concurrency = max(1, concurrency)
        self.run_id = run_id or info.run_id
        self.decision_env = decision_env or {}
        self.notes: list[dict[str, str]] = []
        # depends_on_past: the previous run's (state, end) of each such task.
        self.past = past or {}
        self.blocked: set[str] = set()
        # Runs a sub-workflow of the same bundle (virtual clock): (id, info, start).
        self.child_runner = child_runner

    # ------------------------------------------------------------------
    def note(self, code: str, message: str) -> None:
        self.notes.append({"code": code, "message": message})

    def run(self) -> RunResult:
        cw = self.cw
        replay_key = self._replay_key()
        if replay_key is not None:
            replay = cw.replays.get(replay_key)
            if replay is not None:
                return self._result(*replay.at(self.t0))
        n = len(cw.ids)
        ids = cw.ids
        rule = cw.rule
        n_up = cw.n_up
        downs = cw.downs
        sc = self.scenario
        rec = self.recorder
        trace: list[TraceEvent] = []
        state: list[str | None] = [None] * n
        attempts: list[list[Attempt]] = [[] for _ in range(n)]
        decided: list[float | None] = [None] * n
        cs = [0] * n
        ck = [0] * n
        cf = [0] * n
        cu = [0] * n
        if cw.has_roles:
            # Setup/teardown (graph._setup_teardown): tasks whose verdict also
            # reads the state of setups or of a teardown's scope.
            rule = list(rule)
            for i in range(n):
                if cw.special[i]:
                    rule[i] = _role_verdict(cw, i, state)
            watchers = cw.watchers
        else:
            watchers = None
        # Pending events, in (time, push order): a heap of distinct times and,
        # per time, a FIFO of (START|FINISH, task, attempt, outcome). The same
        # order as one heap of (time, seq, ...) entries, but O(1) per event
        # instead of O(log pending): a wide workflow keeps thousands pending.
        times: list[float] = []
        buckets: dict[float, deque[tuple[int, int, int, Any]]] = {}

        def push(t: float, kind: int, i: int, att: int = 0, out: Any = None) -> None:
            bucket = buckets.get(t)
            if bucket is None:
                buckets[t] = bucket = deque()
                heapq.heappush(times, t)
            bucket.append((kind, i, att, out))

        unfinished = n
        t0 = self.t0
        now = t0

        if rec is None:

            def emit(i: int, att: int, st: str, t: float) -> None:
                trace.append(TraceEvent(t, ids[i], att, st))
        else:

            def emit(i: int, att: int, st: str, t: float) -> None:
                trace.append(TraceEvent(t, ids[i], att, st))
                rec.event(ids[i], att, st, t)

        wave: list[int] = []  # tasks settled since the last cascade
        mapped_empty = cw.maps_nothing
        virtual = self.virtual
        past = self.past
        real_kind = [False] * n if virtual else [_executable(task) for task in cw.tasks]
        # Virtual fast path: a plain task the scenario does not name succeeds
        # after default_duration (what ``_inline`` would compute, without the
        # calls and the Outcome).
        plain = cw.plain
        index = cw.index
        scripted = {index[tid] for tid in (*sc.fail, *sc.skip, *sc.durations) if tid in index}
        default_d = sc.default_duration

        def settle(i: int, st: str, t: float) -> None:
            """Put task i in a terminal state; its downstreams are re-evaluated
            by the next ``cascade`` (after every change of the same instant)."""
            nonlocal unfinished
            state[i] = st
            unfinished -= 1
            emit(i, len(attempts[i]), st, t)
            wave.append(i)

        def cascade(t: float) -> None:
            """Re-evaluate the downstreams of the settled tasks, to a fixed point.
            Changes that happen at the same instant are all counted before any
            rule is evaluated, as Airflow's scheduler sees one snapshot per pass
            (a skipped and a failed upstream at once give upstream_failed)."""
            nonlocal unfinished
            while wave:
                dirty: list[int] = []
                for j in wave:
                    if watchers is not None and watchers[j]:
                        dirty.extend(d for d in watchers[j] if state[d] is None)
                    sj = state[j]
                    for d in downs[j]:
                        if sj == "success":
                            cs[d] += 1
                        elif sj == "skipped":
                            ck[d] += 1
                        elif sj == "failed":
                            cf[d] += 1
                        else:
                            cu[d] += 1
                        if state[d] is None:
                            dirty.append(d)
                wave.clear()
                if len(dirty) > 1:
                    dirty = sorted(set(dirty))
                for d in dirty:
                    if state[d] is not None:
                        continue
                    v = rule[d](cs[d], ck[d], cf[d], cu[d], n_up[d])
                    if v is WAIT:
                        continue
                    if v is RUN:
                        state[d] = "scheduled"
                        emit(d, len(attempts[d]), "scheduled", t)
                        push(t, START, d)
                    else:
                        decided[d] = t
                        settle(d, v, t)

        def skip_directly(targets: list[int], t: float) -> None:
            for d in targets:
                if state[d] is None:
                    decided[d] = t
                    settle(d, "skipped", t)

        # -- initial state (fresh run or resume) ---------------------------
        resumed = bool(self.initial)
        for tid, init in self.initial.items():
            i = cw.index.get(tid)
            if i is None:
                continue
            attempts[i] = list(init.attempts)
            if init.state in TERMINAL:
                state[i] = init.state
                decided[i] = init.decided
                unfinished -= 1
        if resumed:
            self.note(
                NOTE_RESUMED, "resumed: tasks already finished keep their state and are not re-run"
            )
            for i in range(n):
                for a in attempts[i]:
                    if a.state in ("running", "scheduled"):
                        a.state = "interrupted"
                        a.reason = "the runner stopped during this attempt"
                        if rec is not None:
                            rec.attempt(ids[i], a)
            for i in range(n):
                if state[i] in TERMINAL:
                    for d in downs[i]:
                        st = state[i]
                        if st == "success":
                            cs[d] += 1
                        elif st == "skipped":
                            ck[d] += 1
                        elif st == "failed":
                            cf[d] += 1
                        else:
                            cu[d] += 1
        ready = []
        if resumed or cw.has_roles:
            first = []
            for i in range(n):
                if state[i] is not None:
                    continue
                v = RUN if n_up[i] == 0 else rule[i](cs[i], ck[i], cf[i], cu[i], n_up[i])
                if v is not WAIT:
                    first.append((i, v))
        else:
            first = cw.first_verdicts()  # the same for every fresh run
        for i, v in first:
            if v is RUN:
                ready.append(i)
            else:
                decided[i] = t0
                settle(i, v, t0)
        cascade(t0)
        for i in ready:
            if state[i] is None:
                state[i] = "scheduled"
                emit(i, len(attempts[i]), "scheduled", t0)
                push(t0, START, i)

        timeout_at = t0 + self.cw.workflow.timeout_s if self.cw.workflow.timeout_s else None
        timed_out = False
        running = 0
        pending: deque[int] = deque()
        # Completions of real attempts (not needed, and not built, on a virtual clock).
        completions: queue.Queue | None = None if self.virtual else queue.Queue()

        # -- attempt handling ----------------------------------------------
        def finish(i: int, att: int, out: Outcome | None, t: float = 0.0) -> None:
            """Attempt ``att`` of task i ended with ``out`` (None: the plain
            success of the virtual fast path, ending at ``t``). The running
            Attempt is completed in place (one object less per attempt)."""
            a = attempts[i][-1]
            if out is None:
                st = SUCCESS
                a.state = "success"
                a.end_ts = t
            else:
                st = out.state
                if out.start is not None:
                    a.start_ts = out.start
                a.state = "failed" if st in (FAILED, FAILED_FINAL) else st
                a.end_ts = t = out.end
                a.reason = out.reason
            a.number = att
            if rec is not None:
                rec.attempt(ids[i], a, out and out.pid, out and out.log, out and out.exit_code)
            if st == SUCCESS:
                if cw.kind[i] == "branch":
                    chosen = sc.branch.get(ids[i])
                    bo = branching.decide(cw, i, chosen, self._expr_env(trace))
                    if bo.note:
                        self.note(*bo.note)
                    if bo.error:
                        a.state = "failed"
                        a.reason = bo.error
                        if rec is not None:
                            rec.attempt(ids[i], a)
                        settle(i, "failed", t)
                        return
                    # Airflow skips the other branches while the branch task
                    # runs, i.e. before it is marked success.
                    skip_directly(bo.skip, t)
                    settle(i, "success", t)
                    return
                settle(i, "success", t)
            elif st == SKIPPED:
                settle(i, "skipped", t)
            else:
                failures = sum(1 for x in attempts[i] if x.state == "failed")
                task = cw.tasks[i]
                if st == FAILED and failures <= task.retries:
                    state[i] = "up_for_retry"
                    emit(i, att, "up_for_retry", t)
                    delay = retry_delay(
                        task, failures, cw.engine, cw.workflow.id, self.info.logical_date
                    )
                    push(t + delay, START, i)
                    if rec is not None:
                        rec.retry(ids[i], att + 1, t + delay)
                else:
                    settle(i, "failed", t)

        def begin(i: int, t: float) -> None:
            nonlocal running
            att = len(attempts[i]) + 1
            if state[i] == "up_for_retry":
                emit(i, att - 1, "scheduled", t)
            state[i] = "running"
            attempts[i].append(Attempt(att, "running", t, None))
            emit(i, att, "running", t)
            if virtual:
                if plain[i] and i not in scripted:
                    push(t + default_d, FINISH, i, att)
                    return
                out = self._inline(i, att, t)
                push(out.end, FINISH, i, att, out)
                return
            kind = cw.kind[i]
            if (
                real_kind[i]
                and ids[i] not in sc.sensor
                and not sc.attempt_fails(ids[i], att)
                and ids[i] not in sc.skip
            ):
                if rec is not None:
                    rec.attempt(ids[i], attempts[i][-1])
                running += 1
                work = self.work_builder(i, att)

                def done(res, i=i, att=att):
                    completions.put((i, att, res))

                def started(pid, i=i, att=att):
                    completions.put((i, att, pid))

                self.executor.submit(work, done, started)
                return
            out = self._inline(i, att, t, real=True)
            if kind == "sensor":
                if ids[i] not in sc.sensor:
                    self.note(
                        NOTE_SENSOR_SIMULATED,
                        f"sensor {ids[i]!r}: not poked for real; outcome from the scenario, at once",
                    )
            elif kind not in EXECUTED_KINDS and kind not in ("empty", "branch", "fail"):
                self.note(
                    NOTE_NOT_EXECUTED,
                    f"task {ids[i]!r}: action kind {kind!r} is not executed locally; simulated",
                )
            finish(i, att, out)

        def launch(i: int, t: float) -> None:
            if state[i] not in ("scheduled", "up_for_retry"):
                return  # skipped meanwhile (a branch decided at the same instant)
            prev = past.get(ids[i]) if past else None
            if prev is not None and not attempts[i]:
                prev_state, prev_end = prev
                if prev_state not in ("success", "skipped"):
                    self.blocked.add(ids[i])  # Airflow leaves it waiting for ever
                    return
                if prev_end is not None and prev_end > t:
                    push(prev_end, START, i)
                    return
            if mapped_empty[i] and not attempts[i]:
                decided[i] = t
                settle(i, "skipped", t)  # Airflow: an empty expansion is SKIPPED
                return
            if not virtual and running >= self.concurrency and real_kind[i]:
                pending.append(i)
                return
            begin(i, t)

        # -- the loop --------------------------------------------------------
        if virtual:
            while times and unfinished:
                t = times[0]
                if timeout_at is not None and t > timeout_at:
                    now = timeout_at
                    timed_out = True
                    break
                now = t
                heapq.heappop(times)
                bucket = buckets[t]
                # Passes over the events of t: what a pass pushes for t itself
                # (a task scheduled at once) waits for the next pass, in the
                # same deque (the bucket stays in ``buckets`` while its time is
                # current, so ``push`` appends to it instead of a new heap entry).
                while True:
                    starts: list[int] = []
                    while bucket:  # events pushed for t meanwhile are taken too
                        kind, i, att, out = bucket.popleft()
                        if kind is START:
                            starts.append(i)
                        else:
                            finish(i, att, out, t)
                    if wave:
                        cascade(t)
                    for i in starts:
                        launch(i, t)
                    if wave:
                        cascade(t)
                    if not (bucket and unfinished):
                        break
                del buckets[t]
        else:
            while unfinished:
                now = time.time()
                if timeout_at is not None and now >= timeout_at:
                    timed_out = True
                    break
                while times and times[0] <= now:
                    t = times[0]
                    bucket = buckets[t]
                    _, i, _, _ = bucket.popleft()
                    if not bucket:
                        heapq.heappop(times)
                        del buckets[t]
                    launch(i, max(t, now))
                    cascade(now)
                while pending and running < self.concurrency:
                    begin(pending.popleft(), time.time())
                if not unfinished:
                    break
                if running == 0 and not times and not pending:
                    break
                wait = 0.5
                if times:
                    wait = min(wait, max(0.0, times[0] - time.time()))
                if timeout_at is not None:
                    wait = min(wait, max(0.0, timeout_at - time.time()))
                try:
                    i, att, res = completions.get(timeout=wait)
                except queue.Empty:
                    continue
                if isinstance(res, int):  # a subprocess started: record its pid
                    if rec is not None:
                        rec.pid(ids[i], att, res)
                    continue
                running -= 1
                finish(i, att, res)
                cascade(res.end)
                now = time.time()
            if timed_out and running:
                self.executor.cancel_all()

        if timed_out:
            self.note(
                NOTE_RUN_TIMEOUT,
                f"run timed out after {self.cw.workflow.timeout_s:g} s: unfinished tasks skipped",
            )
            for i in range(n):
                if state[i] not in TERMINAL:
                    if state[i] == "running" and attempts[i]:
                        a = attempts[i][-1]
                        a.state, a.end_ts, a.reason = "failed", now, "run timed out"
                        if rec is not None:
                            rec.attempt(ids[i], a)
                    state[i] = "skipped"
                    decided[i] = now
                    emit(i, len(attempts[i]), "skipped", now)
                    unfinished -= 1

        if replay_key is not None and not self.notes:
            cw.replays[replay_key] = _Replay(
                self.t0, state, attempts, decided, trace, now, timed_out
            )
        return self._result(state, attempts, decided, trace, now, timed_out)

    def _replay_key(self) -> float | None:
        """A key under which this run's outcome, shifted in time, is the same
        for every run of the workflow; None when it may not be.

        On the virtual clock, a workflow whose tasks all succeed plainly
        (no branch, sensor, fail, sub-workflow or execution_timeout, nothing
        scripted by the scenario, no depends_on_past, no resumed state, no
        recorder) runs the same way whatever its start: nothing the loop
        does reads the date. Times are exact when the start and durations
        are whole seconds (sums of whole floats below 2**53 are exact), so
        the shifted outcome is the very one the loop would compute."""
        cw = self.cw
        if not (self.virtual and cw.replayable) or self.recorder is not None or self.initial:
            return None
        sc = self.scenario
        if sc.fail or sc.skip or sc.durations:
            return None
        d = sc.default_duration
        timeout = cw.workflow.timeout_s
        whole = float(self.t0).is_integer() and float(d).is_integer() and abs(self.t0) < 2**50
        if not whole or (timeout is not None and not float(timeout).is_integer()):
            return None
        return float(d)

    def _expr_env(self, trace: list[TraceEvent]):
        """What an Oozie decision may read now: the workflow's parameters, the
        run's identity, the nominal time (R3: Airflow 2 data_interval_end) and
        the last failed task (``wf:lastErrorNode()``)."""
        from wfconv.ir.expr import ExprEnv

        last_error = None
        for ev in reversed(trace):
            if ev.state in ("failed", "up_for_retry"):
                last_error = ev.task
                break
        return ExprEnv(
            params={**self.cw.workflow.params, **self.decision_env},
            last_error_node=last_error,
            run_id=self.run_id,
            workflow_name=self.cw.workflow.id,
            nominal_time=self.info.data_interval_end,
        )

    # ------------------------------------------------------------------
    def _inline(self, i: int, att: int, t: float, real: bool = False) -> Outcome:
        """Scripted outcome of one attempt (virtual clock; control tasks on a real one)."""
        cw = self.cw
        sc = self.scenario
        tid = cw.ids[i]
        task = cw.tasks[i]
        kind = cw.kind[i]
        d = 0.0 if real else sc.duration(tid)
        if sc.attempt_fails(tid, att):
            return Outcome(FAILED, t + d, "failed by scenario")
        if tid in sc.skip:
            return Outcome(SKIPPED, t + d, "skipped by scenario")
        if kind == "fail":
            msg = task.action.fields.get("message") or "fail task reached"
            return Outcome(FAILED_FINAL, t + d, msg)
        if kind == "sensor":
            pi, to, soft = sensor_settings(task)
            want = sc.sensor.get(tid, 1)
            ok, elapsed = sensor_outcome(pi, to, None if want == NEVER else int(want))
            if real:
                elapsed = 0.0
            if task.timeout_s is not None and elapsed > task.timeout_s:
                # execution_timeout beats the sensor's own timeout: retryable
                return Outcome(FAILED, t + task.timeout_s, f"timed out after {task.timeout_s:g} s")
            if ok:
                return Outcome(SUCCESS, t + elapsed)
            if soft:
                return Outcome(SKIPPED, t + elapsed, "sensor timed out (soft_fail)")
            return Outcome(FAILED_FINAL, t + elapsed, "sensor timed out")
        if kind == "subworkflow" and not real and self.child_runner is not None:
            wid = task.action.fields.get("workflow")
            child = self.child_runner(wid, self.info, t) if wid else None
            if child is not None:
                self.note(
                    NOTE_SUBWORKFLOW,
                    f"sub-workflow {tid!r}: ran {wid!r} ({child.state}"
                    + (f", {child.engine_state}" if child.engine_state else "")
                    + ")",
                )
                end = child.end_ts if child.end_ts is not None else t
                if child.state == "success" and child.engine_state not in ("killed", "failed"):
                    return Outcome(SUCCESS, end)
                return Outcome(FAILED, end, f"sub-workflow {wid!r} ended {child.state}")
        if task.timeout_s is not None and d > task.timeout_s:
            return Outcome(FAILED, t + task.timeout_s, f"timed out after {task.timeout_s:g} s")
        return Outcome(SUCCESS, t + d)

    def _result(self, state, attempts, decided, trace, now, timed_out) -> RunResult:
        cw = self.cw
        tasks: dict[str, TaskResult] = {}
        for i, tid in enumerate(cw.ids):
            tasks[tid] = TaskResult(tid, state[i] or "none", attempts[i], decided[i])
        unfinished = [tid for tid, tr in tasks.items() if tr.state not in TERMINAL]
        leaf_states = [state[i] for i in cw.leaves]
        if timed_out:
            run_state = "failed"
        elif self.blocked:
            run_state = "running"
            self.note(
                NOTE_PAST_NOT_MET,
                f"depends_on_past: the previous run of {', '.join(sorted(self.blocked))} did not "
                "succeed; Airflow leaves these tasks waiting and the run running",
            )
        elif unfinished:
            run_state = "failed"
            self.note(
                NOTE_DEADLOCK,
                f"deadlock: {len(unfinished)} task(s) can never start ({', '.join(unfinished[:5])})",
            )
        elif any(s in ("failed", "upstream_failed") for s in leaf_states):
            run_state = "failed"
        else:
            run_state = "success"
        # TaskResult.end_ts, read without the property call per task
        ends = [tr.attempts[-1].end_ts if tr.attempts else tr.decided_ts for tr in tasks.values()]
        end = max([e for e in ends if e is not None], default=self.t0)
        return RunResult(
            workflow=cw.workflow.id,
            run_id=self.run_id,
            logical_date_ts=self.info.logical_date.timestamp(),
            data_interval_start_ts=self.info.data_interval_start.timestamp(),
            data_interval_end_ts=self.info.data_interval_end.timestamp(),
            state=run_state,
            tasks=tasks,
            start_ts=self.t0,
            end_ts=max(end, now) if timed_out else end,
            engine_state=engine_state(cw, state, attempts, run_state),
            notes=self.notes,
            trace=trace,
        )


class _Replay:
    """One run's outcome relative to its start (see ``RunEngine._replay_key``):
    ``at(t0)`` gives what the loop would leave for a run starting at ``t0``
    (new objects each time)."""

    def __init__(self, t0, state, attempts, decided, trace, now, timed_out):
        self.state = list(state)
        self.attempts = [
            [(a.number, a.state, a.start_ts - t0, _minus(a.end_ts, t0), a.reason) for a in tries]
            for tries in attempts
        ]
        self.decided = [_minus(d, t0) for d in decided]
        self.trace = [(e.time_ts - t0, e.task, e.attempt, e.state) for e in trace]
        self.now = now - t0
        self.timed_out = timed_out

    def at(self, t0: float):
        attempts = [
            [Attempt(n, st, t0 + s, _plus(t0, e), why) for n, st, s, e, why in tries]
            for tries in self.attempts
        ]
        decided = [_plus(t0, d) for d in self.decided]
        trace = [TraceEvent(t0 + dt, task, att, st) for dt, task, att, st in self.trace]
        return list(self.state), attempts, decided, trace, t0 + self.now, self.timed_out


def _minus(t: float | None, t0: float) -> float | None:
    return None if t is None else t - t0


def _plus(t0: float, dt: float | None) -> float | None:
    return None if dt is None else t0 + dt


FILE_SENSORS = frozenset({"FileSensor", "file", "fs", "done-flag"})


def _executable(task) -> bool:
    """Does a real executor run this task (rather than resolve it in-process)?"""
    kind = task.action.kind
    if kind in EXECUTED_KINDS:
        return True
    f = task.action.fields
    return kind == "sensor" and f.get("sensor") in FILE_SENSORS and isinstance(f.get("target"), str)


def _oozie_state(cw: CompiledWorkflow, state, attempts, run_state: str) -> str:
    """Oozie (R2): a reached kill node → KILLED; a failed action whose failure
    no transition handled → FAILED; otherwise the run reached an end →
    SUCCEEDED. A failure is handled when a task after it ran: after a failed
    action only its ``error`` transition's target can run (an ok+error pair to
    the same node becomes one edge with a one_done rule)."""
    for i, k in enumerate(cw.kind):
        if k == "fail" and state[i] == "failed" and attempts[i]:
            return "killed"
    for i, s in enumerate(state):
        if s == "failed" and not any(attempts[d] for d in cw.downs[i]):
            return "failed"
    if any(s not in TERMINAL for s in state):
        return "failed"
    return "succeeded"


def _luigi_state(cw: CompiledWorkflow, state, attempts, run_state: str) -> str:
    """Luigi (R2): ``luigi.build()`` is False as soon as a task failed
    (downstream tasks never run), True otherwise."""
    return "failed" if any(s == "failed" for s in state) else "success"


ENGINE_OUTCOME = {"oozie": _oozie_state, "luigi": _luigi_state}


def engine_state(cw: CompiledWorkflow, state, attempts, run_state: str) -> str | None:
    fn = ENGINE_OUTCOME.get(cw.engine or "")
    return fn(cw, state, attempts, run_state) if fn else None


def _role_verdict(cw, i: int, state: list):
    """The verdict of task ``i`` under Airflow's setup/teardown rules
    (TriggerRuleDep): the setup constraint first (a relevant setup further
    upstream failed or was skipped: settled at once; not yet succeeded: wait),
    then the task's own rule over its direct upstreams (all_done_setup_success
    reading its upstream setups' states), then, for a teardown, its scope."""
    indirect = cw.indirect_setups[i]
    setup_ups = cw.setup_ups[i]
    scope = cw.scope[i]
    own = cw.rule[i]
    setup_rule = cw.rule_name[i] == "all_done_setup_success"

    def verdict(s: int, k: int, f: int, u: int, n: int):
        waiting = False
        if indirect:
            sts = [state[x] for x in indirect]
            if "failed" in sts or "upstream_failed" in sts:
                return UPSTREAM_FAILED
            if "skipped" in sts:
                return SKIP
            waiting = any(st != "success" for st in sts)
        if n == 0:
            v = RUN
        elif setup_rule:
            v = all_done_setup_success(s, k, f, u, n, [state[x] for x in setup_ups])
        else:
            v = own(s, k, f, u, n)
        if v is not RUN:
            return v
        if waiting or any(state[x] not in TERMINAL for x in scope):
            return WAIT
        return RUN

    return verdict
