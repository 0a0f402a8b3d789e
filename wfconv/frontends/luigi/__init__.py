"""Luigi reader: a module of Luigi tasks -> one workflow per root task.

``reader`` builds the IR from a description of task instances, which comes
from ``child`` (the module imported in a child process and asked) or from
``static`` (read without importing, with ``static_hooks`` and
``static_values``).
"""

from wfconv.frontends.luigi.reader import ENGINE, build_bundle, parse

__all__ = ["ENGINE", "build_bundle", "parse"]
