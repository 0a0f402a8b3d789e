"""Corpus audit (docs/architecture.md §1): read thousands of workflow files statically, report
what a reviewer would (codes in docs/audit.md).

Modules: ``codes`` (the table), ``model`` (findings, per-file results), ``checks`` (one function per code),
``analyze`` (one file -> findings + metrics), ``graph``/``timing``/``oozie``
(helpers), ``pool`` (worker processes with per-file timeout), ``cache``,
``run`` (the driver), ``report``/``sarif``/``html`` (outputs), ``baseline``.
"""
