"""Written for an old Luigi: luigi.hadoop and luigi.hdfs no longer exist, so
the import fails and wfconv reads the module statically."""

import luigi
import luigi.hadoop
import luigi.hdfs


class Plays(luigi.ExternalTask):
    day = luigi.DateParameter()

    def output(self):
        return luigi.hdfs.HdfsTarget(self.day.strftime("/logs/plays/%Y-%m-%d"))


class CountPlays(luigi.hadoop.JobTask):
    interval = luigi.DateIntervalParameter(default=luigi.date_interval.Week(2024, 1))

    def requires(self):
        return [Plays(d) for d in self.interval]

    def output(self):
        return luigi.hdfs.HdfsTarget("/out/plays_%s" % self.interval)

    def mapper(self, line):
        yield line.split()[0], 1

    def reducer(self, key, values):
        yield key, sum(values)
