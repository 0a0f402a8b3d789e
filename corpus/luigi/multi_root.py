"""Two unrelated roots give two workflows; a class needing a parameter without
default is not a root unless --root/--param say so."""

import luigi


class Score(luigi.Task):
    model = luigi.Parameter()
    version = luigi.IntParameter(default=1)

    def output(self):
        return luigi.LocalTarget(f"scores/{self.model}-v{self.version}.csv")

    def run(self):
        self.output().open("w").close()


class CompareModels(luigi.Task):
    def requires(self):
        return [Score(model="gbm"), Score(model="gbm", version=2), Score(model="linear")]

    def output(self):
        return luigi.LocalTarget("scores/compare.html")

    def run(self):
        self.output().open("w").close()


class Backfill(luigi.Task):
    day = luigi.DateParameter()

    def requires(self):
        return Score(model=f"daily-{self.day}")

    def run(self):
        pass


class Cleanup(luigi.Task):
    keep_days = luigi.IntParameter(default=30)

    def run(self):
        pass
