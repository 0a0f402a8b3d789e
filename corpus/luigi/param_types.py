"""Every common parameter type with a literal default: values are kept in
Luigi's own spelling (what --param accepts), numbers and lists stay JSON."""

import datetime
import enum

import luigi


class Mode(enum.Enum):
    full = 1
    delta = 2


class Snapshot(luigi.Task):
    hour = luigi.DateHourParameter(default=datetime.datetime(2024, 2, 29, 13))
    month = luigi.MonthParameter(default=datetime.date(2024, 2, 1))
    lag = luigi.TimeDeltaParameter(default=datetime.timedelta(hours=6))
    ratio = luigi.FloatParameter(default=0.25)
    mode = luigi.EnumParameter(enum=Mode, default=Mode.delta)
    options = luigi.DictParameter(default={"compress": True, "level": 9})
    tags = luigi.ListParameter(default=[1, "two", [3]])
    note = luigi.OptionalParameter(default=None)
    verbose = luigi.BoolParameter(default=False, significant=False)

    def output(self):
        return luigi.LocalTarget(f"snap/{self.month:%Y-%m}/{self.hour:%d-%H}.db")


class Export(luigi.Task):
    window = luigi.IntParameter(default=3)

    def requires(self):
        return [Snapshot(ratio=r) for r in (0.25, 0.5)] + [Snapshot(mode=Mode.full)]
