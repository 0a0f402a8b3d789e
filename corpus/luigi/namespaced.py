"""Namespaces: the same class name in two namespaces stays two families."""

import luigi


class Clean(luigi.Task):
    task_namespace = "marketing"

    def output(self):
        return luigi.LocalTarget("mk/clean.csv")

    def run(self):
        self.output().open("w").close()


MarketingClean = Clean

luigi.namespace("finance")


class Ledger(luigi.Task):
    def output(self):
        return luigi.LocalTarget("fin/ledger.csv")

    def run(self):
        self.output().open("w").close()


class Clean(luigi.Task):  # noqa: F811 - a second Clean, in namespace "finance"
    def requires(self):
        return Ledger()

    def output(self):
        return luigi.LocalTarget("fin/clean.csv")

    def run(self):
        self.output().open("w").close()


FinanceClean = Clean

luigi.namespace()


class Dashboard(luigi.WrapperTask):
    def requires(self):
        return [MarketingClean(), FinanceClean()]
