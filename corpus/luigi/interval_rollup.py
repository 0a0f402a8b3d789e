"""Rolling a date interval up: iterating a DateIntervalParameter, positional
task arguments, a BoolParameter without default (Luigi's implicit False), and
output paths built from Luigi's own task_id."""

import luigi
from luigi.date_interval import Month


class DayStats(luigi.Task):
    day = luigi.DateParameter()
    dry_run = luigi.BoolParameter()

    def output(self):
        return luigi.LocalTarget(f"stats/{self.task_id}.json")


class MonthRollup(luigi.Task):
    interval = luigi.DateIntervalParameter(default=Month(2024, 2))
    dry_run = luigi.BoolParameter()

    def requires(self):
        return [DayStats(day, self.dry_run) for day in self.interval if day.weekday() < 5]

    def output(self):
        return luigi.LocalTarget("rollup/%s.csv" % self.interval)
