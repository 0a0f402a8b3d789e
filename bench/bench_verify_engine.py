"""`verify --engine` over a corpus of real workflows, every target: how long it
takes and what each check class concludes.

The corpus: the repository's corpus/ (every engine) and Apache Airflow's own
example DAGs from the two side virtualenvs of `wfconv engines install`
(about 200 files). For each target it prints the wall time, how many
conversions verified EQUIVALENT, and per check class (complete, loads,
structure, time, payload, behaviour) how many passed, failed, were
unverified or had nothing to check. It also counts "false EQUIVALENT":
conversions called EQUIVALENT while an engine check failed (must be 0), and
EQUIVALENT conversions with a check left unverified.

    python bench/bench_verify_engine.py [--targets airflow,prefect,luigi,oozie]
        [--limit N] [--json OUT.json] [--no-examples]

The goal of issue 12: all four targets in <= 15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


def corpus_files(examples: bool) -> list[tuple[Path, str]]:
    from golden import ENGINES, sources

    from wfconv.engines.provision import venv_path

    out = [(src, engine) for engine in ENGINES for src in sources(engine)]
    if examples:
        for major in ("2", "3"):
            site = sorted(venv_path(major).glob("lib/python*/site-packages"))
            for sub in ("airflow/example_dags", "airflow/providers/standard/example_dags"):
                for f in sorted((site[0] / sub).glob("*.py")) if site else []:
                    if f.name != "__init__.py":
                        out.append((f, "airflow"))
    return out


def load_workflows(files):
    from wfconv.errors import InputError, UsageError
    from wfconv.frontends import load_path

    workflows, skipped = [], 0
    for path, engine in files:
        try:
            bundle = load_path(str(path), engine, static=True)
        except (InputError, UsageError, RecursionError, ValueError):
            skipped += 1
            continue
        workflows += [w for w in bundle.workflows if not w.has_errors()]
    return workflows, skipped


def _first_line(check) -> str:
    """A failure's first detail, without the file name (to count alike ones)."""
    text = next((d for d in check.details if d), "")
    return text.split(": ", 1)[-1][:100]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--targets", default="airflow,prefect,luigi,oozie")
    ap.add_argument("--limit", type=int, default=None, help="first N workflows only")
    ap.add_argument("--json", default=None, help="write every report's checks here")
    ap.add_argument("--no-examples", action="store_true")
    ap.add_argument(
        "--engine-scenarios",
        default="smoke",
        choices=["smoke", "basic"],
        help="scenarios run in the engines (smoke: no injected failure)",
    )
    args = ap.parse_args()
    os.chdir(ROOT)
    from wfconv.cli.verify import check_counts
    from wfconv.engines import prefect_server
    from wfconv.engines.checks import FAIL, UNVERIFIED
    from wfconv.verify import verify_workflows

    files = corpus_files(not args.no_examples)
    t0 = time.perf_counter()
    workflows, skipped = load_workflows(files)
    if args.limit:
        workflows = workflows[: args.limit]
    print(
        f"{len(files)} files, {len(workflows)} workflows ({skipped} files not readable), "
        f"read in {time.perf_counter() - t0:.1f} s"
    )
    dump = {}
    total = time.perf_counter()
    try:
        for target in args.targets.split(","):
            t = time.perf_counter()
            done = [0]

            def tick(n, done=done, target=target):
                done[0] += n
                if sys.stderr.isatty():
                    sys.stderr.write(f"\r  {target}: {done[0]}/{len(workflows)}")

            reports = verify_workflows(
                workflows,
                target,
                engine=True,
                engine_scenarios=args.engine_scenarios,
                progress=tick,
            )
            if sys.stderr.isatty():
                sys.stderr.write("\n")
            took = time.perf_counter() - t
            eq = [r for r in reports if r.equivalent]
            false_eq = [r for r in eq if any(c.status == FAIL for c in r.checks)]
            eq_unverified = [r for r in eq if any(c.status == UNVERIFIED for c in r.checks)]
            print(
                f"  {target:8} {len(eq)}/{len(reports)} EQUIVALENT in {took:.0f} s; "
                f"false EQUIVALENT {len(false_eq)}; EQUIVALENT with unverified checks "
                f"{len(eq_unverified)}"
            )
            for name, by in check_counts(reports).items():
                row = ", ".join(f"{n} {s}" for s, n in sorted(by.items()))
                print(f"      {name:9} {row}")
            failures = Counter(
                _first_line(c)
                for r in reports
                for c in r.checks
                if c.status == FAIL and c.name == "loads"
            )
            for what, n in failures.most_common(5):
                print(f"      e.g. loads x{n}: {what}")
            dump[target] = [
                {
                    "workflow": r.workflow,
                    "source": w.source.path if w.source else None,
                    "verdict": r.verdict_text(),
                    "checks": [c.to_dict() for c in r.checks],
                }
                for w, r in zip(workflows, reports, strict=True)
            ]
    finally:
        prefect_server.stop()
    print(
        f"total {time.perf_counter() - total:.0f} s for {len(workflows)} workflows x {len(dump)} targets"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(dump, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
