"""Literal text in the IR's template spelling (docs/architecture.md §4).

Every string of an IR action is a template in Airflow's Jinja spelling: the
runtime renders it and the writers translate it. Text that is *not* a
template in its source must not become one by accident. Oozie's run-time
values are EL (``${...}``) and Prefect and Luigi render nothing, so a ``{{``
in an Oozie ``<argument>`` or in a Prefect command is literal text; kept as
is, the IR would call it a template, and the converted flow would evaluate it
(``{{ ''.__class__.__mro__ ... }}`` is Python run by Jinja).

So readers of engines without Jinja write literal text with ``escape``: each
Jinja opener (``{{``, ``{%``, ``{#``, and a ``{`` ending the text, which a
template could follow) becomes an expression that prints it, ``{{ '{{' }}``.
That is plain Jinja, so the runtime and every writer that renders Jinja
(Airflow, Prefect's ``wfconv_render``) print the literal text; writers that
translate templates (Oozie EL, Luigi's ``render``) recognise the four escapes
with ``literal_value`` and write the text itself. ``unescape`` turns escaped
literal text back into the text.
"""

from __future__ import annotations

import re

ESCAPES = {opener: "{{ '" + opener + "' }}" for opener in ("{{", "{%", "{#", "{")}

_OPENER = re.compile(r"\{[{%#]|\{\Z")
_ESCAPE = re.compile("|".join(re.escape(e) for e in ESCAPES.values()))
_LITERALS = {f"'{opener}'": opener for opener in ESCAPES}


def escape(text: str) -> str:
    """Literal text in the template spelling (it renders to itself)."""
    if "{" not in text:
        return text
    return _OPENER.sub(lambda m: ESCAPES[m.group(0)], text)


def unescape(text: str) -> str:
    """The text that ``escape`` spelled (escapes become their openers)."""
    if "{{ '" not in text:
        return text
    return _ESCAPE.sub(lambda m: m.group(0)[4:-4], text)


def literal_value(expression: str) -> str | None:
    """The text a template expression prints when it is one of the escapes
    (``'{{'`` -> ``{{``); None for any other expression."""
    return _LITERALS.get(expression.strip())


def is_literal(text: str) -> bool:
    """Does ``text`` hold no template but escapes?"""
    rest = _ESCAPE.sub("", text)
    return not any(opener in rest for opener in ("{{", "{%", "{#"))
