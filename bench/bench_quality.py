"""Output quality: what the code wfconv leaves behind looks like, per direction.

Every valid workflow of ``corpus/<engine>/`` is converted to every target the
way a team migrating a folder would (``wfconv convert corpus/<engine> --to T
-o OUT``: one output folder per direction, shared helper modules written once
in it), and the output folder is measured:

- lines per source task: the lines of a workflow's own files divided by its
  number of tasks (median over the direction's workflows, median over those
  of 3 tasks or more, whose per-file overhead of docstring, imports and entry
  point does not dominate, and overall);
- helper share: the lines that are wfconv's support code rather than the
  workflow (helper modules, and helper definitions inside a workflow's file)
  over all lines of the folder;
- longest line of any emitted file;
- ruff findings with the rule set of ``docs/output.md`` (``ruff check``) and the
  files ``ruff format --check`` would reformat;
- defaults with helpers: workflows that use only default semantics (every rule
  all_success, no branch, no setup/teardown, no soft-failing sensor) whose
  output still carries or imports helper code (``WFCONV_TIME``, the one-line
  record of the schedule's time model, is data, not helper code).

Then the goals of issue 13: Airflow -> Prefect median <= 12 lines per task,
``corpus/airflow/etl_basic.py`` -> Prefect <= 130 lines, Airflow -> Luigi
<= 20 lines per task, no helper copy for default-only workflows.

    python bench/bench_quality.py                   # every direction
    python bench/bench_quality.py --from airflow --to prefect
    python bench/bench_quality.py --json
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("airflow", "prefect", "luigi", "oozie")
# The rule set generated Python is held to (docs/output.md).
RUFF_RULES = "E,W,F,I,B,UP,SIM,C4,N,RUF,PLE"
RUFF_IGNORE = "E501"
GOALS = {
    ("airflow", "prefect"): 12,
    ("airflow", "luigi"): 20,
}
ETL_BASIC_PREFECT_MAX = 130

# Top-level names of wfconv support code inside a workflow's own file, as
# wfconv writes (or wrote) it.
_HELPER_PREFIXES = ("wfconv_", "WFCONV_", "_wfconv")
_HELPER_NAMES = {
    "UpstreamFailed",
    "WorkflowTask",
    "catch_up",
    "retry_settings",
    "main",
    "_TEMPLATE",
    "_STRFTIME",
    "DUE_AFTER_S",
    "RETRY_DELAY_S",
    "STATE_DIR_ENV",
    "RUN_ID_ENV",
    "DEFAULT_STATE_DIR",
    "WORKFLOW_DIR",
    "PARAM_ATTRS",
    "SHARED_PARAMS",
    "SCHEDULE",
    "WORKFLOW_ID",
    "DESCRIPTION",
}


def _ruff() -> str:
    exe = Path(sys.executable).with_name("ruff")
    return str(exe) if exe.exists() else "ruff"


def helper_modules(target: str) -> set[str]:
    """File names of the shared helper modules a backend writes."""
    from wfconv.backends import backend

    return set(getattr(backend(target), "HELPER_MODULES", ()))


# Records, not code: the schedule's time model a Prefect module states for
# its readers (docs/semantics.md R3), one line of data that no task runs.
_RECORD_NAMES = {"WFCONV_TIME"}


def _is_helper_name(name: str) -> bool:
    if name in _RECORD_NAMES:
        return False
    return name.startswith(_HELPER_PREFIXES) or name in _HELPER_NAMES


def helper_lines(text: str) -> tuple[int, bool]:
    """(lines of helper definitions in a workflow's file, whether the file
    imports a helper module)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return 0, False
    lines = 0
    imports = False
    for node in tree.body:
        names: list[str] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imports |= node.module.split(".")[0] in _HELPER_IMPORTS
        elif isinstance(node, ast.Import):
            imports |= any(a.name.split(".")[0] in _HELPER_IMPORTS for a in node.names)
        if names and all(_is_helper_name(n) for n in names):
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            lines += node.end_lineno - start + 1
    return lines, imports


_HELPER_IMPORTS: set[str] = set()


def uses_only_defaults(w) -> bool:
    return all(
        t.trigger_rule == "all_success"
        and t.action.kind != "branch"
        and not t.role
        and not (t.action.kind == "sensor" and t.action.get("soft_fail"))
        for t in w.tasks
    )


def load_corpus(engine: str):
    """(path, workflow) for every valid workflow of the engine's corpus."""
    sys.path.insert(0, str(ROOT / "tests"))
    from golden import sources

    from wfconv.errors import InputError
    from wfconv.frontends import load_path
    from wfconv.ir.validate import graph_errors

    out = []
    for src in sources(engine):
        rel = str(src.relative_to(ROOT))
        try:
            bundle = load_path(rel, engine, static=engine == "luigi")
        except InputError:
            continue
        for w in bundle.workflows:
            if not w.has_errors() and not graph_errors(w):
                out.append((rel, w))
    return out


def ruff_findings(folder: Path) -> tuple[int, int, dict[str, int]]:
    """(lint findings, files ruff format would change, findings per rule)."""
    ruff = _ruff()
    proc = subprocess.run(
        [
            ruff,
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            RUFF_RULES,
            "--ignore",
            RUFF_IGNORE,
            "--output-format",
            "json",
            str(folder),
        ],
        capture_output=True,
        text=True,
    )
    found = json.loads(proc.stdout or "[]")
    per_rule: dict[str, int] = {}
    for item in found:
        code = item.get("code") or "syntax"
        per_rule[code] = per_rule.get(code, 0) + 1
    fmt = subprocess.run(
        [ruff, "format", "--isolated", "--no-cache", "--check", str(folder)],
        capture_output=True,
        text=True,
    )
    counted = re.search(r"(\d+) files? would be reformatted", fmt.stdout + fmt.stderr)
    unformatted = int(counted.group(1)) if counted else 0
    return len(found), unformatted, per_rule


def measure(source: str, target: str, corpus) -> dict:
    from wfconv.backends import backend

    module = backend(target)
    shared = helper_modules(target)
    _HELPER_IMPORTS.clear()
    _HELPER_IMPORTS.update(Path(n).stem for n in shared)
    workflows = {w.id: w for _, w in corpus}
    with tempfile.TemporaryDirectory(prefix="wfconv-quality-") as tmp:
        folder = Path(tmp)
        per_task: list[float] = []
        per_task_3: list[float] = []  # workflows of 3 tasks or more
        own_total = helper_total = tasks_total = 0
        longest = (0, "")
        defaults_with_helpers: list[str] = []
        etl_basic_lines = None
        written: dict[str, str] = {}
        for n, (rel, w) in enumerate(corpus):
            emitted = module.emit(w, workflows=workflows)
            own = 0
            helpers_inline = 0
            imports_helpers = False
            for name, text in emitted.files.items():
                if name in shared:
                    written[name] = text
                    continue
                dest = folder / f"w{n}" / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(text, encoding="utf-8")
                count = len(text.splitlines())
                own += count
                if name.endswith(".py"):
                    h, imp = helper_lines(text)
                    helpers_inline += h
                    imports_helpers |= imp
                for line in text.splitlines():
                    if len(line) > longest[0]:
                        longest = (len(line), f"{rel} -> {name}")
            if w.tasks:
                per_task.append(own / len(w.tasks))
            if len(w.tasks) >= 3:
                per_task_3.append(own / len(w.tasks))
            own_total += own
            helper_total += helpers_inline
            tasks_total += len(w.tasks)
            if uses_only_defaults(w) and (helpers_inline or imports_helpers):
                defaults_with_helpers.append(f"{rel}:{w.id}")
            if rel == "corpus/airflow/etl_basic.py" and target == "prefect":
                etl_basic_lines = own
        shared_lines = 0
        for name, text in written.items():
            (folder / name).write_text(text, encoding="utf-8")
            shared_lines += len(text.splitlines())
            for line in text.splitlines():
                if len(line) > longest[0]:
                    longest = (len(line), f"helper module {name}")
        findings, unformatted, per_rule = ruff_findings(folder)
    total = own_total + shared_lines
    return {
        "direction": f"{source} -> {target}",
        "workflows": len(corpus),
        "tasks": tasks_total,
        "lines": total,
        "lines_per_task_median": round(statistics.median(per_task), 1) if per_task else None,
        "lines_per_task_overall": round(own_total / tasks_total, 1) if tasks_total else None,
        "lines_per_task_median_3": round(statistics.median(per_task_3), 1) if per_task_3 else None,
        "helper_share": round((helper_total + shared_lines) / total, 3) if total else 0.0,
        "helper_module_lines": shared_lines,
        "longest_line": longest[0],
        "longest_line_in": longest[1],
        "ruff_findings": findings,
        "ruff_rules": per_rule,
        "unformatted_files": unformatted,
        "defaults_with_helpers": defaults_with_helpers,
        "etl_basic_lines": etl_basic_lines,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--from", dest="source", choices=ENGINES)
    ap.add_argument("--to", dest="target", choices=ENGINES)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    import os

    os.chdir(ROOT)
    rows = []
    for source in ENGINES:
        if args.source and source != args.source:
            continue
        corpus = load_corpus(source)
        for target in ENGINES:
            if args.target and target != args.target:
                continue
            rows.append(measure(source, target, corpus))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    header = (
        f"{'direction':<20} {'wfs':>4} {'tasks':>5} {'lines':>6} {'l/task med':>10} {'med 3+':>6} "
        f"{'l/task all':>10} {'helpers':>8} {'longest':>7} {'ruff':>5} {'unfmt':>5} {'dflt+h':>6}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['direction']:<20} {r['workflows']:>4} {r['tasks']:>5} {r['lines']:>6} "
            f"{r['lines_per_task_median']!s:>10} {r['lines_per_task_median_3']!s:>6} "
            f"{r['lines_per_task_overall']!s:>10} "
            f"{r['helper_share']:>8.0%} {r['longest_line']:>7} {r['ruff_findings']:>5} "
            f"{r['unformatted_files']:>5} {len(r['defaults_with_helpers']):>6}"
        )
    print()
    for r in rows:
        if r["ruff_rules"]:
            rules = ", ".join(f"{k} {v}" for k, v in sorted(r["ruff_rules"].items()))
            print(f"ruff {r['direction']}: {rules}")
    print()
    by = {r["direction"]: r for r in rows}
    for (s, t), goal in GOALS.items():
        r = by.get(f"{s} -> {t}")
        if r:
            for key, label in (
                ("lines_per_task_median", "all workflows"),
                ("lines_per_task_median_3", "workflows of 3+ tasks"),
            ):
                got = r[key]
                ok = got is not None and got <= goal
                print(
                    f"goal {s} -> {t}: median {got} lines per task over {label} "
                    f"(<= {goal}): {'met' if ok else 'NOT met'}"
                )
    r = by.get("airflow -> prefect")
    if r and r["etl_basic_lines"] is not None:
        ok = r["etl_basic_lines"] <= ETL_BASIC_PREFECT_MAX
        print(
            f"goal corpus/airflow/etl_basic.py -> prefect: {r['etl_basic_lines']} lines "
            f"(<= {ETL_BASIC_PREFECT_MAX}): {'met' if ok else 'NOT met'}"
        )
    offenders = [w for r in rows for w in r["defaults_with_helpers"]]
    print(
        f"goal no helper copy for default-only workflows: {len(offenders)} offending output(s)"
        + (": " + ", ".join(sorted(set(offenders))[:8]) if offenders else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
