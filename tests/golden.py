"""Golden IR files: ``corpus/golden/<engine>/<source name>.json`` holds the IR
that ``corpus/<engine>/<source name>`` must parse to; ``<source name>.err``
holds the one stderr line of a source that must be refused (exit 2).

Regenerate on purpose only, and read the diff before committing::

    python tests/golden.py corpus/airflow/etl_basic.py   # one file
    python tests/golden.py --engine airflow              # every file of an engine
    python tests/golden.py --audit                       # the audit report of the corpus
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
GOLDEN = CORPUS / "golden"
ENGINES = ("airflow", "oozie", "luigi", "prefect")


def sources(engine: str) -> list[Path]:
    """Corpus entries of an engine: files, and folders for Oozie apps."""
    base = CORPUS / engine
    if not base.is_dir():
        return []
    out = []
    for p in sorted(base.iterdir()):
        if p.name.startswith((".", "_")) or p.name == "__pycache__":
            continue
        if p.is_file() and p.suffix in (".py", ".xml"):
            out.append(p)
        elif p.is_dir():
            out.append(p)
    return out


def golden_for(src: Path) -> tuple[Path, Path]:
    rel = src.relative_to(CORPUS)
    base = GOLDEN / rel.parent / rel.name
    return base.with_name(base.name + ".json"), base.with_name(base.name + ".err")


def render(src: Path) -> tuple[str | None, str | None]:
    """(IR JSON, None) or (None, error line) for a corpus entry, parsed with the
    path relative to the repository root so goldens do not depend on checkouts."""
    import os

    from wfconv.errors import InputError
    from wfconv.frontends import load_path
    from wfconv.ir.jsonio import dumps

    engine = src.relative_to(CORPUS).parts[0]
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        return dumps(load_path(str(src.relative_to(ROOT)), engine)), None
    except InputError as exc:
        return None, str(exc) + "\n"
    finally:
        os.chdir(old)


AUDIT_GOLDEN = GOLDEN / "audit" / "corpus.json"
AUDIT_NOW = "2026-01-01"


def audit_sources() -> list[str]:
    """What the audit golden covers: every corpus folder but the goldens."""
    return sorted(str(p.relative_to(ROOT)) for p in CORPUS.iterdir() if p.is_dir() and p != GOLDEN)


def render_audit() -> str:
    """``wfconv audit --format json`` over the corpus (run from the repository
    root, so paths are relative), with the timings taken out: the findings,
    workflow metrics and file statuses a user sees, byte for byte."""
    import json
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        subprocess.run(
            [sys.executable, "-m", "wfconv", "audit", *audit_sources(), "--format", "json"]
            + ["--no-cache", "--now", AUDIT_NOW, "--fail-on", "never", "-o", str(out)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )
        report = json.loads(out.read_text(encoding="utf-8"))
    for key in ("seconds", "files_per_second"):
        report["summary"].pop(key, None)
    # One finding, workflow or file per line: a change reads as a line diff.
    parts = []
    for key, value in report.items():
        if isinstance(value, list):
            rows = ",\n".join(f"  {json.dumps(v, ensure_ascii=False)}" for v in value)
            parts.append(f"{json.dumps(key)}: [\n{rows}\n]" if value else f"{json.dumps(key)}: []")
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--engine", choices=ENGINES)
    ap.add_argument("--audit", action="store_true", help=f"regenerate {AUDIT_GOLDEN.name}")
    args = ap.parse_args(argv)
    todo = [Path(p).resolve() for p in args.paths]
    if args.engine:
        todo += sources(args.engine)
    if args.audit:
        old = AUDIT_GOLDEN.read_text(encoding="utf-8") if AUDIT_GOLDEN.exists() else None
        new = render_audit()
        AUDIT_GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        AUDIT_GOLDEN.write_text(new, encoding="utf-8")
        state = "new" if old is None else ("changed" if old != new else "same")
        print(f"{state:8} {AUDIT_GOLDEN.relative_to(ROOT)}")
    elif not todo:
        ap.error("name files, --engine or --audit")
    for src in todo:
        ok_path, err_path = golden_for(src)
        ok_path.parent.mkdir(parents=True, exist_ok=True)
        ir, err = render(src)
        new, target, other = (ir, ok_path, err_path) if ir is not None else (err, err_path, ok_path)
        old = target.read_text(encoding="utf-8") if target.exists() else None
        target.write_text(new, encoding="utf-8")
        if other.exists():
            other.unlink()
        state = "new" if old is None else ("changed" if old != new else "same")
        print(f"{state:8} {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
