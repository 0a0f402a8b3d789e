"""Needs Hive's client library (pyhive), which is not installed here, and
luigi.contrib.hive: the import fails and wfconv reads the module statically."""

import datetime

import luigi
from pyhive import hive  # noqa: F401 - the Hive backend luigi.contrib.hive talks to
from luigi.contrib.hive import HiveQueryTask


class RawEvents(luigi.ExternalTask):
    date = luigi.DateParameter(default=datetime.date(2024, 1, 15))

    def output(self):
        return luigi.LocalTarget(f"/warehouse/events/dt={self.date}")


class DailyUsers(HiveQueryTask):
    date = luigi.DateParameter(default=datetime.date(2024, 1, 15))
    retry_count = 2

    def requires(self):
        return RawEvents(date=self.date)

    def query(self):
        return f"INSERT OVERWRITE TABLE daily_users PARTITION (dt='{self.date}') SELECT ..."


class UsersReport(luigi.Task):
    date = luigi.DateParameter(default=datetime.date(2024, 1, 15))
    formats = luigi.ListParameter(default=["csv", "html"])

    def requires(self):
        return {"users": DailyUsers(date=self.date), "events": RawEvents(date=self.date)}

    def output(self):
        return [luigi.LocalTarget(f"reports/users_{self.date}.{fmt}") for fmt in self.formats]

    def run(self):
        pass
