"""A diamond: both branches need the same Fetch instance, which must appear once.

Also exercises IntParameter, BoolParameter and ListParameter values.
"""

import luigi


class Fetch(luigi.Task):
    url = luigi.Parameter(default="https://example.com/data.json")

    def output(self):
        return luigi.LocalTarget("work/fetch.json")

    def run(self):
        self.output().open("w").close()


class Features(luigi.Task):
    window = luigi.IntParameter(default=7)

    def requires(self):
        return Fetch()

    def output(self):
        return luigi.LocalTarget(f"work/features_{self.window}.parquet")

    def run(self):
        self.output().open("w").close()


class Labels(luigi.Task):
    positive = luigi.ListParameter(default=["churned", "cancelled"])

    def requires(self):
        return [Fetch()]

    def output(self):
        return luigi.LocalTarget("work/labels.parquet")

    def run(self):
        self.output().open("w").close()


class Train(luigi.Task):
    """Fit the model on features and labels."""

    balanced = luigi.BoolParameter(default=True)

    def requires(self):
        return (Features(), Labels())

    def output(self):
        return luigi.LocalTarget("models/model.pkl")

    def run(self):
        self.output().open("w").close()
