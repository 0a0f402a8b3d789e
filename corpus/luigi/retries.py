"""Retry and timeout settings Luigi keeps on the task class."""

import luigi


class api(luigi.Config):
    """A configuration section ([api] in luigi.cfg), not a task."""

    host = luigi.Parameter(default="https://api.example.com")


class FlakyDownload(luigi.Task):
    """Talks to a rate-limited API."""

    retry_count = 5
    worker_timeout = 600
    priority = 10
    resources = {"api": 1}

    def output(self):
        return luigi.LocalTarget("dl/payload.json")

    def requires(self):
        return []

    def run(self):
        self.output().open("w").close()


class Parse(luigi.Task):
    worker_timeout = 120

    @property
    def retry_count(self):
        return 1

    def requires(self):
        return FlakyDownload()

    def output(self):
        return luigi.LocalTarget("dl/parsed.json")

    def run(self):
        self.output().open("w").close()


class Load(luigi.Task):
    owner_email = "data-team@example.com"
    disable_window = 7200
    retry_count = 0

    def requires(self):
        return Parse()

    def output(self):
        return luigi.LocalTarget("dl/loaded.flag")

    def run(self):
        self.output().open("w").close()
