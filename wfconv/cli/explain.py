"""``wfconv explain CODE``: what a diagnostic or finding code means (like ``ruff rule``)."""

from __future__ import annotations

import json

import click

from wfconv.cli.common import handle_errors
from wfconv.errors import UsageError


def explain_text(code) -> str:
    from wfconv.codes import FAMILIES

    lines = [f"{code.code} ({FAMILIES.get(code.family, code.family)}, {code.severity})", ""]
    lines.append(code.summary)
    if code.description:
        lines += ["", code.description]
    if code.scope:
        lines += ["", f"Attached to: {code.scope}."]
    if not code.strict:
        lines += ["", "convert --strict does not fail on it: no conversion loses it."]
    if code.fix:
        lines += ["", f"How to fix: {code.fix}."]
    if code.example:
        lines += ["", "Example:", *(("    " + x).rstrip() for x in code.example.splitlines())]
    lines += ["", f"Documented in {code.doc}"]
    return "\n".join(lines) + "\n"


@click.command("explain")
@click.argument("codes", nargs=-1)
@click.option("--all", "show_all", is_flag=True, help="List every code (one line each).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@handle_errors
def explain_cmd(codes, show_all, fmt):
    """Explain diagnostic and finding codes: severity, meaning, how to fix, where documented.

    \b
      wfconv explain AU203
      wfconv explain AF101 BP112
      wfconv explain --all
    """
    from dataclasses import asdict

    from wfconv.codes import get, table

    if show_all:
        chosen = list(table().values())
    elif not codes:
        raise UsageError("give a code (wfconv explain AU203) or --all")
    else:
        chosen = []
        for name in codes:
            c = get(name)
            if c is None:
                raise UsageError(f"unknown code {name!r} (wfconv explain --all lists them)")
            chosen.append(c)
    if fmt == "json":
        click.echo(json.dumps([asdict(c) for c in chosen], indent=2, ensure_ascii=False))
    elif show_all:
        from wfconv.cli.term import table_text

        rows = [(c.code, c.severity, c.summary) for c in chosen]
        click.echo(table_text(("CODE", "SEVERITY", "SUMMARY"), rows), nl=False)
    else:
        click.echo("\n".join(explain_text(c) for c in chosen), nl=False)
