"""How many corpus conversions verify EQUIVALENT, per target.

For every valid workflow in corpus/<engine>/ and every target, runs
`wfconv verify` (basic scenarios) and prints "N/M equivalent" per target, with
the time it took. Equivalent = every structural difference explained by the
ledger, every basic scenario and the run list the same. Not a CI assertion
(tests/test_verify_corpus.py asserts what must always hold).

    python bench/verify_corpus.py [airflow,prefect,luigi,oozie]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT / "tests"))
    from golden import ENGINES, sources

    from wfconv.errors import InputError
    from wfconv.frontends import load_path
    from wfconv.verify import verify_workflow

    targets = (
        sys.argv[1].split(",") if len(sys.argv) > 1 else ["airflow", "prefect", "luigi", "oozie"]
    )
    workflows = []
    for engine in ENGINES:
        for src in sources(engine):
            try:
                bundle = load_path(str(src.relative_to(ROOT)), engine, static=True)
            except InputError:
                continue
            workflows += [w for w in bundle.workflows if not w.has_errors()]
    print(f"{len(workflows)} corpus workflows")
    for target in targets:
        t0 = time.perf_counter()
        ok = sum(verify_workflow(w, target).equivalent for w in workflows)
        print(f"  {target:8} {ok}/{len(workflows)} equivalent  ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
