"""``wfconv verify`` and ``wfconv compare``."""

from __future__ import annotations

import json
import sys

import click

from wfconv.cli.common import handle_errors, write_output
from wfconv.cli.core import load_sources, source_options

TARGETS = ("airflow", "prefect", "luigi", "oozie")


def _ledger_lines(ledger) -> list[str]:
    out = []
    for d in ledger:
        loc = d.location()
        out.append(f"    {d.code:6} {d.severity:7} {loc}: {d.message}")
    return out


def render_verify_table(reports) -> str:
    lines: list[str] = []
    for r in reports:
        lines.append(f"== {r.workflow} -> {r.target}")
        for p in r.problems:
            lines.append(f"  problem: {p}")
        if r.structure:
            lines.append(
                f"  structure: {len(r.structure)} difference(s) after reading the {r.target} code back"
            )
            for d in r.structure:
                mark = "explained" if d.explained else "DEFECT   "
                lines.append(f"    {mark} {d.describe()}")
        elif not r.problems:
            lines.append(f"  structure: identical after reading the {r.target} code back")
        if r.behaviour:
            same = sum(v.equivalent for v in r.behaviour)
            lines.append(
                f"  behaviour: {same}/{len(r.behaviour)} scenarios equivalent in the reference runtime"
            )
            for v in r.behaviour:
                if not v.equivalent:
                    lines.append(f"    {v.describe()}")
        if r.run_list is not None:
            rl = r.run_list
            if rl.equivalent:
                lines.append(
                    f"  runs: the same {rl.source_runs} run(s) from {rl.window[0]} to {rl.window[1]}"
                )
            else:
                lines.append(f"  runs: DIFFER ({rl.first_difference})")
        if r.engine_note:
            lines.append(f"  engine: {r.engine_note}")
        for v in r.engine:
            lines.append(f"    engine {v.describe()}")
        losses = [d for d in r.ledger if d.severity in ("warning", "error")]
        if r.ledger:
            lines.append(f"  ledger: {len(losses)} loss(es), {len(r.ledger) - len(losses)} note(s)")
            lines.extend(_ledger_lines(r.ledger))
        lines.append(r.summary())
        lines.append("")
    total = len(reports)
    ok = sum(r.equivalent for r in reports)
    lines.append(f"{ok}/{total} workflow conversion(s) verified equivalent")
    return "\n".join(lines) + "\n"


@click.command("verify")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@source_options
@click.option("--to", "target", type=click.Choice(TARGETS), required=True, help="Target engine.")
@click.option(
    "--scenarios",
    type=click.Choice(["basic", "all"]),
    default="basic",
    show_default=True,
    help="basic: no failure, each task failing always / once, every branch choice; "
    "all: also every pair of failures and sensor time-outs.",
)
@click.option(
    "--engine",
    "use_engine",
    is_flag=True,
    help="Also run a probe variant of the emitted code in the real engine "
    "(Prefect, Luigi; Airflow when installed) and compare with the prediction.",
)
@click.option("--airflow-version", type=click.Choice(["2", "3"]), default="3", show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("-o", "--output", type=click.Path(), default=None)
@handle_errors
def verify_cmd(
    paths,
    engine,
    roots,
    params,
    static,
    target,
    scenarios,
    use_engine,
    airflow_version,
    fmt,
    output,
):
    """Check that converting PATHS to --to behaves like the source.

    The emitted code is read back with the target's frontend and compared with
    the source (every difference must be explained by the ledger); then source
    and conversion run in the reference runtime under the same failure/branch
    scenarios and every task's final state and attempt count are compared.
    Exit 0 when equivalent in every scenario, 1 when not, 2 on input errors.
    """
    from wfconv.ir.validate import require_valid
    from wfconv.verify import verify_workflow

    if use_engine and target in ("prefect", "luigi"):
        from wfconv import extras

        extras.require(target, f"verify --engine for {target}")
    bundle = load_sources(paths, engine, roots, params, static)
    require_valid(bundle)
    reports = [
        verify_workflow(
            w,
            target,
            scenarios=scenarios,
            engine=use_engine,
            airflow_version=int(airflow_version),
        )
        for w in bundle.workflows
    ]
    if fmt == "json":
        text = (
            json.dumps(
                {
                    "verdict": "equivalent" if all(r.equivalent for r in reports) else "differs",
                    "reports": [r.to_dict() for r in reports],
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    else:
        text = render_verify_table(reports)
    write_output(text, output)
    sys.exit(0 if all(r.equivalent for r in reports) else 1)


@click.command("compare")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@source_options
@click.option(
    "--targets",
    default=",".join(TARGETS),
    show_default=True,
    help="Comma-separated targets to compare.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "html"]),
    default="table",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(), default=None)
@handle_errors
def compare_cmd(paths, engine, roots, params, static, targets, fmt, output):
    """For teams choosing an orchestrator: how well each target holds PATHS.

    For each target: whether the conversion is lossless, its ledger, the
    structural and behavioural verdicts of verify, generated lines of code, and
    which features of the source it supports natively, approximates or lacks.
    """
    from wfconv.compare import compare_bundle, render_html, render_json, render_table
    from wfconv.errors import UsageError
    from wfconv.ir.validate import require_valid

    chosen = [t.strip() for t in targets.split(",") if t.strip()]
    bad = [t for t in chosen if t not in TARGETS]
    if bad:
        raise UsageError(f"unknown target(s) {', '.join(bad)}; known: {', '.join(TARGETS)}")
    bundle = load_sources(paths, engine, roots, params, static)
    require_valid(bundle)
    result = compare_bundle(bundle, chosen)
    renderer = {"table": render_table, "json": render_json, "html": render_html}[fmt]
    write_output(renderer(result), output)
