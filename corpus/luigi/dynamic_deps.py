"""Dynamic dependencies: run() yields tasks, known only while it runs."""

import luigi


class Manifest(luigi.Task):
    def output(self):
        return luigi.LocalTarget("in/manifest.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("a\nb\n")


class Convert(luigi.Task):
    name = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(f"out/{self.name}.parquet")

    def run(self):
        self.output().open("w").close()


class ConvertAll(luigi.Task):
    def requires(self):
        return Manifest()

    def output(self):
        return luigi.LocalTarget("out/_DONE")

    def run(self):
        with self.input().open() as fh:
            names = [line.strip() for line in fh if line.strip()]
        yield [Convert(name=n) for n in names]
        self.output().open("w").close()
