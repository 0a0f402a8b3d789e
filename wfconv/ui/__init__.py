"""``wfconv ui`` and ``wfconv runs``: what the run store and a migration look like.

- ``history``: read-only queries on the run store (``wfconv run``'s SQLite),
  shared by the terminal commands (``wfconv runs``) and the web pages;
- ``text``: human durations and times, for the terminal and the pages;
- ``migration``: the workflows of PATHS, their conversions, verify verdicts
  and audit findings, computed in the background with a cache;
- ``app``/``server``: the web application (Starlette, jinja2 templates) and
  its uvicorn server, bound to localhost unless told otherwise.

Only ``app`` and ``server`` need the ``ui`` extra (Starlette, uvicorn).
"""
