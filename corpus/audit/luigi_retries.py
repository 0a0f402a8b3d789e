import luigi


class Download(luigi.Task):
    retry_count = 4

    def output(self):
        return luigi.LocalTarget("/data/raw.csv")


class Parse(luigi.Task):
    def requires(self):
        return Download()

    def output(self):
        return luigi.LocalTarget("/data/parsed.csv")
