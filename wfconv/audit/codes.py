"""The audit's finding codes: one table, the single source of truth.

``docs/audit.md`` holds the same table (``python -m wfconv.audit.codes`` prints
it; a test keeps the two equal). Codes are stable: a code's meaning never
changes, retired codes are not reused.

Frontend diagnostics (the fidelity ledger of each workflow) are findings too.
Those that mean something the audit reports under its own code are renamed by
``DIAGNOSTIC_MAP`` (the original code is kept as the finding's ``origin``);
every other diagnostic keeps its frontend code and severity (AF102, OZ…, LG…,
PF…), so ``--select``/``--ignore`` work on both namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Code:
    severity: str
    title: str
    why: str
    fix: str
    area: str


def _c(area: str, severity: str, title: str, why: str, fix: str) -> Code:
    return Code(severity, title, why, fix, area)


CODES: dict[str, Code] = {
    # -- structure -----------------------------------------------------------
    "AU001": _c(
        "structure",
        "error",
        "cycle between tasks (the path is in the message)",
        "the engine refuses the workflow (Airflow: DAG import error; Oozie: submission error)",
        "remove one dependency of the printed path",
    ),
    "AU002": _c(
        "structure",
        "error",
        "two tasks share one id",
        "Airflow raises DuplicateTaskIdFound at import; other engines silently merge or drop one",
        "rename one task",
    ),
    "AU003": _c(
        "structure",
        "error",
        "dependency on a task that is not defined",
        "the workflow fails to load, or the dependency is silently lost",
        "define the task or remove the dependency (check for typos)",
    ),
    "AU004": _c(
        "structure",
        "warning",
        "isolated task in a workflow of several tasks (no upstream, no downstream)",
        "usually a forgotten `>>`: the task runs at the start of every run, in parallel with everything",
        "add the missing dependency, or move the task to its own workflow",
    ),
    "AU005": _c(
        "structure",
        "warning",
        "Oozie node that no transition from `start` reaches",
        "dead XML: the node never runs, and readers believe it does",
        "connect it with an ok/error/case transition or delete it",
    ),
    "AU006": _c(
        "structure",
        "error",
        "workflow id defined more than once (across files, or twice in one file)",
        "Airflow keeps one DAG per dag_id (which one depends on parse order); Prefect/Luigi merge the runs of both",
        "give every workflow a unique id",
    ),
    "AU007": _c(
        "structure",
        "error",
        "invalid reference in the workflow (unknown trigger rule, group or action kind)",
        "the engine rejects the task at load time",
        "use a trigger rule of the engine's version (Airflow 3 removed `dummy`, `none_failed_or_skipped`)",
    ),
    # -- scheduling ----------------------------------------------------------
    "AU101": _c(
        "scheduling",
        "warning",
        "scheduled Airflow workflow without start_date",
        "Airflow 2 cannot schedule tasks without a start_date; the first run depends on defaults",
        "set a fixed start_date (a literal `pendulum.datetime(...)`)",
    ),
    "AU102": _c(
        "scheduling",
        "warning",
        "dynamic start_date (`datetime.now()`, `days_ago(n)`, …)",
        "the start moves at every parse: runs are skipped or never created, catchup is unpredictable",
        "use a fixed date",
    ),
    "AU103": _c(
        "scheduling",
        "warning",
        "catchup on with a start far in the past (the message gives the number of runs)",
        "the first scheduler pass creates every missed run at once and floods workers and pools",
        "set catchup=False, move start_date forward, or backfill deliberately",
    ),
    "AU104": _c(
        "scheduling",
        "error",
        "schedule that never fires (impossible date such as `0 0 31 2 *`, or no tick between start and end)",
        "the workflow silently never runs",
        "fix the cron expression or the start/end dates",
    ),
    "AU105": _c(
        "scheduling",
        "error",
        "end_date before start_date",
        "no run can ever be created",
        "swap or fix the dates",
    ),
    "AU106": _c(
        "scheduling",
        "error",
        "schedule expression the cron parser rejects",
        "the workflow fails to load",
        "write a valid 5-field cron expression or a preset",
    ),
    # -- Airflow 3 removals -------------------------------------------------
    "AU201": _c(
        "airflow3",
        "warning",
        "`schedule_interval=` used (removed in Airflow 3)",
        "the DAG fails to import on Airflow 3",
        "use `schedule=`",
    ),
    "AU202": _c(
        "airflow3",
        "warning",
        "`DummyOperator` used (removed in Airflow 3)",
        "the DAG fails to import on Airflow 3",
        "use `EmptyOperator`",
    ),
    "AU203": _c(
        "airflow3",
        "warning",
        "import path removed or moved in Airflow 3 (the message names the replacement)",
        "the DAG fails to import on Airflow 3",
        "import from the module named in the message (`airflow.sdk`, `airflow.providers.standard…`)",
    ),
    "AU204": _c(
        "airflow3",
        "warning",
        "`SubDagOperator` used (removed in Airflow 3)",
        "the DAG fails to import on Airflow 3; SubDAGs also deadlock pools on Airflow 2",
        "use a TaskGroup, or TriggerDagRunOperator for a separate DAG",
    ),
    "AU205": _c(
        "airflow3",
        "warning",
        "template variable removed in Airflow 3 (`execution_date`, `prev_ds`, `next_ds`, `yesterday_ds`, `tomorrow_ds`, `conf`, …)",
        "rendering fails at run time on Airflow 3 (UndefinedError), long after the DAG imported fine",
        "use `logical_date`, `data_interval_start/end`, `prev_data_interval_start_success`, `macros.ds_add(ds, ±1)`",
    ),
    "AU206": _c(
        "airflow3",
        "warning",
        "trigger rule removed in Airflow 3 (`dummy`, `none_failed_or_skipped`)",
        "the DAG fails to import on Airflow 3",
        "use `always` / `none_failed_min_one_success`",
    ),
    # -- Airflow run-time gotchas -------------------------------------------
    "AU301": _c(
        "gotcha",
        "error",
        "`bash_command` ending in `.sh`/`.bash` that is not a template file (no trailing space)",
        "Airflow loads a command ending in `.sh`/`.bash` as a Jinja template file: `bash /opt/run.sh` fails with TemplateNotFound at run time",
        'add a trailing space: `bash_command="bash /opt/run.sh "`',
    ),
    "AU302": _c(
        "gotcha",
        "warning",
        "template file (`bash_command` ending in `.sh`/`.bash`, `sql` ending in `.sql`/`.hql`) that is not in the DAG folder nor in a declared `template_searchpath`",
        "TemplateNotFound at run time unless the file is deployed somewhere the DAG does not say",
        "declare the folder with `template_searchpath=` on the DAG, or move the script next to the DAG file",
    ),
    "AU303": _c(
        "gotcha",
        "warning",
        "BashOperator `env=` without `append_env=True`",
        "`env` replaces the worker's whole environment: the command runs without PATH, HOME, "
        "credentials or proxy settings, and fails only at run time",
        "add `append_env=True` (Airflow 2.3+) unless the command must see nothing but `env`",
    ),
    # -- reliability ---------------------------------------------------------
    "AU401": _c(
        "reliability",
        "warning",
        "sensor without a timeout shorter than the default 7 days",
        "it waits up to 7 days (Airflow's default) before failing, hiding an upstream outage for a week",
        "set `timeout=` to the longest wait that still makes sense",
    ),
    "AU402": _c(
        "reliability",
        "warning",
        "sensor in poke mode with a timeout over one hour",
        "a poking sensor holds a worker slot for the whole wait; a few of them starve the pool",
        'use `mode="reschedule"` (or a deferrable sensor), or shorten the timeout',
    ),
    "AU403": _c(
        "reliability",
        "warning",
        "Airflow task without retries in a DAG that uses retries elsewhere",
        "usually an override or a task added later: one transient failure fails the whole run",
        "give the task retries (or say why not in a comment and ignore this code)",
    ),
    "AU404": _c(
        "reliability",
        "warning",
        "trigger rule that can never fire (e.g. `one_failed` whose upstreams cannot fail)",
        "the task is skipped in every run: the cleanup/alert it implements never happens",
        "attach the task to upstreams that can fail/skip, or use another trigger rule",
    ),
    "AU405": _c(
        "reliability",
        "error",
        "branch target that is not a task of the workflow",
        "Airflow fails the branch task at run time (invalid task ids); Oozie rejects the decision",
        "return/route to existing task ids",
    ),
    "AU406": _c(
        "reliability",
        "warning",
        "`depends_on_past` with catchup on",
        "catch-up runs execute strictly one after the other, and one failure blocks every later run",
        "turn catchup off, or drop depends_on_past, or backfill in bounded ranges",
    ),
    "AU407": _c(
        "reliability",
        "warning",
        "heavy top-level code: I/O every time the file is parsed (file, directory, network, cloud API, database, command, `Variable.get`)",
        "the scheduler executes top-level code at every parse (every 30 s per file): slow parses, load on databases and APIs",
        "move the work into a task or use templates (`{{ var.value.x }}`)",
    ),
    "AU408": _c(
        "reliability",
        "info",
        "failure/skip trigger rule on a task without upstreams",
        "a task without upstreams always runs: `one_failed`/`all_failed`/`all_skipped` has no effect there",
        "add the upstreams the rule is meant to watch",
    ),
    "AU409": _c(
        "reliability",
        "warning",
        "branch target that exists but is not a direct downstream of the branch",
        "Airflow only follows direct downstreams: every direct downstream is skipped and the named task runs by its own rule",
        "make the target a direct downstream of the branch task",
    ),
    # -- parse problems ------------------------------------------------------
    "AU901": _c(
        "parse",
        "error",
        "file could not be parsed (syntax error, invalid XML/JSON, refused input)",
        "the engine cannot load it either: the workflow is missing in production",
        "fix the error at the given line",
    ),
    "AU902": _c(
        "parse",
        "error",
        "file could not be read (permissions, not UTF-8)",
        "nothing in it was checked",
        "fix permissions or encoding",
    ),
    "AU903": _c(
        "parse",
        "error",
        "reading the file took longer than the per-file timeout",
        "the parser was stopped; nothing in the file was checked (and the engine may struggle too)",
        "look at the file for pathological constructs, or raise `--timeout`",
    ),
    "AU904": _c(
        "parse",
        "error",
        "wfconv crashed on this file (internal error)",
        "nothing in the file was checked; this is a wfconv bug",
        "report it with the file; the message names the exception",
    ),
    "AU905": _c(
        "parse",
        "warning",
        "workflow file (imports an engine) in which no workflow could be found statically",
        "the workflow may be built dynamically (factories, loops over run-time values) and is invisible to static tools",
        "build DAGs from literal values, or ignore this code for factory modules",
    ),
    "AU906": _c(
        "parse",
        "error",
        "reading the file needs an optional part of wfconv that is not installed (the message names it)",
        "nothing in the file was checked",
        "install the extra the message names (`pip install 'wfconv[luigi]'`), or ignore this code",
    ),
}

# Frontend/validation diagnostic code -> audit code. Unlisted codes pass through.
DIAGNOSTIC_MAP: dict[str, str] = {
    "IR001": "AU002",
    "IR002": "AU003",
    "IR003": "AU007",
    "IR004": "AU001",
    "IR005": "AU007",
    "IR006": "AU006",
    "IR007": "AU007",
    "AF103": "AU102",
    "AF201": "AU201",
    "AF202": "AU202",
    "AF203": "AU203",
    "AF204": "AU204",
    "AF205": "AU205",
    "AF210": "AU206",
    "AF305": "AU006",
    "AF302": "AU905",
    "LG010": "AU905",
    "PF110": "AU905",
}

# AF101 ("a value needs run time") is heavy top-level code (AU407) only when what
# it needs is I/O done at every parse; the reasons are the frontend's own words
# (wfconv.frontends.pyeval.RUNTIME_REASONS, and the Airflow frontend's Variable
# note; a test keeps this list in step). Other AF101s (the clock, an undefined
# name, an unknown helper) pass through as AF101.
HEAVY_IO_REASONS: tuple[str, ...] = (
    "reads a file",
    "reads standard input",
    "lists a directory",
    "lists files",
    "looks at the file system",
    "reads the file system",
    "reads YAML",
    "reads a configuration file",
    "makes a network call",
    "calls a cloud API",
    "runs a command",
    "queries a database",
    "reads Airflow Variable",
)


def audit_code(code: str, message: str) -> str:
    """The code a frontend diagnostic is reported under."""
    if code == "AF101":
        return "AU407" if any(r in message for r in HEAVY_IO_REASONS) else code
    return DIAGNOSTIC_MAP.get(code, code)


# Diagnostics the audit drops: they only restate how the audit reads files
# (LG001: "read statically, the module was not imported" - the audit never imports)
# or a check of its own (IR009, an invalid cron: AU106 says it).
SILENCED: frozenset[str] = frozenset({"LG001", "IR009"})

AREAS = {
    "structure": "Structure",
    "scheduling": "Scheduling",
    "airflow3": "Airflow 3 removals",
    "gotcha": "Airflow run-time gotchas",
    "reliability": "Reliability",
    "parse": "Parse problems",
}


def severity_of(code: str, fallback: str = "warning") -> str:
    c = CODES.get(code)
    return c.severity if c else fallback


def markdown_table() -> str:
    """The table of docs/audit.md, generated so that code and docs agree."""
    lines = [
        "| code | severity | what | why it matters | how to fix |",
        "|---|---|---|---|---|",
    ]
    for area, title in AREAS.items():
        lines.append(f"| **{title}** | | | | |")
        for code, c in CODES.items():
            if c.area == area:
                cells = [code, c.severity, c.title, c.why, c.fix]
                lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    mapped = ", ".join(f"{k}→{v}" for k, v in DIAGNOSTIC_MAP.items())
    lines.append("")
    lines.append(
        f"Frontend diagnostics renamed to audit codes: {mapped}; AF101→AU407 when the value needs I/O at "
        f"parse time ({', '.join(HEAVY_IO_REASONS)}), other AF101s (the clock, an undefined name, an "
        "unknown helper function) stay AF101."
    )
    lines.append("")
    lines.append(
        f"Frontend diagnostics dropped (they restate that the audit reads statically, or a finding of its own): {', '.join(sorted(SILENCED))}."
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - documentation helper
    print(markdown_table(), end="")
