"""Inputs produced outside Luigi: ExternalTask and luigi.task.externalize."""

import luigi
from luigi.task import externalize


class UpstreamDump(luigi.ExternalTask):
    """Written nightly by the billing system."""

    def output(self):
        return luigi.LocalTarget("/mnt/billing/dump.csv")


class Vendors(luigi.Task):
    def output(self):
        return luigi.LocalTarget("/mnt/ref/vendors.csv")

    def run(self):
        raise RuntimeError("produced by the vendor team")


class Reconcile(luigi.Task):
    retry_count = 3

    def requires(self):
        return {"billing": UpstreamDump(), "vendors": externalize(Vendors())}

    def output(self):
        return luigi.LocalTarget("out/reconciled.csv")

    def run(self):
        self.output().open("w").close()
