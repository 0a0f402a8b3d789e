"""A seeded mutation campaign: hostile and broken inputs of every engine
through ``parse``, ``convert`` and ``audit``, each run bounded.

Seeds are the workflow files of ``corpus/`` (Airflow, Prefect, Luigi, Oozie
files and application folders) and the regression corpus
``tests/fixtures/hostile/``. Each input is one seed mutated by one to three
seeded operators (lines deleted, duplicated or swapped, indentation damaged,
hostile tokens inserted: Jinja, EL, control characters, quotes, deep
brackets, huge numbers and widths, DOCTYPEs, BOMs; numbers and strings
replaced; the file cut short or one byte flipped; XML re-encoded as UTF-16).
Input ``i`` of seed ``s`` is the same on every machine.

Each input goes through three commands, in-process in a worker that runs
them one after the other (``wfconv parse``, ``wfconv convert --to T`` with a
target chosen by the seed, ``wfconv audit -j 0 --no-cache``). For every run
the worker records the exit code, whether the output says ``internal
error`` or holds a traceback, the wall time, and the peak memory of the
worker during that run (Linux: the high-water mark is reset before each run
through ``/proc/self/clear_refs``). Workers are ``wfconv.proc`` children
with a memory cap; one that does not answer within ``--timeout`` seconds is
killed with everything it started, and the run counts as too slow.

Prints the number of internal errors, runs over 10 s, runs over 500 MB and
the peak memory (the goals of issue 15: 0, 0, none over 500 MB), and the
failing inputs (kept with ``--keep DIR``). Not a CI assertion; a few hundred
inputs of the same mutator run in the suite (tests/test_fuzz.py).

    python bench/fuzz_campaign.py                     # 3,000 inputs, seed 15
    python bench/fuzz_campaign.py --inputs 300 --jobs 2 --keep /tmp/fuzz
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("airflow", "prefect", "luigi", "oozie")
TARGETS = ENGINES

# -- seeds ---------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """One workflow input: a file, or an Oozie application folder (``main``
    is then the file of it that gets mutated)."""

    path: Path
    main: Path

    @property
    def engine(self) -> str:
        parts = self.path.parts
        for engine in ENGINES:
            if engine in parts:
                return engine
        return "oozie" if self.main.suffix == ".xml" else "airflow"


def seeds(root: Path = ROOT) -> list[Seed]:
    """Every corpus input of the four engines and the hostile regression corpus."""
    out: list[Seed] = []
    for folder in (root / "corpus", root / "tests" / "fixtures" / "hostile"):
        for engine in ENGINES:
            base = folder / engine
            if not base.is_dir():
                continue
            for p in sorted(base.iterdir()):
                if p.is_file() and p.suffix in (".py", ".xml"):
                    out.append(Seed(p, p))
                elif p.is_dir():
                    for name in ("bundle.xml", "coordinator.xml", "workflow.xml"):
                        if (p / name).is_file():
                            out.append(Seed(p, p / name))
                            break
    return out


# -- mutations -------------------------------------------------------------------

HOSTILE = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% for x in range(10**9) %}{% endfor %}",
    "{# #}",
    "${wf:id()}",
    "${",
    "}}",
    "\x00",
    "\x01\x1b[0m",
    '"""',
    "'''",
    "\\",
    "\r\n",
    "\t",
    "(" * 300,
    "[" * 120,
    ")",
    "9" * 5000,
    "1e999",
    "-1",
    "2**64",
    "10**10**10",
    '"a" * 10**9',
    '"{:>2000000000}".format(1)',
    '"x".ljust(10**9)',
    "retries=200_000_000",
    "retry_count = 1e999",
    "schedule='*/0 * * * *'",
    "start_date=datetime(1, 1, 1)",
    "é",
    "\ufeff",
    "\u202e",
    "\ud800",
    '<!DOCTYPE x [<!ENTITY a "b">]>',
    "&a;",
    "]]>",
    "<!--",
    "<a>" * 200,
    "import os; os.system('touch canary')",
    "lambda: (yield)",
    "async def f(): await g()",
    "global x",
    "del dag",
    "raise SystemExit(3)",
    "while True: pass",
    "x = [x for x in range(10**6) for y in range(10**6)]",
    "class A(A): pass",
    "def f(): return f()\nf()",
]

_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
_STRING = re.compile(r"\"[^\"\n\\\\]{1,40}\"|'[^'\n\\\\]{1,40}'")
_ODD_NUMBERS = [
    "0",
    "-1",
    "2**64",
    "10**100",
    "1e999",
    "-1e999",
    "9" * 400,
    "3e8",
    "0.0001",
    "True",
]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _m_delete_lines(rng: random.Random, text: str, xml: bool) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    del lines[i : i + rng.randint(1, 3)]
    return "\n".join(lines)


def _m_duplicate_line(rng: random.Random, text: str, xml: bool) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines[i:i] = [lines[i]] * rng.choice([1, 2, 10, 300])
    return "\n".join(lines)


def _m_swap_lines(rng: random.Random, text: str, xml: bool) -> str:
    lines = _lines(text)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def _m_indent(rng: random.Random, text: str, xml: bool) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines[i] = (
        (" " * rng.choice([1, 2, 4, 8]) + lines[i]) if rng.random() < 0.5 else lines[i].lstrip()
    )
    return "\n".join(lines)


def _m_insert(rng: random.Random, text: str, xml: bool) -> str:
    token = rng.choice(HOSTILE)
    i = rng.randrange(len(text) + 1)
    return text[:i] + token + text[i:]


def _m_number(rng: random.Random, text: str, xml: bool) -> str:
    found = list(_NUMBER.finditer(text))
    if not found:
        return _m_insert(rng, text, xml)
    m = rng.choice(found)
    return text[: m.start()] + rng.choice(_ODD_NUMBERS) + text[m.end() :]


def _m_string(rng: random.Random, text: str, xml: bool) -> str:
    found = list(_STRING.finditer(text))
    if not found:
        return _m_insert(rng, text, xml)
    m = rng.choice(found)
    q = m.group(0)[0]
    inner = rng.choice(HOSTILE).replace("\\", "\\\\").replace(q, "\\" + q).replace("\n", "\\n")
    return text[: m.start()] + q + inner + q + text[m.end() :]


def _m_truncate(rng: random.Random, text: str, xml: bool) -> str:
    return text[: rng.randrange(len(text) + 1)]


def _m_flip(rng: random.Random, text: str, xml: bool) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + chr(rng.randrange(1, 0x2FF)) + text[i + 1 :]


# Valid Python that is costly or odd to evaluate, as a statement or an argument.
HOSTILE_EXPRESSIONS = [
    '"{:>2000000000}".format(1)',
    '"a".ljust(10**9)',
    "2**10**8",
    "[0] * 10**9",
    '"x" * 10**9',
    "10**4300",
    "1e999",
    "-1",
    "2**64",
    "datetime(1, 1, 1)",
    "\"{{ ''.__class__.__mro__ }}\"",
    '"{% raw %}"',
    '"${wf:id()}"',
    '"a/b%c&d<e>f"',
    '"\\x00\\x01"',
    '"x" * 300',
    "[x for x in range(10**6) for y in range(10**6)]",
    "(" * 90 + "1" + ")" * 90,
    "None",
    "{}",
    "[]",
    "lambda: None",
    "open('/etc/passwd').read()",
    "__import__('os').system('touch canary')",
]
HOSTILE_KWARGS = [
    "retries={}",
    "retry_count={}",
    "schedule={}",
    "start_date={}",
    "task_id={}",
    "dag_id={}",
    "name={}",
    "params={{'_x': {}}}",
    "bash_command={}",
    "parameters=dict(x={})",
    "conf={}",
    "env={}",
    "op_kwargs={}",
    "retry_delay={}",
]


def _m_statement(rng: random.Random, text: str, xml: bool) -> str:
    """A new line ``x = <hostile expression>`` where a statement may start."""
    if xml:
        return _m_xml_text(rng, text, xml)
    lines = _lines(text)
    i = rng.randrange(len(lines) + 1)
    nxt = lines[i] if i < len(lines) else ""
    indent = nxt[: len(nxt) - len(nxt.lstrip())] if nxt.strip() else ""
    lines.insert(i, f"{indent}wfconv_fuzz = {rng.choice(HOSTILE_EXPRESSIONS)}")
    return "\n".join(lines)


# A call whose first argument is a keyword (a keyword added in front keeps
# it valid Python); not a ``def``.
_CALL = re.compile(r"(?<!def )\b[A-Za-z_]\w*\((?=\s*[A-Za-z_]\w*\s*=[^=])")


def _m_kwarg(rng: random.Random, text: str, xml: bool) -> str:
    """A hostile keyword argument added to a call (``retries=2**64``)."""
    if xml:
        return _m_xml_attr(rng, text, xml)
    found = list(_CALL.finditer(text))
    if not found:
        return _m_statement(rng, text, xml)
    m = rng.choice(found)
    kw = rng.choice(HOSTILE_KWARGS).format(rng.choice(HOSTILE_EXPRESSIONS))
    return text[: m.end()] + kw + ", " + text[m.end() :]


def _xml_escape(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_XML_TEXT = re.compile(r">([^<>]+)<")
_XML_ATTR = re.compile(r'(\s[\w:-]+=")([^"]*)(")')


def _m_xml_text(rng: random.Random, text: str, xml: bool) -> str:
    found = list(_XML_TEXT.finditer(text))
    if not found:
        return _m_insert(rng, text, xml)
    m = rng.choice(found)
    value = _xml_escape(rng.choice(HOSTILE + HOSTILE_EXPRESSIONS).replace("\x00", ""))
    return text[: m.start(1)] + value + text[m.end(1) :]


def _m_xml_attr(rng: random.Random, text: str, xml: bool) -> str:
    found = list(_XML_ATTR.finditer(text))
    if not found:
        return _m_xml_text(rng, text, xml)
    m = rng.choice(found)
    value = _xml_escape(rng.choice(HOSTILE + HOSTILE_EXPRESSIONS).replace("\x00", ""))
    return text[: m.start(2)] + value + text[m.end(2) :]


# Operators with weights: most keep the file readable (the readers' deep
# paths are reached), some break it (their error messages are checked).
MUTATORS = [
    (_m_statement, 4),
    (_m_kwarg, 4),
    (_m_string, 3),
    (_m_number, 3),
    (_m_duplicate_line, 2),
    (_m_delete_lines, 1),
    (_m_swap_lines, 1),
    (_m_indent, 1),
    (_m_insert, 1),
    (_m_truncate, 0.5),
    (_m_flip, 0.5),
]


def mutate(text: str, rng: random.Random, xml: bool) -> tuple[bytes, list[str]]:
    """One to three operators on ``text``; XML is sometimes re-encoded as
    UTF-16, and a byte is sometimes made invalid UTF-8. (bytes, operator names)."""
    names = []
    ops, weights = zip(*MUTATORS, strict=True)
    for _ in range(rng.randint(1, 3)):
        op = rng.choices(ops, weights)[0]
        names.append(op.__name__[3:])
        text = op(rng, text or "\n", xml)
    data = text.encode("utf-8", "surrogatepass")
    if xml and rng.random() < 0.08:
        names.append("utf16")
        data = text.encode("utf-16", "surrogatepass")
    elif rng.random() < 0.03:
        names.append("bad_utf8")
        i = rng.randrange(len(data) + 1)
        data = data[:i] + b"\xff\xfe" + data[i:]
    return data, names


@dataclass
class Case:
    index: int
    seed: Seed
    operators: list[str]
    target: str


def make_input(
    index: int, all_seeds: list[Seed], base_seed: int, folder: Path
) -> tuple[Case, Path]:
    """Write input ``index`` under ``folder``; (case, path to give wfconv)."""
    rng = random.Random(f"{base_seed}:{index}")
    seed = rng.choice(all_seeds)
    text = seed.main.read_text(encoding="utf-8", errors="surrogateescape")
    data, ops = mutate(text, rng, seed.main.suffix == ".xml")
    target = rng.choice(TARGETS)
    here = folder / f"case{index:05d}"
    if seed.path.is_dir():
        dest = here / seed.path.name
        shutil.copytree(seed.path, dest)
        (dest / seed.main.relative_to(seed.path)).write_bytes(data)
    else:
        here.mkdir(parents=True)
        dest = here / seed.path.name
        dest.write_bytes(data)
    return Case(index, seed, ops, target), dest


# -- running ---------------------------------------------------------------------

INTERNAL = re.compile(r"internal error|Traceback \(most recent call last\)")


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def commands(path: Path, target: str, out: Path) -> list[list[str]]:
    return [
        ["parse", str(path)],
        ["convert", str(path), "--to", target, "-o", str(out)],
        ["audit", str(path), "-j", "0", "--no-cache", "--fail-on", "never"],
    ]


def run_one(args: list[str]) -> dict:
    """One wfconv command in this process: exit code, internal error?, seconds, peak MB."""
    from click.testing import CliRunner

    from wfconv.cli import main

    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2
        runner = CliRunner()
    _reset_peak()
    began, cpu = time.perf_counter(), time.process_time()
    result = runner.invoke(main, args, catch_exceptions=True)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    text = (result.stdout or "") + (result.stderr or "")
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    first = next((ln for ln in (result.stderr or "").splitlines() if ln.strip()), "")
    return {
        "command": args[0],
        "exit": result.exit_code,
        "internal": bool(escaped or INTERNAL.search(text)),
        "seconds": round(seconds, 3),
        "cpu_s": round(cpu, 3),
        "peak_mb": round(_peak_mb(), 1),
        "message": (repr(result.exception) if escaped else _first_error(text))[:300],
        # exit 2: does the message start with the input's path (and a line)?
        "located": first.startswith(args[1]) if result.exit_code == 2 else None,
        "has_line": bool(re.match(r"[^:]+:\d+: ", first)) if result.exit_code == 2 else None,
        "first": first[:200] if result.exit_code == 2 else "",
    }


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if "internal error" in line or "Traceback" in line:
            return line
    return ""


def worker() -> None:
    """Read jobs (JSON lines) on stdin; answer one JSON line per job."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # A mutated Luigi module may loop forever at import: the import child is
    # stopped after WFCONV_LUIGI_TIMEOUT seconds (20 by default, 5 here, so a
    # run stays within the campaign's 10 s goal; the bound is what is tested).
    os.environ.setdefault("WFCONV_LUIGI_TIMEOUT", "5")
    from wfconv.cli import main  # noqa: F401  (import once, not in the first run)

    for line in sys.stdin:
        job = json.loads(line)
        out = Path(job["out"])
        results = [run_one(args) for args in commands(Path(job["path"]), job["target"], out)]
        shutil.rmtree(out, ignore_errors=True)
        print(json.dumps(results), flush=True)


class Worker:
    def __init__(self, memory_mb: int):
        from wfconv import proc

        self.memory_mb = memory_mb
        self.child = proc.start(
            [sys.executable, str(Path(__file__).resolve()), "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            memory_mb=memory_mb,
            cwd=tempfile.gettempdir(),
        )

    def ask(self, job: dict, timeout: float) -> list[dict] | None:
        """The job's results, or None when the worker did not answer in time."""
        import selectors

        popen = self.child.popen
        popen.stdin.write((json.dumps(job) + "\n").encode())
        popen.stdin.flush()
        sel = selectors.DefaultSelector()
        sel.register(popen.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            return None
        line = popen.stdout.readline()
        return json.loads(line) if line else None

    def stop(self) -> None:
        self.child.stop()


def campaign(n: int, base_seed: int, jobs: int, timeout: float, memory_mb: int, keep: Path | None):
    all_seeds = seeds()
    tmp = Path(tempfile.mkdtemp(prefix="wfconv-fuzz-"))
    workers = [Worker(memory_mb) for _ in range(jobs)]
    stats = {
        "runs": 0,
        "internal": 0,
        "slow": 0,
        "slow_cpu": 0,
        "big": 0,
        "killed": 0,
        "peak_mb": 0.0,
        "max_s": 0.0,
        "max_cpu_s": 0.0,
        "exit2": 0,
        "exit2_no_path": 0,
        "exit2_line": 0,
    }
    exits: dict[int, int] = {}
    failures: list[dict] = []
    began = time.perf_counter()
    try:
        pending = list(range(n))
        import concurrent.futures as cf

        def job(w: Worker, i: int) -> tuple[int, Case, list[dict] | None]:
            case, path = make_input(i, all_seeds, base_seed, tmp)
            answer = w.ask(
                {"path": str(path), "target": case.target, "out": str(tmp / f"out{i}")}, timeout
            )
            return i, case, answer

        with cf.ThreadPoolExecutor(jobs) as pool:
            free = list(workers)
            running: dict[cf.Future, Worker] = {}
            while pending or running:
                while free and pending:
                    w = free.pop()
                    running[pool.submit(job, w, pending.pop(0))] = w
                done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    w = running.pop(fut)
                    i, case, answer = fut.result()
                    if answer is None:  # too slow (or died): a fresh worker
                        stats["killed"] += 1
                        stats["slow"] += 1
                        stats["runs"] += 3
                        failures.append(
                            _failure(
                                case, {"command": "*", "message": f"no answer in {timeout:g} s"}
                            )
                        )
                        w.stop()
                        w = Worker(memory_mb)
                        workers.append(w)
                    else:
                        for r in answer:
                            stats["runs"] += 1
                            exits[r["exit"]] = exits.get(r["exit"], 0) + 1
                            stats["peak_mb"] = max(stats["peak_mb"], r["peak_mb"])
                            bad = []
                            if r["internal"]:
                                stats["internal"] += 1
                                bad.append("internal error")
                            if r["exit"] == 2:
                                stats["exit2"] += 1
                                stats["exit2_line"] += bool(r["has_line"])
                                if not r["located"]:
                                    stats["exit2_no_path"] += 1
                                    bad.append("exit 2 without the input's path: " + r["first"])
                            stats["max_s"] = max(stats["max_s"], r["seconds"])
                            stats["max_cpu_s"] = max(stats["max_cpu_s"], r["cpu_s"])
                            if r["seconds"] > 10:
                                stats["slow"] += 1
                                bad.append(f"{r['seconds']:.1f} s ({r['cpu_s']:.1f} s CPU)")
                            if r["cpu_s"] > 10:
                                stats["slow_cpu"] += 1
                            if r["peak_mb"] > 500:
                                stats["big"] += 1
                                bad.append(f"{r['peak_mb']:.0f} MB")
                            if bad:
                                failures.append(_failure(case, r, bad))
                    if keep is not None and failures and failures[-1]["index"] == i:
                        shutil.copytree(
                            tmp / f"case{i:05d}", keep / f"case{i:05d}", dirs_exist_ok=True
                        )
                    shutil.rmtree(tmp / f"case{i:05d}", ignore_errors=True)
                    free.append(w)
                    if (stats["runs"] // 3) % 250 == 0:
                        print(f"  {stats['runs'] // 3}/{n} inputs ...", file=sys.stderr, flush=True)
    finally:
        for w in workers:
            w.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    stats["seconds"] = round(time.perf_counter() - began, 1)
    return stats, exits, failures


def _failure(case: Case, r: dict, why: list[str] | None = None) -> dict:
    return {
        "index": case.index,
        "seed": str(case.seed.path.relative_to(ROOT)),
        "operators": case.operators,
        "target": case.target,
        "command": r.get("command"),
        "why": why or [r.get("message", "")],
        "message": r.get("message", ""),
    }


def main() -> None:
    if "--worker" in sys.argv:
        worker()
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--timeout", type=float, default=60.0, help="seconds one input may take (3 runs)"
    )
    ap.add_argument("--memory-mb", type=int, default=2048, help="address-space cap of a worker")
    ap.add_argument("--keep", type=Path, help="copy failing inputs here")
    args = ap.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    print(
        f"{len(seeds())} seeds, {args.inputs} inputs (seed {args.seed}), 3 runs each, {args.jobs} workers"
    )
    stats, exits, failures = campaign(
        args.inputs, args.seed, args.jobs, args.timeout, args.memory_mb, args.keep
    )
    print(
        f"runs: {stats['runs']} in {stats['seconds']} s; exit codes: {dict(sorted(exits.items()))}"
    )
    print(f"internal errors: {stats['internal']}")
    print(
        f"exit-2 runs: {stats['exit2']}; without the input's path: {stats['exit2_no_path']}; "
        f"with a line number: {stats['exit2_line']}"
    )
    print(
        f"runs over 10 s: {stats['slow']} wall, {stats['slow_cpu']} CPU (longest: "
        f"{stats['max_s']:.1f} s wall, {stats['max_cpu_s']:.1f} s CPU; workers killed after "
        f"{args.timeout:g} s: {stats['killed']}; load average {os.getloadavg()[0]:.1f})"
    )
    print(f"runs over 500 MB: {stats['big']}; highest peak: {stats['peak_mb']:.0f} MB")
    for f in failures[:50]:
        print(
            f"  case {f['index']} ({f['seed']}, {'+'.join(f['operators'])}, {f['command']} -> {f['target']}): "
            f"{'; '.join(f['why'])} {f['message']}"
        )


if __name__ == "__main__":
    main()
