"""Daily sales report: one Extract per source system, fanned in through a dict.

The date has a literal default so that the graph (and its golden IR) does not
depend on the day it is read; in production it comes from ``--date``.
"""

import datetime

import luigi

SOURCES = ("crm", "shop", "pos")


class Extract(luigi.Task):
    """Dump one source system's orders for a day."""

    date = luigi.DateParameter(default=datetime.date(2024, 3, 1))
    source = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(f"data/raw/{self.source}/{self.date:%Y-%m-%d}.csv")

    def run(self):
        with self.output().open("w") as out:
            out.write("order_id,amount\n")


class Normalize(luigi.Task):
    """Bring one source's columns to the common schema."""

    date = luigi.DateParameter(default=datetime.date(2024, 3, 1))
    source = luigi.Parameter()

    def requires(self):
        return Extract(date=self.date, source=self.source)

    def output(self):
        return luigi.LocalTarget(f"data/clean/{self.source}/{self.date:%Y-%m-%d}.csv")

    def run(self):
        with self.input().open() as src, self.output().open("w") as out:
            out.write(src.read())


class SalesReport(luigi.Task):
    """Sum every source's orders for the day."""

    date = luigi.DateParameter(default=datetime.date(2024, 3, 1))

    def requires(self):
        return {name: Normalize(date=self.date, source=name) for name in SOURCES}

    def output(self):
        return luigi.LocalTarget(f"reports/sales_{self.date:%Y%m%d}.txt")

    def run(self):
        total = 0
        for target in self.input().values():
            with target.open() as fh:
                total += sum(1 for _ in fh) - 1
        with self.output().open("w") as out:
            out.write(f"{total}\n")
