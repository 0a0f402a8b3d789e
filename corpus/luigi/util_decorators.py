"""luigi.util: @inherits shares parameters, @requires also wires requires();
self.clone() builds the upstream with the same parameter values."""

import datetime

import luigi
from luigi.util import inherits, requires


class Ingest(luigi.Task):
    day = luigi.DateParameter(default=datetime.date(2024, 6, 30))
    region = luigi.Parameter(default="eu")

    def output(self):
        return luigi.LocalTarget(f"ingest/{self.region}/{self.day:%Y/%m/%d}.json")

    def run(self):
        self.output().open("w").close()


@requires(Ingest)
class Clean(luigi.Task):
    def output(self):
        return luigi.LocalTarget(f"clean/{self.region}/{self.day}.parquet")

    def run(self):
        self.output().open("w").close()


@inherits(Clean)
class Aggregate(luigi.Task):
    level = luigi.Parameter(default="country")

    def requires(self):
        return self.clone(Clean)

    def output(self):
        return luigi.LocalTarget(f"agg/{self.level}/{self.day}.parquet")

    def run(self):
        self.output().open("w").close()


@requires(Aggregate, Clean)
class Publish(luigi.Task):
    retry_count = 4

    def output(self):
        return luigi.LocalTarget("published.flag")

    def run(self):
        self.output().open("w").close()
