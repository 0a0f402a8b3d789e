"""`wfconv upgrade` against `ruff check --select AIR3 --preview --fix --unsafe-fixes`.

    python bench/bench_upgrade.py            # the corpus and Airflow 2.10.5's example DAGs
    python bench/bench_upgrade.py --files    # and one line per file

On the same Airflow 2 files (corpus/airflow, corpus/audit and the example DAGs
of the Airflow 2.10.5 side virtualenv, `wfconv engines install`), each tool
rewrites a copy. Airflow 2.10.5 loads the originals and Airflow 3.3.2 loads
each tool's output (one DagBag per folder, wfconv/upgrade/engine.py). Printed,
over the files that load in Airflow 2.10.5:

- how many load in Airflow 3.3.2 after each tool;
- how many also keep every DAG the same: DAG and task ids, edges, trigger
  rules, retries, owners, catch-up, the first three runs (start, logical date,
  data interval) and every templated field rendered for each run;
- lines changed per file (a replaced line counts once), min / median / max;
- the time each tool took.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wfconv.engines import find_python  # noqa: E402
from wfconv.frontends import detect_engine  # noqa: E402
from wfconv.upgrade import Options, upgrade_text  # noqa: E402
from wfconv.upgrade.engine import (  # noqa: E402
    airflow2_examples,
    differences,
    loaded_files,
    snapshot,
    stage,
)


def sources(py2: Path) -> dict[str, list[Path]]:
    return {
        "airflow": sorted((ROOT / "corpus" / "airflow").glob("*.py")),
        "audit": sorted((ROOT / "corpus" / "audit").glob("*.py")),
        "examples": airflow2_examples(py2),
    }


def changed_lines(old: str, new: str) -> int:
    n = 0
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            n += max(i2 - i1, j2 - j1)
    return n


def run_wfconv(files: dict[str, Path]) -> float:
    began = time.perf_counter()
    for rel, path in files.items():
        text = path.read_text(encoding="utf-8", errors="replace")
        if detect_engine(str(path), text) != "airflow":
            continue
        try:
            result = upgrade_text(rel, text, Options(today=datetime.date.today()))
        except Exception:  # noqa: BLE001 - unreadable input: left as it is, as ruff does
            continue
        path.write_text(result.new, encoding="utf-8")
    return time.perf_counter() - began


def run_ruff(folder: Path) -> float:
    ruff = Path(sys.executable).with_name("ruff")
    began = time.perf_counter()
    subprocess.run(
        [
            str(ruff),
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "AIR3",
            "--preview",
            "--fix",
            "--unsafe-fixes",
            "--exit-zero",
            "--quiet",
            str(folder),
        ],
        capture_output=True,
        timeout=300,
        check=False,
    )
    return time.perf_counter() - began


def spread(values: list[int]) -> str:
    if not values:
        return "-"
    return f"{min(values)} / {statistics.median(values):g} / {max(values)}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", action="store_true", help="one line per file as well")
    args = ap.parse_args()
    py2, py3 = find_python("2"), find_python("3")
    if py2 is None or py3 is None:
        sys.exit("needs Airflow 2.10.5 and 3.3.2: run `wfconv engines install`")
    with tempfile.TemporaryDirectory(prefix="bench-upgrade-") as tmp:
        work = Path(tmp)
        sets = sources(py2)
        original = stage(sets, work / "original")
        ruffed = stage(sets, work / "ruff")
        upgraded = stage(sets, work / "wfconv")
        t_ruff = run_ruff(work / "ruff")
        t_wfconv = run_wfconv(upgraded)
        began = time.perf_counter()
        before = snapshot(py2, work / "original")
        after_ruff = snapshot(py3, work / "ruff", database=False)
        after_wfconv = snapshot(py3, work / "wfconv", database=False)
        t_engines = time.perf_counter() - began
        outputs = {
            tool: {rel: p.read_bytes().decode("utf-8", "replace") for rel, p in files.items()}
            for tool, files in (("original", original), ("ruff", ruffed), ("wfconv", upgraded))
        }

    base = sorted(loaded_files(before))
    diffs = {"ruff": differences(before, after_ruff), "wfconv": differences(before, after_wfconv)}
    loads = {
        "ruff": [f for f in base if f in loaded_files(after_ruff)],
        "wfconv": [f for f in base if f in loaded_files(after_wfconv)],
    }
    lines = {"ruff": [], "wfconv": []}
    per_file = []
    for rel in base:
        row = [rel]
        for tool in ("ruff", "wfconv"):
            n = changed_lines(outputs["original"][rel], outputs[tool][rel])
            lines[tool].append(n)
            same = rel not in diffs[tool]
            row += [
                str(n),
                "loads" if rel in loads[tool] else "FAILS",
                "same" if same else "differs",
            ]
        per_file.append(row)

    n = len(base)
    print(
        f"{n} Airflow 2 files load in Airflow 2.10.5 "
        f"({len(sets['airflow']) + len(sets['audit'])} corpus files, {len(sets['examples'])} examples)"
    )
    print()
    print(
        "| tool | loads in 3.3.2 | same DAGs, runs, renders | lines changed per file (min / median / max) | time |"
    )
    print("|---|---|---|---|---|")
    for tool, t in (
        ("ruff --select AIR3 --fix --unsafe-fixes", t_ruff),
        ("wfconv upgrade", t_wfconv),
    ):
        key = "ruff" if tool.startswith("ruff") else "wfconv"
        same = sum(1 for f in base if f not in diffs[key])
        print(f"| {tool} | {len(loads[key])}/{n} | {same}/{n} | {spread(lines[key])} | {t:.2f} s |")
    print(f"\n(engines: {t_engines:.0f} s for three DagBags)")
    if args.files:
        print()
        print(
            "| file | ruff lines | ruff loads | ruff same | wfconv lines | wfconv loads | wfconv same |"
        )
        print("|---|---|---|---|---|---|---|")
        for row in per_file:
            print("| " + " | ".join(row) + " |")
    for f, problems in diffs["wfconv"].items():
        print(f"\nwfconv upgrade: {f}: {problems[0][:300]}")


if __name__ == "__main__":
    main()
