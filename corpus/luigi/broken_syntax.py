"""A Luigi module with a syntax error: refused with path:line."""

import luigi


class Broken(luigi.Task):
    def requires(self)
        return []
