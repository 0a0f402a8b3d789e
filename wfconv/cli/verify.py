"""``wfconv verify`` and ``wfconv compare``."""

from __future__ import annotations

import json
import sys

import click

from wfconv.cli.common import force_option, handle_errors, write_output
from wfconv.cli.core import load_sources, source_options

TARGETS = ("airflow", "prefect", "luigi", "oozie")


def _ledger_lines(ledger) -> list[str]:
    out = []
    for d in ledger:
        loc = d.location()
        out.append(f"    {d.code:6} {d.severity:7} {loc}: {d.message}")
    return out


def _check_lines(checks) -> list[str]:
    """One line per check (class, engine, status), then what failed or could
    not be checked; explained differences are counted, not listed."""
    out = []
    for c in checks:
        mark = c.status.upper() if c.status in ("fail", "unverified") else c.status
        extra = f", {len(c.explained)} explained" if c.explained else ""
        head = c.details[0] if c.details and c.status in ("pass", "n/a") else ""
        out.append(f"  {c.name:9} {mark:10} in {c.engine}{extra}" + (f" ({head})" if head else ""))
        if c.status in ("fail", "unverified"):
            shown = [d for d in c.details if d][:8]
            out.extend(f"    {d}" for d in shown)
            if len([d for d in c.details if d]) > len(shown):
                out.append(f"    ... {len(c.details) - len(shown)} more")
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
            if not v.equivalent:
                lines.append(f"    engine {v.describe()}")
        lines.extend(_check_lines(r.checks))
        losses = [d for d in r.ledger if d.severity in ("warning", "error")]
        if r.ledger:
            lines.append(f"  ledger: {len(losses)} loss(es), {len(r.ledger) - len(losses)} note(s)")
            lines.extend(_ledger_lines(r.ledger))
        lines.append(r.summary())
        lines.append("")
    counts = check_counts(reports)
    if counts:
        lines.append(
            "checks: "
            + "; ".join(
                f"{name} " + ", ".join(f"{n} {status}" for status, n in sorted(by.items()))
                for name, by in counts.items()
            )
        )
    total = len(reports)
    ok = sum(r.equivalent for r in reports)
    lines.append(f"{ok}/{total} workflow conversion(s) verified equivalent")
    return "\n".join(lines) + "\n"


def check_counts(reports) -> dict[str, dict[str, int]]:
    """{check class: {status: conversions}} (a conversion counts once per
    class, with its worst status)."""
    from wfconv.engines.checks import CHECKS
    from wfconv.engines.harness import summarize

    out: dict[str, dict[str, int]] = {}
    for r in reports:
        for name, status in summarize(r.checks).items():
            out.setdefault(name, {}).setdefault(status, 0)
            out[name][status] += 1
    return {k: out[k] for k in CHECKS if k in out}


class _Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, label: str):
        self.total, self.done, self.label = total, 0, label
        self.live = sys.stderr.isatty() and total > 1

    def __call__(self, n: int = 1) -> None:
        self.done += n
        if self.live:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            bar = "#" * filled + "." * (width - filled)
            sys.stderr.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.live:
            sys.stderr.write("\n")
            sys.stderr.flush()


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
    help="Also check the output in the real engines: loads, structure, time, "
    "payloads and behaviour (Airflow 3/2 from `wfconv engines install`, Prefect, "
    "Luigi, Oozie's schemas); the source too where its engine is installed, which "
    "imports your DAG files as Airflow's scheduler does (no task runs).",
)
@click.option(
    "--engine-scenarios",
    type=click.Choice(["basic", "all", "smoke"]),
    default=None,
    help="Scenarios run in the engines (default: --scenarios). smoke: only those "
    "without an injected failure, for corpora (an Airflow dag.test() takes seconds).",
)
@click.option("--airflow-version", type=click.Choice(["2", "3"]), default="3", show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("-o", "--output", type=click.Path(), default=None)
@force_option
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
    engine_scenarios,
    airflow_version,
    fmt,
    output,
    force,
):
    """Check that converting PATHS to --to behaves like the source.

    The emitted code is read back with the target's frontend and compared with
    the source (every difference must be explained by the ledger); then source
    and conversion run in the reference runtime under the same failure/branch
    scenarios and every task's final state and attempt count are compared.
    Exit 0 when equivalent in every scenario, 1 when not, 2 on input errors.
    """
    from wfconv.engines import prefect_server
    from wfconv.errors import InputError
    from wfconv.ir.validate import require_valid
    from wfconv.verify import verify_workflows

    if use_engine and target in ("prefect", "luigi"):
        from wfconv import extras

        extras.require(target, f"verify --engine for {target}")
    bundle = load_sources(paths, engine, roots, params, static)
    require_valid(bundle)
    if not bundle.workflows:
        raise InputError(paths[0], None, "no workflow found")
    progress = _Progress(len(bundle.workflows), f"verify -> {target}")
    try:
        reports = verify_workflows(
            bundle.workflows,
            target,
            scenarios=scenarios,
            engine=use_engine,
            engine_scenarios=engine_scenarios,
            progress=progress,
            airflow_version=int(airflow_version),
        )
    finally:
        progress.close()
        prefect_server.stop()
    if fmt == "json":
        text = (
            json.dumps(
                {
                    "verdict": "equivalent" if all(r.equivalent for r in reports) else "differs",
                    "checks": check_counts(reports),
                    "reports": [r.to_dict() for r in reports],
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    else:
        text = render_verify_table(reports)
    write_output(text, output, force, paths)
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
@click.option(
    "--engine",
    "use_engine",
    is_flag=True,
    help="Also check every conversion in the real engines (see verify --engine).",
)
@click.option("-o", "--output", type=click.Path(), default=None)
@force_option
@handle_errors
def compare_cmd(paths, engine, roots, params, static, targets, fmt, use_engine, output, force):
    """For teams choosing an orchestrator: how well each target holds PATHS.

    For each target: whether the conversion is lossless, its ledger, the
    structural and behavioural verdicts of verify, generated lines of code, and
    which features of the source it supports natively, approximates or lacks.
    """
    from wfconv.compare import compare_bundle, render_html, render_json, render_table
    from wfconv.engines import prefect_server
    from wfconv.errors import InputError, UsageError
    from wfconv.ir.validate import require_valid

    chosen = [t.strip() for t in targets.split(",") if t.strip()]
    bad = [t for t in chosen if t not in TARGETS]
    if bad:
        raise UsageError(f"unknown target(s) {', '.join(bad)}; known: {', '.join(TARGETS)}")
    bundle = load_sources(paths, engine, roots, params, static)
    require_valid(bundle)
    if not bundle.workflows:
        raise InputError(paths[0], None, "no workflow found")
    try:
        result = compare_bundle(bundle, chosen, engine=use_engine)
    finally:
        prefect_server.stop()
    renderer = {"table": render_table, "json": render_json, "html": render_html}[fmt]
    write_output(renderer(result), output, force, paths)
