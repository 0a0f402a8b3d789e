"""Support code for the Luigi pipelines wfconv converted, written once beside them.

A converted module holds its workflow only: one ``luigi.Task`` class per task,
with ``requires()`` and ``run()``. What they share lives here:

- ``WorkflowTask``: the source task id is the Luigi task family
  (``task_id_original``); a task's output is a marker file under the state
  folder (``--state-dir``, else ``$WFCONV_STATE_DIR``, else ``.wfconv-state``),
  one folder per workflow and run, written by ``mark_done()`` when ``run()``
  succeeds, so that Luigi never runs a complete task again;
- ``DailyTask`` / ``HourlyTask`` / ``RunTask``: what names a run (a ``date``,
  a ``date_hour``, a ``run_id``) and the run's logical date and data interval;
- ``render()`` / ``context()``: the source's run-time template values
  (``{{ ds }}``, ``{{ params.x }}`` ...) and context names;
- ``shell()`` and ``wait_for_file()``: a shell command, a file sensor;
- ``catch_up()``: the intervals of the schedule that are over and not complete,
  as a ``RangeDaily`` / ``RangeHourly``; ``main()`` builds it (or one run).
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import time
import zoneinfo

import luigi
from luigi.execution_summary import LuigiStatusCode
from luigi.tools.range import RangeDaily, RangeHourly

STATE_DIR_ENV = "WFCONV_STATE_DIR"
RUN_ID_ENV = "WFCONV_RUN_ID"
DEFAULT_STATE_DIR = ".wfconv-state"

_TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)
# X.strftime('fmt') and (X + macros.timedelta(days=n)).strftime('fmt')
_STRFTIME = re.compile(
    r"\(?\s*(?P<name>\w+)\s*(?:\+\s*macros\.timedelta\(\s*"
    r"(?P<unit>days|hours|minutes)\s*=\s*(?P<n>-?\d+)\s*\)\s*)?\)?"
    r"\.strftime\(\s*(?P<q>['\"])(?P<fmt>.*?)(?P=q)\s*\)"
)
# When this process started: the logical date of a run named by a run_id.
_STARTED = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


class WorkflowTask(luigi.Task):
    """Base of a converted workflow's tasks (the workflow's own base class sets
    ``workflow_id``, its parameters and ``shared_params``). What names a run,
    ``run_key()``, ``logical_date()`` and ``interval_end()``, come from
    DailyTask, HourlyTask or RunTask."""

    # The task id in the source workflow, which is also the Luigi task family.
    task_id_original: str | None = None
    workflow_id = ""
    # Workflow parameter (as the source names it) -> attribute (by default
    # the parameters the workflow's base class declares, under their names).
    param_attrs: dict = {}  # noqa: RUF012 (read only)
    # The parameters every task of the workflow shares (passed along
    # requires()): the run's and those the workflow's base class declares.
    shared_params: tuple = ("state_dir",)

    # The source's time model: a run for a tick starts at the tick and its data
    # interval is the tick (trigger: Airflow 3's cron, Prefect, Oozie), else
    # the run for an interval starts once it is over (data intervals).
    trigger_model = False
    # The schedule's timezone: a run's date and time of day are wall-clock
    # times there (logical dates are given in UTC).
    timezone = "UTC"

    # One failure disables a task (attempts = retries + 1; a task that retries
    # says so). Without it a worker running with keep_alive, which Luigi needs
    # for any retry, would retry a failing task without end.
    retry_count = 1

    state_dir = luigi.OptionalParameter(default=None, significant=False)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "workflow_id" in vars(cls):
            # The workflow's base class: the parameters it declares are the
            # workflow's, which every task shares.
            own = [k for k, v in vars(cls).items() if isinstance(v, luigi.Parameter)]
            cls.shared_params = (*cls.shared_params, *own)
            if "param_attrs" not in vars(cls):
                cls.param_attrs = {name: name for name in own}

    @classmethod
    def get_task_family(cls):
        return cls.task_id_original or super().get_task_family()

    def shared(self) -> dict:
        """The run and the workflow's parameters, for the tasks required."""
        return {name: self.param_kwargs[name] for name in self.shared_params}

    def output(self):
        root = self.state_dir or os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR
        folder = re.sub(r"[^A-Za-z0-9_.-]", "_", self.workflow_id) or "_"
        name = type(self).__name__ + ".done"
        return luigi.LocalTarget(os.path.join(root, folder, self.run_key(), name))

    def mark_done(self) -> None:
        with self.output().open("w") as fh:
            fh.write(self.task_id + "\n")

    def context(self) -> dict:
        """The run's values under Airflow's context names (``ds``, ``params`` ...)."""
        when = self.logical_date()
        return {
            "ds": when.strftime("%Y-%m-%d"),
            "ds_nodash": when.strftime("%Y%m%d"),
            "ts": when.isoformat(),
            "ts_nodash": when.strftime("%Y%m%dT%H%M%S"),
            "logical_date": when,
            "data_interval_start": when,
            "data_interval_end": self.interval_end(),
            "run_id": self.run_key(),
            "params": {k: getattr(self, a) for k, a in self.param_attrs.items()},
        }

    def render(self, text: str) -> str:
        """Replace the run-time templates the source used; others stay as written."""
        context = self.context()
        moments = {
            k: context[k]
            for k in ("logical_date", "data_interval_start", "data_interval_end")
        }
        values = {k: v.isoformat() for k, v in moments.items()}
        values.update({k: context[k] for k in ("ds", "ds_nodash", "ts", "ts_nodash")})
        values["run_id"] = context["run_id"]
        values["dag.dag_id"] = self.workflow_id

        def one(match: re.Match) -> str:
            expr = match.group(1)
            if expr in ("'{{'", "'{%'", "'{#'", "'{'"):  # literal text, escaped
                return expr[1:-1]
            if expr in values:
                return values[expr]
            name = expr.removeprefix("params.")
            if name != expr and name in self.param_attrs:
                return str(getattr(self, self.param_attrs[name]))
            fmt = _STRFTIME.fullmatch(expr)
            if fmt and fmt.group("name") in moments:
                moment = moments[fmt.group("name")]
                if fmt.group("unit"):
                    moment += datetime.timedelta(
                        **{fmt.group("unit"): int(fmt.group("n"))}
                    )
                return moment.strftime(fmt.group("fmt"))
            return match.group(0)

        return _TEMPLATE.sub(one, text)

    def shell(
        self,
        command: str,
        env: dict | None = None,
        cwd: str | None = None,
        replace_env: bool = False,
    ) -> None:
        """Run a shell command (templates rendered); a non-zero exit fails the
        task. ``env`` is added to the inherited environment, or is the whole of
        it with ``replace_env``."""
        full_env = None
        if env is not None:
            full_env = {} if replace_env else dict(os.environ)
            full_env.update({k: self.render(v) for k, v in env.items()})
        command = self.render(command)
        subprocess.run(command, shell=True, check=True, env=full_env, cwd=cwd)

    def wait_for_file(self, path: str, poke_interval: float, timeout: float) -> None:
        """A file sensor: poll until ``path`` exists, fail when ``timeout`` is over."""
        path = self.render(path)
        deadline = time.monotonic() + timeout
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"sensor timed out waiting for {path}")
            time.sleep(poke_interval)


class DailyTask(WorkflowTask):
    """A run is a day; it starts at ``at_hour``:``at_minute`` UTC of that day."""

    at_hour = 0
    at_minute = 0
    shared_params = ("state_dir", "date")
    date = luigi.DateParameter(default=datetime.date.today())

    def run_key(self) -> str:
        return self.date.isoformat()

    def logical_date(self) -> datetime.datetime:
        return self._at(self.date)

    def interval_end(self) -> datetime.datetime:
        if self.trigger_model:
            return self.logical_date()
        return self._at(self.date + datetime.timedelta(days=1))

    def _at(self, day: datetime.date) -> datetime.datetime:
        """The schedule's time of day on ``day`` in its timezone, in UTC."""
        start = datetime.time(self.at_hour, self.at_minute)
        when = datetime.datetime.combine(day, start, zoneinfo.ZoneInfo(self.timezone))
        return when.astimezone(datetime.UTC)


class HourlyTask(WorkflowTask):
    """A run is an hour; it starts at minute ``at_minute`` of that hour (UTC)."""

    at_minute = 0
    shared_params = ("state_dir", "date_hour")
    date_hour = luigi.DateHourParameter(
        default=datetime.datetime.now().replace(minute=0, second=0, microsecond=0)
    )

    def run_key(self) -> str:
        return self.date_hour.strftime("%Y-%m-%dT%H")

    def logical_date(self) -> datetime.datetime:
        local = zoneinfo.ZoneInfo(self.timezone)
        when = self.date_hour.replace(minute=self.at_minute, tzinfo=local)
        return when.astimezone(datetime.UTC)

    def interval_end(self) -> datetime.datetime:
        if self.trigger_model:
            return self.logical_date()
        return self.logical_date() + datetime.timedelta(hours=1)


class RunTask(WorkflowTask):
    """A run is named by ``run_id`` (default ``$WFCONV_RUN_ID``); its logical
    date is when the process started."""

    shared_params = ("state_dir", "run_id")
    run_id = luigi.Parameter(default=os.environ.get(RUN_ID_ENV, "manual"))

    def run_key(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.+-]", "_", self.run_id) or "_"

    def logical_date(self) -> datetime.datetime:
        return _STARTED

    def interval_end(self) -> datetime.datetime:
        return self.logical_date()


def catch_up(root: type[WorkflowTask], now: int | None = None, **overrides):
    """Every interval of the root's schedule that is over and not complete yet,
    as Luigi's RangeDaily / RangeHourly (``now`` in seconds since the epoch).

    An interval runs once it is over (Airflow's data-interval model): the run
    for day X is due at X + one day + the time of day of the schedule; with
    ``trigger_model`` at the tick, X + the time of day. Luigi's range tasks
    count an interval as soon as it starts, so "now" is moved back.
    The root says where the range starts and stops (``start`` / ``stop``) and
    whether it catches up (``catchup``: every missing interval since the start,
    else, or without a start, only the latest one)."""
    current = int(time.time()) if now is None else now
    # Luigi's range counts days and hours in UTC: give it the wall clock of
    # the schedule's timezone instead
    local = datetime.datetime.fromtimestamp(current, zoneinfo.ZoneInfo(root.timezone))
    current += int(local.utcoffset().total_seconds())
    daily = issubclass(root, DailyTask)
    # without a start there is nothing to catch up from: the latest interval
    catches_up = getattr(root, "catchup", True) and getattr(root, "start", None)
    offset = getattr(root, "at_hour", 0) * 3600 + root.at_minute * 60
    due_after = (0 if root.trigger_model else 86400 if daily else 3600) + offset
    options = {
        "of": root,
        "param_name": "date" if daily else "date_hour",
        "now": current - due_after + 1,
        # one period back: the latest interval that is over (the range starts
        # at "now" and a day or hour is in it only if it starts after that)
        ("days_back" if daily else "hours_back"): 100000 if catches_up else 1,
    }
    for name in ("start", "stop"):
        if getattr(root, name, None) is not None:
            options[name] = getattr(root, name)
    if "start" not in options:
        # Luigi's range needs a start: the latest interval that is over
        latest = datetime.datetime.fromtimestamp(current - due_after, datetime.UTC)
        latest = latest.replace(minute=0, second=0, microsecond=0, tzinfo=None)
        options["start"] = latest.date() if daily else latest
    options.update(overrides)
    return (RangeDaily if daily else RangeHourly)(**options)


def retry_settings(retry_delay: float, disable_window: int | None = None) -> None:
    """Retries (each task's retry_count) happen only while the worker stays up
    (keep_alive), after the scheduler's one retry_delay: set both, unless
    luigi.cfg already does. Failures older than disable_window are forgotten
    (a longer retry sequence would retry without end)."""
    config = luigi.configuration.get_config()
    settings = [
        ("worker", "keep_alive", "true"),
        ("scheduler", "retry_delay", repr(retry_delay)),
    ]
    if disable_window is not None:
        settings.append(("scheduler", "disable_window", str(disable_window)))
    for section, key, value in settings:
        if not config.has_option(section, key):
            if not config.has_section(section):
                config.add_section(section)
            config.set(section, key, value)


def run_handlers(task: WorkflowTask, handlers: tuple) -> None:
    """The error handlers a failed task starts (its FAILURE event), in order."""
    for handler_cls in handlers:
        handler = handler_cls(failed_task=task.task_id, **task.shared())
        if not handler.complete():
            handler.run()


def main(
    root: type[WorkflowTask],
    retry_delay: float | None = None,
    disable_window: int | None = None,
) -> int:
    """Build the workflow with a local scheduler: every incomplete interval of
    a daily or hourly schedule, else one run. Exit status 0 when it succeeded
    (a task that failed and then succeeded on a retry is a success)."""
    if retry_delay is not None:
        retry_settings(retry_delay, disable_window)
    scheduled = issubclass(root, (DailyTask, HourlyTask))
    task = catch_up(root) if scheduled else root()
    result = luigi.build([task], local_scheduler=True, detailed_summary=True)
    ok = (LuigiStatusCode.SUCCESS, LuigiStatusCode.SUCCESS_WITH_RETRY)
    return 0 if result.status in ok else 1
