"""Where the files of an Oozie application are on local disk."""

from __future__ import annotations

import os
import urllib.parse

from wfconv.ir import expr as E


def locate(base: str, app_path: str, filename: str) -> str | None:
    """The local file an Oozie (HDFS) app-path stands for: the longest trailing
    part of the path that exists under ``base`` or its parent. EL parts are
    dropped first (``${nameNode}/apps/${x}/wf`` -> ``apps/wf``)."""
    try:
        parts = E.split_template(app_path or "")
        literal = "".join(src for src, node in parts if node["type"] == "literal")
    except E.ExprError:
        literal = app_path or ""
    p = urllib.parse.urlparse(literal).path if "://" in literal else literal
    comps = [c for c in p.split("/") if c and c != "."]
    if comps and comps[-1].endswith(".xml"):
        filename = comps.pop()
    # The parent stays spelled relative to ``base`` (never made absolute), so
    # source paths in the IR do not depend on where the checkout lives.
    roots = [base, os.path.normpath(os.path.join(base, os.pardir)) if base else os.pardir]
    limit = os.path.abspath(roots[1])
    for k in range(len(comps), -1, -1):
        for r in roots:
            cand = (
                os.path.join(r, *comps[len(comps) - k :], filename)
                if k
                else os.path.join(r, filename)
            )
            if os.path.isfile(cand) and os.path.abspath(cand).startswith(limit + os.sep):
                return os.path.normpath(cand) if not os.path.isabs(base) else cand
    return None
