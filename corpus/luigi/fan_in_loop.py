"""Fan-in built by loops: a generator ``requires()`` (yield) and a list built in a for loop."""

import luigi

REGIONS = ["emea", "amer", "apac"]


class Partition(luigi.Task):
    region = luigi.Parameter()
    shard = luigi.IntParameter(default=0)

    def output(self):
        return luigi.LocalTarget(f"parts/{self.region}/{self.shard}.csv")

    def run(self):
        self.output().open("w").close()


class RegionTotal(luigi.Task):
    region = luigi.Parameter()

    def requires(self):
        for shard in range(2):
            yield Partition(region=self.region, shard=shard)

    def output(self):
        return luigi.LocalTarget(f"totals/{self.region}.csv")

    def run(self):
        self.output().open("w").close()


class GlobalTotal(luigi.Task):
    def requires(self):
        deps = []
        for region in REGIONS:
            deps.append(RegionTotal(region=region))
        return deps

    def output(self):
        return luigi.LocalTarget("totals/global.csv")

    def run(self):
        self.output().open("w").close()
