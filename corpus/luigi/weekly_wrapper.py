"""A WrapperTask over a week of daily reports (DateIntervalParameter)."""

import datetime

import luigi
from luigi.date_interval import Week


class DailyReport(luigi.Task):
    date = luigi.DateParameter()

    def output(self):
        return luigi.LocalTarget(self.date.strftime("reports/%Y-%m-%d.html"))

    def run(self):
        self.output().open("w").close()


class WeeklyReports(luigi.WrapperTask):
    """Everything the Monday meeting needs."""

    week = luigi.DateIntervalParameter(default=Week(2024, 10))

    def requires(self):
        return [DailyReport(date=d) for d in self.week.dates()]


class Publish(luigi.Task):
    week = luigi.DateIntervalParameter(default=Week(2024, 10))
    notify = luigi.BoolParameter(default=False, significant=False)

    def requires(self):
        return WeeklyReports(week=self.week)

    def output(self):
        return luigi.LocalTarget(f"published/{self.week}.flag")

    def run(self):
        self.output().open("w").close()


if __name__ == "__main__":
    luigi.build([Publish(week=Week(datetime.date.today().year, 1))], local_scheduler=True)
