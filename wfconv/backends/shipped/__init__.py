"""Helper modules a backend copies verbatim into an output folder, once.

They are written for the target engine's users, not for wfconv: each depends
on its engine and the standard library only, and is held to the style of the
code wfconv emits (``ruff format`` at 88 columns, docs/output.md), which is
why they live here under their own ``ruff.toml``.
"""
