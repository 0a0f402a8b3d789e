"""IR -> Oozie: ``workflow.xml`` (schema ``uri:oozie:workflow:1.0``),
``coordinator.xml`` when the workflow is scheduled, and ``job.properties``.

Why it looks the way it does
- Oozie only runs properly nested fork/join graphs, so the task DAG goes
  through ``seriesparallel.decompose``; every ordering it had to add is a
  ``BO101`` ledger entry naming the tasks.
- Oozie's control flow is transitions, not trigger rules: ``one_failed``
  handlers and ``error`` edges become ``<error to=...>`` transitions, ``fail``
  tasks become ``<kill>`` nodes, branch tasks become ``<decision>`` nodes
  whose paths converge on the next node (Oozie's own "join after a decision",
  which is what ``none_failed_min_one_success`` means in the IR).
- Coordinator EL functions are not available inside workflow.xml, so run-time
  dates are passed from the coordinator as workflow properties (``${ds}``),
  whose values are ``${coord:formatTime(coord:nominalTime(), ...)}``
  (docs/semantics.md R3: nominal time = Airflow 3 ``logical_date``).
- XML is built with lxml element trees (never by string concatenation);
  node names are mapped with ``identifier_map(style="oozie")`` and the
  mapping is kept in a comment at the top of workflow.xml.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree

from wfconv.backends.common import (
    ERROR_RULES,
    Emitted,
    env_mapping,
    error_paths,
    identifier_map,
    loss,
)
from wfconv.backends.routing import control_names, dissolve_routing
from wfconv.backends.seriesparallel import Leaf, Node, Parallel, Series, decompose
from wfconv.ir import literal
from wfconv.ir.model import TRIGGER, Diagnostic, Task, Workflow
from wfconv.runtime.schedule import effective_catchup, run_after_bounds

TARGET = "oozie"

WF_NS = "uri:oozie:workflow:1.0"
COORD_NS = "uri:oozie:coordinator:0.5"
ACTION_NS = {
    "shell": "uri:oozie:shell-action:1.0",
    "email": "uri:oozie:email-action:0.2",
    "hive": "uri:oozie:hive-action:1.0",
    "hive2": "uri:oozie:hive2-action:1.0",
    "spark": "uri:oozie:spark-action:1.0",
    "sqoop": "uri:oozie:sqoop-action:1.0",
    "distcp": "uri:oozie:distcp-action:1.0",
    "ssh": "uri:oozie:ssh-action:0.2",
    "git": "uri:oozie:git-action:1.0",
}

# Stable ledger codes (docs/codes/backends-luigi-oozie.md).
CODES: dict[str, str] = {
    "BO001": "task id is not an Oozie node name; mapped (mapping kept in a comment)",
    "BO101": "fork/join nesting added an ordering the DAG did not have (parallelism lost)",
    "BO102": "an edge implied by a longer path is not written (transitions keep only the path)",
    "BO210": "trigger rule expressed by transitions; read back as another rule of the same meaning",
    "BO201": "trigger rule has no Oozie transition form; approximated",
    "BO202": "node reached after a decision runs on every decision path (IR would skip it)",
    "BO203": "task has several error targets; Oozie keeps one error transition",
    "BO204": "error handler flows back into the main path; its exit goes to the end node",
    "BO207": "an error path leaves a fork; Oozie's fork/join validation is turned off for the job",
    "BO205": "branch without cases: decision reads the choice from a job property",
    "BO206": "branch case names no task reachable from the decision; goes to end/join",
    "BO301": "retries: Oozie retries only whitelisted error codes (not a shell exit code)",
    "BO302": "retry delay rounded up to whole minutes",
    "BO303": "retries above Oozie's system maximum (3) are capped by the server",
    "BO304": "per-attempt delay list / backoff cap not expressible; first delay used",
    "BO305": "task timeout has no Oozie action counterpart; dropped",
    "BO401": "action kind has no Oozie action; approximated by a shell action",
    "BO402": "python callable run through a shell action",
    "BO403": "sensor approximated by a polling shell action",
    "BO404": "action cannot run in Oozie; emitted as a shell action that fails",
    "BO405": "empty task emitted as a no-op fs action",
    "BO407": "a file sensor at the start waits as a coordinator input event (dataset instance)",
    "BO408": "env replaces the whole environment in the source; Oozie's env-var adds to it",
    "BO409": "sensor retries not written: a timed-out sensor is never retried",
    "BO501": "template expression has no Oozie EL counterpart; kept verbatim",
    "BO502": "run-time date passed from the coordinator as a workflow property",
    "BO503": "cron frequency: interval-start dates approximated by the nominal time",
    "BO505": "trigger data interval rounded up to whole minutes",
    "BO208": "default kill node added for unhandled errors (marked for wfconv's Oozie reader)",
    "BO209": "converging decision paths are read back as trigger rule one_success",
    "BO601": "schedule kind has no coordinator form; no coordinator emitted",
    "BO602": "coordinator requires an end; a far-future end was written",
    "BO603": "coordinator requires a start; job property 'start' must be set",
    "BO604": "catchup=False approximated by execution LAST_ONLY",
    "BO605": "interval rounded up to whole minutes",
    "BO606": "cron day-of-week translated to Oozie's 1-7 (Sunday=1)",
    "BO607": "no longer emitted: an unset catchup follows the source's time model (BO604)",
    "BO608": "typed parameter value becomes a string (Oozie properties are strings)",
    "BO609": "start/end dates of a workflow without a coordinator are dropped",
    "BO610": "start_date before 1970: the coordinator starts at 1970-01-01",
    "BO701": "construct dropped (no Oozie counterpart)",
    "BO702": "groups are flattened (Oozie has no task groups)",
    "BO703": "control characters XML 1.0 cannot hold replaced by U+FFFD",
}

_RESERVED = ("start", "end")
_FAR_END = "2099-12-31T00:00Z"
_ERR_MESSAGE = "Action failed, error message[${wf:errorMessage(wf:lastErrorNode())}]"
# Rules whose IR meaning coincides with Oozie's (there are no skips in Oozie
# except untaken decision paths, and converging paths behave like these).
_NATIVE_RULES = ("all_success", "none_failed", "none_failed_min_one_success", "none_skipped")
# Rules that also run when the upstream failed: upstream error -> this task.
_DONE_RULES = (
    "all_done",
    "one_done",
    "always",
    "all_done_min_one_success",
    "all_done_setup_success",
)

# Neutral template names -> (property name, Java date format, anchor). The IR
# follows Airflow's data-interval model (docs/architecture.md §7): ``ds`` and friends are the
# interval start, one period before the coordinator's nominal time, which is
# the interval end (docs/semantics.md R3).
DATE_TEMPLATES: dict[str, tuple[str, str, str]] = {
    "ds": ("ds", "yyyy-MM-dd", "start"),
    "ds_nodash": ("ds_nodash", "yyyyMMdd", "start"),
    "ts": ("ts", "yyyy-MM-dd'T'HH:mm:ssXXX", "start"),
    "ts_nodash": ("ts_nodash", "yyyyMMdd'T'HHmmss", "start"),
    "logical_date": ("logical_date", "yyyy-MM-dd'T'HH:mm:ssXXX", "start"),
    "execution_date": ("execution_date", "yyyy-MM-dd'T'HH:mm:ssXXX", "start"),
    "data_interval_start": ("data_interval_start", "yyyy-MM-dd'T'HH:mm:ssXXX", "start"),
    "data_interval_end": ("data_interval_end", "yyyy-MM-dd'T'HH:mm:ssXXX", "end"),
}
# X.strftime('fmt') and (X + macros.timedelta(days=n)).strftime('fmt')
_STRFTIME = re.compile(
    r"\(?\s*(?P<name>data_interval_end|data_interval_start|logical_date)\s*"
    r"(?:\+\s*macros\.timedelta\(\s*(?P<unit>days|hours|minutes)\s*=\s*(?P<n>-?\d+)\s*\)\s*)?"
    r"\)?\.strftime\(\s*(?P<q>['\"])(?P<fmt>.*?)(?P=q)\s*\)"
)
_EL_UNIT = {"days": "DAY", "hours": "HOUR", "minutes": "MINUTE"}
_STRF_JAVA = {
    "Y": "yyyy",
    "y": "yy",
    "m": "MM",
    "d": "dd",
    "H": "HH",
    "M": "mm",
    "S": "ss",
    "j": "DDD",
    "b": "MMM",
    "B": "MMMM",
    "a": "EEE",
    "A": "EEEE",
    "I": "hh",
    "p": "a",
    "z": "Z",
    "%": "%",
}


def strftime_to_java(fmt: str) -> str | None:
    """``%Y-%m-%d`` -> ``yyyy-MM-dd`` (letters quoted); None if a directive
    has no SimpleDateFormat counterpart."""
    out: list[str] = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            if i + 1 >= len(fmt) or fmt[i + 1] not in _STRF_JAVA:
                return None
            out.append(_STRF_JAVA[fmt[i + 1]])
            i += 2
            continue
        if ch.isalpha():
            out.append("'" + ch + "'")
        elif ch == "'":
            out.append("''")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


_EL_DIRECT = {"run_id": "${wf:id()}", "dag.dag_id": "${wf:name()}", "dag_run.run_id": "${wf:id()}"}
_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.S)
_PARAM = re.compile(r"params\.([A-Za-z_][A-Za-z0-9_]*)")


# ---------------------------------------------------------------------------
# templates -> EL


@dataclass
class _Ctx:
    w: Workflow
    names: dict[str, str]
    diags: list[Diagnostic] = field(default_factory=list)
    # property -> (Java format, anchor start|end, offset, offset unit)
    dates_used: dict[str, tuple[str, str, int, str]] = field(default_factory=dict)
    params_used: set[str] = field(default_factory=set)
    param_names: dict[str, str] = field(default_factory=dict)
    error_to_end: set[str] = field(default_factory=set)  # tasks whose error goes to <end>
    dissolved: dict[str, list[str]] = field(default_factory=dict)  # routing task -> its successors
    # original fork/join name -> (kind, real tasks right after it), see routing.control_names
    controls: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    implied: list[tuple[str, str]] = field(default_factory=list)  # edges not written (BO102)

    def warn(self, code, message, task=None, severity="warning", target=None):
        self.diags.append(
            loss(code, message, task=task, severity=severity, target=target, source=self.w)
        )


_FORMAT_SEPARATORS = {"-": "_", "/": "s", ":": "c", " ": "_", ".": "p"}


def _format_stem(fmt: str) -> str:
    """A property-name part for a strftime format: ``%Y-%m-%d`` -> ``Y_m_d``,
    ``%Y%m%d`` -> ``Ymd``, ``%Y/%m/%d`` -> ``Ysmsd`` (letters kept, separators
    spelled), so that different formats get different names."""
    out = "".join(
        ch if ch.isalnum() else _FORMAT_SEPARATORS.get(ch, "") for ch in fmt.replace("%", "")
    )
    return out or "fmt"


def _el_string(text: str) -> str:
    """An EL string literal (Java date formats quote letters with ')."""
    if "'" not in text:
        return "'" + text.replace("\\", "\\\\") + "'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal_dollars(text: str) -> str:
    """Oozie evaluates every ``${...}``; a literal ``${`` in user text is
    written as ``${'$'}{`` (an EL string literal), so it stays literal."""
    return text.replace("${", "${'$'}{")


def _from_oozie(ctx: _Ctx, task: Task | None) -> bool:
    """Text read from Oozie keeps its ``${...}`` as EL (the frontend leaves EL
    it cannot translate verbatim); text from other engines means ``${`` literally
    (a shell variable, a Python format string)."""
    src = task.source if task is not None and task.source is not None else ctx.w.source
    return src is not None and src.engine == "oozie"


def to_el(text: str, ctx: _Ctx, task: Task | None = None) -> str:
    """Neutral templates (``{{ ... }}``) -> Oozie EL; literal text escaped."""
    if "{{" not in text:  # no template (most arguments): only the dollars
        return text if "${" not in text or _from_oozie(ctx, task) else _literal_dollars(text)
    out: list[str] = []
    pos = 0
    keep = _from_oozie(ctx, task)

    def _el_literal_dollars(part: str) -> str:
        return part if keep else _literal_dollars(part)

    for m in _TEMPLATE.finditer(text):
        out.append(_el_literal_dollars(text[pos : m.start()]))
        pos = m.end()
        expr = m.group(1).strip()
        pm = _PARAM.fullmatch(expr)
        if (text_of_literal := literal.literal_value(expr)) is not None:
            out.append(text_of_literal)  # literal text the IR escaped (wfconv.ir.literal)
        elif expr in _EL_DIRECT:
            out.append(_EL_DIRECT[expr])
        elif expr in DATE_TEMPLATES:
            prop, fmt, anchor = DATE_TEMPLATES[expr]
            ctx.dates_used[prop] = (fmt, anchor, 0, "")
            out.append("${" + prop + "}")
        elif (sm := _STRFTIME.fullmatch(expr)) and strftime_to_java(sm.group("fmt")) is not None:
            anchor = "end" if sm.group("name") == "data_interval_end" else "start"
            fmt = strftime_to_java(sm.group("fmt")) or ""
            n, unit = int(sm.group("n") or 0), _EL_UNIT.get(sm.group("unit") or "", "")
            shift = f"_{'m' if n < 0 else 'p'}{abs(n)}{unit[:1].lower()}" if n else ""
            stem = f"{sm.group('name')}{shift}_{_format_stem(sm.group('fmt'))}"
            value = (fmt, anchor, n, unit)
            prop, k = stem, 1
            while ctx.dates_used.get(prop, value) != value:  # same name, other format
                k += 1
                prop = f"{stem}_{k}"
            ctx.dates_used[prop] = value
            out.append("${" + prop + "}")
        elif pm and pm.group(1) in ctx.param_names:
            ctx.params_used.add(pm.group(1))
            out.append("${" + ctx.param_names[pm.group(1)] + "}")
        else:
            ctx.warn(
                "BO501",
                f"template {m.group(0)!r} has no Oozie EL counterpart; kept verbatim",
                task=task,
                target="literal text",
            )
            out.append(_el_literal_dollars(m.group(0)))
    out.append(_el_literal_dollars(text[pos:]))
    return "".join(out)


# ---------------------------------------------------------------------------
# XML helpers


def _q(tag: str, ns: str = WF_NS) -> str:
    return f"{{{ns}}}{tag}"


def _sub(parent, tag: str, text: str | None = None, ns: str = WF_NS, **attrs):
    attrib = {k.replace("_", "-"): v for k, v in attrs.items()} if attrs else {}
    if not parent.tag.startswith(_q("", ns)):
        # An action element from another schema declares it as its default namespace.
        el = etree.SubElement(parent, _q(tag, ns), attrib, nsmap={None: ns})
    else:
        el = etree.SubElement(parent, _q(tag, ns), attrib)
    if text is not None:
        el.text = text
    return el


# What XML 1.0 cannot hold, even as a character reference.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """XML 1.0 cannot hold most control characters even as references; they
    are replaced by U+FFFD (BO703 in the ledger, see _report_unwritable)."""
    return _NOT_XML.sub("\ufffd", text)


def _unwritable(value: Any, found: set[str], depth: int = 0) -> None:
    """Characters of ``value`` (strings inside containers too) XML cannot hold."""
    if isinstance(value, str):
        found.update(_NOT_XML.findall(value))
    elif isinstance(value, dict) and depth < 50:
        for k, v in value.items():
            _unwritable(k, found, depth + 1)
            _unwritable(v, found, depth + 1)
    elif isinstance(value, (list, tuple)) and depth < 50:
        for v in value:
            _unwritable(v, found, depth + 1)


def _report_unwritable(ctx: _Ctx, w: Workflow) -> None:
    """One BO703 per task (and one for the workflow's own text) holding
    characters XML 1.0 cannot write."""
    places: list[tuple[Task | None, Any]] = [
        (None, [w.id, w.description, w.params, w.tags]),
        *((t, [t.id, t.action.fields]) for t in w.tasks),
    ]
    for task, value in places:
        found: set[str] = set()
        _unwritable(value, found)
        if found:
            codes = ", ".join(f"U+{ord(ch):04X}" for ch in sorted(found))
            ctx.warn(
                "BO703",
                f"{codes} cannot be written in XML 1.0: replaced by U+FFFD",
                task=task,
                target="workflow.xml",
            )


def _configuration(parent, props: dict[str, str], ns: str) -> None:
    if not props:
        return
    conf = _sub(parent, "configuration", ns=ns)
    for k, v in props.items():
        p = _sub(conf, "property", ns=ns)
        _sub(p, "name", _xml_safe(str(k)), ns=ns)
        _sub(p, "value", _xml_safe(str(v)), ns=ns)


# ---------------------------------------------------------------------------
# actions


# Characters that make a command line need a shell (expansion, quoting,
# redirection, globbing, comments): such commands run as ``bash -c``.
_SHELL_META = frozenset("|&;<>()$`\\\"'*?[]#~!{}\n\t\r")


_HOLE = re.compile(r"\x00(\d+)\x00")


def _split_command(command: str) -> tuple[str, list[str]]:
    """exec + arguments when the command is a plain argv (words separated by
    single spaces, nothing a shell would interpret; templates count as plain
    text), else ``bash -c``, so that the command means what it meant."""
    holes: list[str] = []

    def hole(m: re.Match) -> str:
        holes.append(m.group(0))
        return f"\x00{len(holes) - 1}\x00"

    plain = _TEMPLATE.sub(hole, command)
    words = plain.split(" ")
    if command and all(words) and not (set(plain) & _SHELL_META):
        argv = [_HOLE.sub(lambda m: holes[int(m.group(1))], w) if "\x00" in w else w for w in words]
        return argv[0], argv[1:]
    return "bash", ["-c", command]


def _prepare(el, f: dict, ns: str, ctx: _Ctx, task: Task) -> None:
    """<prepare> (delete / mkdir before the action), as the source had it."""
    ops = [
        op
        for op in f.get("prepare") or []
        if isinstance(op, dict) and op.get("op") in ("delete", "mkdir")
    ]
    if ops:
        prep = _sub(el, "prepare", ns=ns)
        for op in ops:
            _sub(prep, op["op"], ns=ns, path=_xml_safe(to_el(str(op.get("path") or ""), ctx, task)))


def _files(el, f: dict, ns: str, ctx: _Ctx, task: Task) -> None:
    """<file>/<archive> shipped with the action."""
    for key, tag in (("files", "file"), ("archives", "archive")):
        for v in f.get(key) or []:
            _sub(el, tag, _xml_safe(to_el(str(v), ctx, task)), ns=ns)


def _props(f: dict, ctx: _Ctx, task: Task) -> dict[str, str]:
    return {str(k): to_el(str(v), ctx, task) for k, v in (f.get("properties") or {}).items()}


def _shell(
    parent,
    ctx: _Ctx,
    task: Task,
    exec_: str,
    args: list[str],
    env=None,
    capture=False,
    f: dict | None = None,
):
    ns = ACTION_NS["shell"]
    f = f or {}
    el = _sub(parent, "shell", ns=ns)
    _prepare(el, f, ns, ctx, task)
    _configuration(el, _props(f, ctx, task), ns)
    _sub(el, "exec", _xml_safe(to_el(exec_, ctx, task)), ns=ns)
    for a in args:
        _sub(el, "argument", _xml_safe(to_el(str(a), ctx, task)), ns=ns)
    for k, v in (env or {}).items():
        _sub(el, "env-var", _xml_safe(to_el(f"{k}={v}", ctx, task)), ns=ns)
    _files(el, f, ns, ctx, task)
    if capture:
        _sub(el, "capture-output", ns=ns)
    return el


def _act_shell(parent, ctx, task):
    f = task.action.fields
    command = str(f.get("command", ""))
    if f.get("exec"):
        # The source kept program and arguments apart (Oozie's own shape).
        exec_, args = str(f["exec"]), [str(a) for a in f.get("args") or []]
    else:
        exec_, args = _split_command(command)
    if env_mapping(f) and f.get("env_replace"):
        ctx.warn(
            "BO408",
            "the source runs the command with only its env variables; Oozie's env-var adds "
            "them to the launcher's environment",
            task=task,
            target="env-var",
        )
    _shell(parent, ctx, task, exec_, args, env_mapping(f), bool(f.get("capture_output")), f)


def _act_python(parent, ctx, task):
    f = task.action.fields
    module, func = f.get("module"), f.get("callable")
    if module and func:
        code = (
            f"from {module} import {func}; "
            f"{func}(*{f.get('op_args') or []!r}, **{f.get('op_kwargs') or {}!r})"
        )
        ctx.warn(
            "BO402",
            f"python callable {module}.{func} run with python3 -c in a shell action",
            task=task,
            target="shell action",
        )
        _shell(parent, ctx, task, "python3", ["-c", code])
    else:
        ctx.warn(
            "BO404",
            f"python callable {func!r} has no importable module; the shell action fails",
            task=task,
            severity="error",
            target="failing shell action",
        )
        _shell(
            parent,
            ctx,
            task,
            "bash",
            ["-c", f"echo 'wfconv: python callable {func} was not converted' >&2; exit 1"],
        )


def _act_empty(parent, ctx, task):
    ctx.warn(
        "BO405",
        "no-op emitted as an fs action without operations",
        task=task,
        severity="info",
        target="<fs/>",
    )
    _sub(parent, "fs")


def _act_email(parent, ctx, task):
    ns = ACTION_NS["email"]
    f = task.action.fields
    el = _sub(parent, "email", ns=ns)

    def addresses(key: str) -> str:
        v = f.get(key) or ""
        return ",".join(str(x) for x in v) if isinstance(v, list) else str(v)

    _sub(el, "to", _xml_safe(to_el(addresses("to"), ctx, task)), ns=ns)
    if addresses("cc"):
        _sub(el, "cc", _xml_safe(to_el(addresses("cc"), ctx, task)), ns=ns)
    if addresses("bcc"):
        ctx.warn(
            "BO701",
            "bcc recipients dropped (the email action has to and cc only)",
            task=task,
            target="email action",
        )
    _sub(el, "subject", _xml_safe(to_el(str(f.get("subject") or ""), ctx, task)), ns=ns)
    _sub(el, "body", _xml_safe(to_el(str(f.get("body") or ""), ctx, task)), ns=ns)


def _act_subworkflow(parent, ctx, task):
    f = task.action.fields
    el = _sub(parent, "sub-workflow")
    path = f.get("app_path") or ("${nameNode}/apps/" + str(f.get("workflow") or task.id))
    _sub(el, "app-path", _xml_safe(to_el(str(path), ctx, task)))
    if f.get("propagate_configuration", True):
        _sub(el, "propagate-configuration")
    conf = {str(k): to_el(str(v), ctx, task) for k, v in (f.get("conf") or {}).items()}
    _configuration(el, conf, WF_NS)


def _act_sql(parent, ctx, task):
    ns = ACTION_NS["hive2"]
    f = task.action.fields
    ctx.warn(
        "BO401",
        f"SQL ({f.get('operator') or 'sql'}) emitted as a hive2 action",
        task=task,
        target="hive2 action",
    )
    el = _sub(parent, "hive2", ns=ns)
    _sub(el, "jdbc-url", "${jdbcUrl}", ns=ns)
    sql = f.get("sql") or ""
    sql = ";\n".join(sql) if isinstance(sql, list) else str(sql)
    _sub(el, "query", _xml_safe(to_el(sql, ctx, task)), ns=ns)


def _act_container(parent, ctx, task):
    f = task.action.fields
    ctx.warn(
        "BO401",
        "container emitted as `docker run` in a shell action",
        task=task,
        target="shell action",
    )
    args = ["run", "--rm", str(f.get("image") or "")]
    args += [str(a) for a in (f.get("cmds") or [])] + [str(a) for a in (f.get("arguments") or [])]
    _shell(parent, ctx, task, "docker", args)


def _act_sensor(parent, ctx, task):
    f = task.action.fields
    poke = int(f.get("poke_interval_s") or 60)
    timeout = int(f.get("timeout_s") or 7 * 24 * 3600)
    target = f.get("target")
    if f.get("sensor") in ("FileSensor", "HdfsSensor", "WebHdfsSensor") and target:
        tries = max(1, math.ceil(timeout / max(poke, 1)))
        script = (
            f'for i in $(seq {tries}); do hdfs dfs -test -e "$1" && exit 0; '
            f"sleep {poke}; done; exit 1"
        )
        ctx.warn(
            "BO403",
            f"{f.get('sensor')} polled by a shell loop (every {poke}s, {tries} times);"
            " coordinator input-events would wait before the run instead",
            task=task,
            target="shell action",
        )
        _shell(parent, ctx, task, "bash", ["-c", script, "sensor", str(target)])
    else:
        ctx.warn(
            "BO404",
            f"sensor {f.get('sensor')!r} has no Oozie counterpart; the shell action fails",
            task=task,
            severity="error",
            target="failing shell action",
        )
        _shell(
            parent, ctx, task, "bash", ["-c", "echo 'wfconv: sensor was not converted' >&2; exit 1"]
        )


def _act_external(parent, ctx, task):
    out = task.action.fields.get("output") or (task.outputs[0] if task.outputs else "")
    ctx.warn(
        "BO403",
        "external data checked once with hdfs dfs -test -e",
        task=task,
        target="shell action",
    )
    _shell(parent, ctx, task, "hdfs", ["dfs", "-test", "-e", str(out)])


def _args(f) -> list[str]:
    a = f.get("args") or []
    return [str(x) for x in (a if isinstance(a, list) else [a])]


def _act_hadoop(parent, ctx, task):
    f = task.action.fields
    engine = str(f.get("engine") or "")
    props = _props(f, ctx, task)
    script = f.get("script")
    if engine == "fs":
        el = _sub(parent, "fs")
        for op in f.get("operations") or []:
            attrs = {
                k: _xml_safe(to_el(str(v), ctx, task))
                for k, v in op.items()
                if k not in ("op", "recursive")
            }
            o = etree.SubElement(el, _q(str(op.get("op"))), attrs)
            if op.get("recursive"):
                _sub(o, "recursive")
        return
    if engine == "java":
        el = _sub(parent, "java")
        _prepare(el, f, WF_NS, ctx, task)
        _configuration(el, props, WF_NS)
        _sub(el, "main-class", _xml_safe(str(f.get("main_class") or script or "")))
        if f.get("java_opts"):
            _sub(el, "java-opts", _xml_safe(str(f["java_opts"])))
        for a in _args(f):
            _sub(el, "arg", _xml_safe(to_el(a, ctx, task)))
        _files(el, f, WF_NS, ctx, task)
        if f.get("capture_output"):
            _sub(el, "capture-output")
    elif engine == "pig":
        el = _sub(parent, "pig")
        _prepare(el, f, WF_NS, ctx, task)
        _configuration(el, props, WF_NS)
        _sub(el, "script", _xml_safe(str(script or "")))
        for p in f.get("params") or []:
            _sub(el, "param", _xml_safe(to_el(str(p), ctx, task)))
        for a in _args(f):
            _sub(el, "argument", _xml_safe(to_el(a, ctx, task)))
        _files(el, f, WF_NS, ctx, task)
    elif engine in ("hive", "hive2"):
        ns = ACTION_NS[engine]
        el = _sub(parent, engine, ns=ns)
        _prepare(el, f, ns, ctx, task)
        _configuration(el, props, ns)
        if engine == "hive2":
            _sub(el, "jdbc-url", _xml_safe(str(f.get("jdbc_url") or "${jdbcUrl}")), ns=ns)
            if f.get("password"):
                _sub(el, "password", _xml_safe(str(f["password"])), ns=ns)
        if script:
            _sub(el, "script", _xml_safe(str(script)), ns=ns)
        else:
            _sub(el, "query", _xml_safe(to_el(str(f.get("query") or ""), ctx, task)), ns=ns)
        for p in f.get("params") or []:
            _sub(el, "param", _xml_safe(to_el(str(p), ctx, task)), ns=ns)
        for a in _args(f):
            _sub(el, "argument", _xml_safe(to_el(a, ctx, task)), ns=ns)
        _files(el, f, ns, ctx, task)
    elif engine == "spark":
        ns = ACTION_NS["spark"]
        el = _sub(parent, "spark", ns=ns)
        _prepare(el, f, ns, ctx, task)
        _configuration(el, props, ns)
        _sub(el, "master", str(f.get("master") or "yarn"), ns=ns)
        if f.get("mode"):
            _sub(el, "mode", str(f["mode"]), ns=ns)
        _sub(el, "name", _xml_safe(str(f.get("name") or task.id)), ns=ns)
        if f.get("main_class") or f.get("class"):
            _sub(el, "class", _xml_safe(str(f.get("main_class") or f["class"])), ns=ns)
        _sub(el, "jar", _xml_safe(str(f.get("jar") or script or "")), ns=ns)
        if f.get("spark_opts"):
            _sub(el, "spark-opts", _xml_safe(str(f["spark_opts"])), ns=ns)
        for a in _args(f):
            _sub(el, "arg", _xml_safe(to_el(a, ctx, task)), ns=ns)
        _files(el, f, ns, ctx, task)
    elif engine in ("distcp", "sqoop"):
        ns = ACTION_NS[engine]
        el = _sub(parent, engine, ns=ns)
        _prepare(el, f, ns, ctx, task)
        _configuration(el, props, ns)
        if engine == "distcp" and f.get("java_opts"):
            _sub(el, "java-opts", _xml_safe(str(f["java_opts"])), ns=ns)
        if engine == "sqoop" and f.get("command"):
            _sub(el, "command", _xml_safe(to_el(str(f["command"]), ctx, task)), ns=ns)
        else:
            for a in _args(f):
                _sub(el, "arg", _xml_safe(to_el(a, ctx, task)), ns=ns)
        if engine == "sqoop":
            _files(el, f, ns, ctx, task)
    elif engine == "git":
        ns = ACTION_NS["git"]
        el = _sub(parent, "git", ns=ns)
        _prepare(el, f, ns, ctx, task)
        for key, tag in (
            ("git_uri", "git-uri"),
            ("branch", "branch"),
            ("key_path", "key-path"),
            ("destination_uri", "destination-uri"),
        ):
            if f.get(key):
                _sub(el, tag, _xml_safe(to_el(str(f[key]), ctx, task)), ns=ns)
    elif engine == "ssh":
        ns = ACTION_NS["ssh"]
        el = _sub(parent, "ssh", ns=ns)
        _sub(el, "host", _xml_safe(str(f.get("host") or "")), ns=ns)
        _sub(
            el, "command", _xml_safe(to_el(str(f.get("command") or script or ""), ctx, task)), ns=ns
        )
        for a in _args(f):
            _sub(el, "args", _xml_safe(to_el(a, ctx, task)), ns=ns)
    else:  # map-reduce, streaming and anything else Hadoop-shaped
        el = _sub(parent, "map-reduce")
        _prepare(el, f, WF_NS, ctx, task)
        streaming = f.get("streaming") if isinstance(f.get("streaming"), dict) else {}
        if engine == "streaming" or streaming:
            st = _sub(el, "streaming")
            for key in ("mapper", "reducer", "record_reader"):
                if streaming.get(key):
                    _sub(st, key.replace("_", "-"), _xml_safe(str(streaming[key])))
            for key in ("record_reader_mapping", "env"):
                for v in streaming.get(key) or []:
                    _sub(st, key.replace("_", "-"), _xml_safe(str(v)))
        pipes = f.get("pipes") if isinstance(f.get("pipes"), dict) else {}
        if pipes and not streaming:
            pp = _sub(el, "pipes")
            for key in ("map", "reduce", "inputformat", "partitioner", "writer", "program"):
                if pipes.get(key):
                    _sub(pp, key, _xml_safe(str(pipes[key])))
        _configuration(el, props, WF_NS)
        if f.get("config_class"):
            _sub(el, "config-class", _xml_safe(str(f["config_class"])))
        _files(el, f, WF_NS, ctx, task)
        if engine not in ("map-reduce", "streaming", "pipes"):
            ctx.warn(
                "BO401",
                f"hadoop engine {engine!r} emitted as a map-reduce action",
                task=task,
                target="map-reduce action",
            )


def _act_opaque(parent, ctx, task):
    f = task.action.fields
    xml = f.get("xml")
    if xml:
        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            el = etree.fromstring(xml.encode("utf-8"), parser)
        except etree.XMLSyntaxError:
            el = None
        if el is not None:
            parent.append(el)
            return
    ctx.warn(
        "BO404",
        f"opaque {f.get('type')!r} cannot run in Oozie; the shell action fails",
        task=task,
        severity="error",
        target="failing shell action",
    )
    _shell(
        parent,
        ctx,
        task,
        "bash",
        ["-c", f"echo 'wfconv: {f.get('type')} was not converted' >&2; exit 1"],
    )


ACTIONS = {
    "shell": _act_shell,
    "python": _act_python,
    "empty": _act_empty,
    "email": _act_email,
    "subworkflow": _act_subworkflow,
    "sql": _act_sql,
    "container": _act_container,
    "sensor": _act_sensor,
    "external": _act_external,
    "hadoop": _act_hadoop,
    "opaque": _act_opaque,
}


# ---------------------------------------------------------------------------
# graph -> nodes


@dataclass
class _Plan:
    """Which edges are ok-flow, which are error transitions."""

    normal: list[tuple[str, str]]
    errors: dict[str, list[str]]  # task -> error targets, in edge order
    main: list[str]
    handlers: list[str]


def _plan(w: Workflow, ctx: _Ctx) -> _Plan:
    p = error_paths(w)
    return _Plan(p.normal, p.errors, p.main, p.handlers)


class _Builder:
    def __init__(self, w: Workflow, ctx: _Ctx, plan: _Plan):
        self.w = w
        self.ctx = ctx
        self.plan = plan
        self.tasks = {t.id: t for t in w.tasks}
        self.names = ctx.names
        self.nodes: list[etree._Element] = []
        self.taken = set(self.names.values()) | set(_RESERVED)
        self.counter = 0
        self.entry_of: dict[str, str] = {}  # task id -> node name reached first
        self.in_fork: set[str] = set()
        self.join_of: dict[str, str | None] = {}  # task -> innermost join around it
        self.converge_targets: set[str] = set()
        self.join_to: dict[str, str] = {}  # join node -> the node after it
        self.kill_name = next(
            (n for n in ("kill", "fail", "wf-kill") if n not in set(self.names.values())), None
        ) or self.fresh("kill")
        self.taken.add(self.kill_name)
        self.kill_used = False
        self.error_leaves_fork = False
        self.pending_errors: list[tuple[etree._Element, str]] = []
        self.preds: dict[str, list[str]] = {}
        for a, b in plan.normal:
            self.preds.setdefault(b, []).append(a)

    def fresh(self, stem: str) -> str:
        while True:
            self.counter += 1
            name = f"{stem}-{self.counter}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    # Each render returns (entry node name, elements in flow order).
    def render(self, node: Node, nxt: str, join: str | None) -> tuple[str, list]:
        if isinstance(node, Leaf):
            return self.leaf(node.node, nxt, join)
        if isinstance(node, Parallel):
            fork, jn = self.fresh("fork"), self.fresh("join")
            self.join_to[jn] = nxt
            fork_el = etree.Element(_q("fork"), name=fork)
            join_el = etree.Element(_q("join"), name=jn, to=nxt)
            body: list = []
            for c in node.children:
                entry, els = self.render(c, jn, jn)
                _sub(fork_el, "path", start=entry)
                body.extend(els)
            return fork, [fork_el, *body, join_el]
        return self.series(node.children, nxt, join)

    def series(self, children: list[Node], nxt: str, join: str | None) -> tuple[str, list]:
        # Group a branch leaf with the element after it (the decision's paths).
        items: list[tuple[str, Node | None]] = []
        i = 0
        while i < len(children):
            c = children[i]
            if isinstance(c, Leaf) and self.tasks[c.node].action.kind == "branch":
                after = children[i + 1] if i + 1 < len(children) else None
                items.append((c.node, after))
                i += 2
            else:
                items.append(("", c))
                i += 1
        entries: list[tuple[str, list]] = []
        cont = nxt
        cont_task: str | None = None
        for branch, node in reversed(items):
            if branch:
                entry, els = self.decision(branch, node, cont, join, cont_task)
                cont_task = branch
            else:
                assert node is not None
                entry, els = self.render(node, cont, join)
                cont_task = _first(node)
            entries.append((entry, els))
            cont = entry
        out: list = []
        for _, els in reversed(entries):
            out.extend(els)
        return cont, out

    def decision(
        self, bid: str, after: Node | None, nxt: str, join: str | None, next_task: str | None = None
    ):
        """A branch task as a <decision>: one path per direct downstream task,
        the paths converging where the task graph converges."""
        task = self.tasks[bid]
        if task.retries or task.timeout_s:
            self.ctx.warn(
                "BO701",
                "a decision node has no retries or timeout; dropped",
                task=task,
                target="decision",
            )
        name = self.names[bid]
        self.entry_of[bid] = name
        self.join_of[bid] = join
        succs = {b for a, b in self.plan.normal if a == bid}
        arms: list[tuple[str, str]] = []  # (first task of a path, its entry node)
        els: list = []
        converge: list[str | None] = []
        if after is not None:
            els = self._arms(after, succs, nxt, join, arms, converge, next_task)
        for cont_task in dict.fromkeys(converge):
            self._check_convergence(bid, cont_task)
            if cont_task is not None:
                self.converge_targets.add(cont_task)
        arm_entries = dict(arms)
        cases = task.action.fields.get("cases") or []
        default = task.action.fields.get("default")
        end_target = join or "end"
        switch: list[tuple[str, str]] = []  # (EL predicate, node name)
        if cases:
            for case in cases:
                target = arm_entries.get(case.get("to"))
                if target is None:
                    target = self._outside_target(task, case.get("to"), end_target)
                switch.append((str(case.get("when") or "${false}"), target))
            if default in arm_entries:
                dtarget = arm_entries[default]
            else:
                dtarget = self._outside_target(task, default, end_target)
            named = {t for _, t in switch} | {dtarget}
            for first, entry in arms:
                if entry not in named:
                    # A path the IR reaches but no case names: keep it reachable
                    # (Oozie rejects unreachable nodes) under a case that never holds.
                    self.ctx.warn(
                        "BO206",
                        f"path to {first!r} is named by no case; kept "
                        "under a case that never holds",
                        task=task,
                        target="${false}",
                    )
                    switch.append(("${false}", entry))
                    named.add(entry)
        else:
            prop = f"{name}_branch".replace("-", "_")
            self.ctx.warn(
                "BO205",
                f"branch callable {task.action.fields.get('callable')!r} cannot run in Oozie; "
                f"the decision follows job property {prop!r} (default: first path)",
                task=task,
                target="decision on ${wf:conf(...)}",
            )
            self.ctx.warn(
                "BO205",
                f"job property {prop!r} (read back as a workflow parameter) chooses the path of "
                f"decision {name!r}",
                target=f"${{wf:conf('{prop}')}}",
            )
            for first, entry in arms:
                switch.append((f"${{wf:conf('{prop}') eq '{self.names[first]}'}}", entry))
            if not arms:
                switch.append(("${true}", nxt))
            dtarget = switch[0][1]
        el = etree.Element(_q("decision"), name=name)
        sw = _sub(el, "switch")
        for pred, target in switch:
            _sub(sw, "case", _xml_safe(pred), to=target)
        _sub(sw, "default", to=dtarget)
        return name, [el, *els]

    def _arms(
        self,
        node: Node,
        succs: set[str],
        nxt: str,
        join: str | None,
        arms: list[tuple[str, str]],
        converge: list[str | None],
        next_task: str | None,
    ) -> list:
        """Render ``node`` (what follows a decision) so that each direct
        downstream of the decision starts a path; returns the elements."""
        if isinstance(node, Series):
            head, rest = node.children[0], node.children[1:]
            cont, cont_els, cont_task = nxt, [], next_task
            if rest:
                cont_node = rest[0] if len(rest) == 1 else Series(rest)
                cont, cont_els = self.render(cont_node, nxt, join)
                cont_task = _first(cont_node)
            if _leafset(head) & succs:
                return self._arms(head, succs, cont, join, arms, converge, cont_task) + cont_els
            entry, els = self.render(head, cont, join)
            arms.append((_first(head), entry))
            return els + cont_els
        if isinstance(node, Parallel):
            out: list = []
            if sum(bool(_leafset(c) & succs) for c in node.children) > 1:
                converge.append(next_task)  # several paths meet after this point
            for child in node.children:
                if _leafset(child) & succs:
                    out += self._arms(child, succs, nxt, join, arms, converge, next_task)
                else:
                    entry, els = self.render(child, nxt, join)
                    arms.append((_first(child), entry))
                    out += els
            return out
        entry, els = self.render(node, nxt, join)
        arms.append((node.node, entry))
        return els

    def _outside_target(self, task: Task, to, end_target: str) -> str:
        if to in (None, "end") and end_target == "end":
            return "end"
        if to in self.ctx.dissolved:
            # a routing hop of the source: go where it led, if that is in reach
            after = self.ctx.dissolved[to]
            if (
                len(after) == 1
                and after[0] in self.entry_of
                and (self.join_of.get(after[0]) == self.join_of.get(task.id))
            ):
                return self.entry_of[after[0]]
            return end_target
        if to in self.names and to in self.entry_of:
            return self.entry_of[to]
        if to in self.names and self.tasks[to].action.kind == "fail":
            return self.names[to]
        self.ctx.warn(
            "BO206",
            f"decision target {to!r} is not a path of the decision; transition to {end_target!r}",
            task=task,
            target=end_target,
        )
        return end_target

    def _check_convergence(self, bid: str, cont_task: str | None) -> None:
        if cont_task is None:
            return
        t = self.tasks[cont_task]
        if t.trigger_rule not in (
            "one_success",
            "all_success",
            "none_skipped",
            "all_done_min_one_success",
        ):
            self.ctx.warn(
                "BO209",
                f"converging paths of decision {bid!r}: trigger rule "
                f"{t.trigger_rule} is read back as one_success",
                task=t,
                target="converging transitions",
            )
        if t.trigger_rule in ("all_success", "none_skipped", "all_done_min_one_success"):
            self.ctx.warn(
                "BO202",
                f"runs after whichever path decision {bid!r} takes; in the IR its trigger rule "
                f"{t.trigger_rule} skips it when a path was not taken",
                task=t,
                target="converging transitions",
            )

    def leaf(self, tid: str, nxt: str, join: str | None) -> tuple[str, list]:
        task = self.tasks[tid]
        name = self.names[tid]
        self.entry_of[tid] = name
        self.join_of[tid] = join
        if join is not None:
            self.in_fork.add(tid)
        kind = task.action.kind
        if kind == "fail":
            el = etree.Element(_q("kill"), name=name)
            msg = task.action.fields.get("message") or f"{tid} failed"
            _sub(el, "message", _xml_safe(to_el(str(msg), self.ctx, task)))
            return name, [el]
        if kind == "branch":
            return self.decision(tid, None, nxt, join)
        el = etree.Element(_q("action"), name=name)
        self.retry(el, task)
        builder = ACTIONS.get(kind)
        if builder is None:
            builder = _act_opaque
        builder(el, self.ctx, task)
        _sub(el, "ok", to=nxt)
        err = _sub(el, "error", to=self.kill_name)
        self.pending_errors.append((err, tid))
        return name, [el]

    def rules(self, task: Task, handlers: set[str]) -> None:
        r = task.trigger_rule
        main_ups = [u for u in self.preds.get(task.id, []) if u not in handlers]
        if r == "one_success" and (len(main_ups) <= 1 or task.id in self.converge_targets):
            return  # an ok path and error paths, or decision paths: exclusive, so exact
        if (
            r in ("none_failed", "none_failed_min_one_success", "none_skipped")
            and main_ups
            and (task.id not in self.converge_targets)
            and not self._after_a_decision(task.id)
        ):
            self.ctx.warn(
                "BO210",
                f"trigger rule {r} is what an Oozie join does (no skipped "
                "state); read back as all_success (same runs, another rule)",
                task=task,
                target="all_success",
            )
            return
        if r in _NATIVE_RULES or r in ERROR_RULES or r in _DONE_RULES:
            if (
                r == "all_failed"
                and len(self.preds.get(task.id, []))
                + sum(task.id in v for v in self.plan.errors.values())
                > 1
            ):
                self.ctx.warn(
                    "BO201",
                    "all_failed becomes an error transition from each upstream "
                    "(runs when the first one fails)",
                    task=task,
                    target="error transition",
                )
            return
        self.ctx.warn(
            "BO201",
            f"trigger rule {r} has no Oozie form; the task waits for all "
            "upstream paths to succeed (join)",
            task=task,
            target="ok transition / join",
        )

    def _after_a_decision(self, tid: str) -> bool:
        """Is a branch task among the ancestors (then a path may be untaken)?"""
        stack, seen = list(self.preds.get(tid, [])), set()
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            if self.tasks[n].action.kind == "branch":
                return True
            stack.extend(self.preds.get(n, []))
        return False

    def retry(self, el, task: Task) -> None:
        if task.retries <= 0:
            return
        if task.action.kind == "sensor":
            # The polling loop fails only when its time is up, and Airflow
            # never retries a sensor that timed out: a retry would wait again.
            self.ctx.warn(
                "BO409",
                f"retries={task.retries} not written: the sensor's polling loop fails only "
                "on its timeout, which Airflow never retries",
                task=task,
                target="no retry-max",
            )
            return
        el.set("retry-max", str(task.retries))
        self.ctx.warn(
            "BO301",
            "Oozie retries only whitelisted error codes "
            "(user.retry.error.code[.ext]); a failing shell command is not retried "
            "unless the server allows ALL",
            task=task,
            target="retry-max",
        )
        if task.retries > 3:
            self.ctx.warn(
                "BO303",
                f"retries={task.retries} exceed Oozie's default system "
                "maximum 3 (oozie.service.LiteWorkflowStoreService.user.retry.max)",
                task=task,
                target="retry-max",
            )
        delay = task.retry_delay_s
        if isinstance(delay, list):
            if delay:
                self.ctx.warn(
                    "BO304",
                    f"per-attempt delays {delay} collapse to the first one",
                    task=task,
                    target="retry-interval",
                )
            delay = delay[0] if delay else None
        if delay is not None:
            minutes = max(1, math.ceil(float(delay) / 60))
            if float(delay) != minutes * 60:
                self.ctx.warn(
                    "BO302",
                    f"retry delay {delay}s becomes {minutes} min",
                    task=task,
                    target="retry-interval",
                )
            el.set("retry-interval", str(minutes))
        if task.retry_backoff == "exponential":
            el.set("retry-policy", "exponential")
            if task.max_retry_delay_s is not None:
                self.ctx.warn(
                    "BO304",
                    "max_retry_delay has no Oozie counterpart; dropped",
                    task=task,
                    target="retry-policy",
                )

    def resolve_errors(
        self, region_entry: dict[str, str], region_join: dict[str, str | None]
    ) -> None:
        """Point each action's <error> at its handler, or at the shared kill node."""
        done_targets: dict[str, str] = {}
        for t in self.w.tasks:
            if t.trigger_rule in _DONE_RULES:
                ups = self.preds.get(t.id, [])
                if (
                    len(ups) == 1
                    and ups[0] not in self.plan.errors
                    and (self.join_of.get(ups[0], "?") == self.join_of.get(t.id, "!"))
                ):
                    done_targets[ups[0]] = self.entry_of.get(t.id, self.names[t.id])
                    if t.trigger_rule != "one_done":
                        self.ctx.warn(
                            "BO210",
                            f"trigger rule {t.trigger_rule}: ok and error of "
                            f"{ups[0]!r} both lead here; read back as one_done (it does not "
                            f"run when {ups[0]!r} never ran: an earlier failure kills the "
                            "workflow)",
                            task=t,
                            target="one_done",
                        )
                else:
                    self.ctx.warn(
                        "BO201",
                        f"trigger rule {t.trigger_rule} with upstreams {ups} "
                        "becomes all_success (an upstream failure kills the workflow)",
                        task=t,
                        target="ok transition",
                    )
        for err_el, tid in self.pending_errors:
            targets = self.plan.errors.get(tid, [])
            if targets:
                if len(targets) > 1:
                    first = region_entry.get(targets[0], self.names[targets[0]])
                    if any(region_entry.get(x) != first for x in targets[1:]):
                        self.ctx.warn(
                            "BO203",
                            f"error targets {targets}: Oozie keeps one; "
                            f"error goes to {targets[0]!r}",
                            task=self.tasks[tid],
                            target="error transition",
                        )
                err_el.set("to", region_entry.get(targets[0], self.names[targets[0]]))
                back_to = region_join.get(targets[0], "-")
                if (
                    tid in self.in_fork
                    and self.tasks[targets[0]].action.kind != "fail"
                    and back_to != self.join_of.get(tid)
                ):
                    self.error_leaves_fork = True
                    self.ctx.warn(
                        "BO207",
                        f"error path to {targets[0]!r} leaves a fork; "
                        "job.properties turns off Oozie's fork/join validation "
                        "(oozie.wf.validate.ForkJoin=false)",
                        task=self.tasks[tid],
                        target="error transition",
                    )
            elif tid in done_targets:
                err_el.set("to", done_targets[tid])
            elif tid in self.ctx.error_to_end:
                err_el.set("to", "end")
            else:
                self.kill_used = True
        handlers = set(self.plan.handlers)
        for t in self.w.tasks:
            if t.id in self.entry_of and t.action.kind not in ("fail", "branch"):
                self.rules(t, handlers)


def _report_transitive_edges(plan: _Plan, ctx: _Ctx) -> None:
    """Oozie transitions cannot hold an edge a -> c next to a path a -> b -> c;
    the edge is implied, so reading the output back lists one edge fewer.
    (A decision's edges are alternative paths, not orderings: never implied.)"""
    branches = {t.id for t in ctx.w.tasks if t.action.kind == "branch"}
    succ: dict[str, list[str]] = {}
    for a, c in plan.normal:
        succ.setdefault(a, []).append(c)
    # What a's successors reach (one search per task with several successors,
    # not one per edge: that was quadratic): a -> c is implied when c is in it.
    below: dict[str, set[str]] = {}
    for a, c in plan.normal:
        if a in branches or len(succ[a]) < 2:
            continue
        if a not in below:
            seen: set[str] = set()
            stack = [n for x in succ[a] for n in succ.get(x, [])]
            while stack:
                n = stack.pop()
                if n not in seen:
                    seen.add(n)
                    stack.extend(succ.get(n, []))
            below[a] = seen
        if c not in below[a]:
            continue
        exact = _implied_exactly(ctx.w, a, c)
        ctx.warn(
            "BO102",
            f"edge {a!r} -> {c!r} is implied by a longer path; "
            "Oozie transitions keep only the path (listed in a comment)"
            + (
                ""
                if exact
                else f"; {c!r} (trigger rule {ctx.w.task(c).trigger_rule}) then "
                f"no longer sees {a!r}'s own state"
            ),
            task=None if exact else ctx.w.task(c),
            severity="info" if exact else "warning",
            target=f"{a} -> {c}",
        )
        ctx.implied.append((a, c))


def _implied_exactly(w: Workflow, a: str, c: str) -> bool:
    """Is dropping a -> c exact in the IR? Yes when c is ``all_success`` and
    another path a -> ... -> c runs through ``all_success`` tasks only: c's
    other upstreams then already require a's success and carry its failure
    or skip (the Oozie frontend restores such edges from the comment)."""
    rule = {t.id: t.trigger_rule for t in w.tasks}
    preds: dict[str, list[str]] = {}
    for e in w.edges:
        if e.kind != "error":
            preds.setdefault(e.dst, []).append(e.src)
    if rule.get(c) != "all_success":
        return False
    todo = [p for p in preds.get(c, []) if p != a and rule.get(p) == "all_success"]
    seen = set(todo)
    while todo:
        n = todo.pop()
        if a in preds.get(n, []):
            return True
        for p in preds.get(n, []):
            if p not in seen and rule.get(p) == "all_success":
                seen.add(p)
                todo.append(p)
    return False


def _leafset(node: Node) -> set[str]:
    if isinstance(node, Leaf):
        return {node.node}
    out: set[str] = set()
    for c in node.children:
        out |= _leafset(c)
    return out


def _first(node: Node) -> str:
    while not isinstance(node, Leaf):
        node = node.children[0]
    return node.node


# ---------------------------------------------------------------------------
# workflow.xml


def _workflow_xml(w: Workflow, ctx: _Ctx) -> tuple[bytes, dict[str, str | None], bool]:
    plan = _plan(w, ctx)
    b = _Builder(w, ctx, plan)
    order = {tid: i for i, tid in enumerate(w.task_ids())}

    def sp(members: list[str]):
        mset = set(members)
        edges = [(a, c) for a, c in plan.normal if a in mset and c in mset]
        dec = decompose(members, edges)
        for lost in dec.losses:
            pairs = ", ".join(f"{a} -> {c}" for a, c in lost.pairs[:20])
            more = f" (+{len(lost.pairs) - 20} more)" if len(lost.pairs) > 20 else ""
            ctx.warn(
                "BO101",
                f"fork/join nesting makes {lost.after} wait for {lost.before}; "
                f"orderings added: {pairs}{more}",
                target="join",
            )
        return dec.tree

    _report_transitive_edges(plan, ctx)
    main_tree = sp(plan.main)
    # Handler regions: weakly connected groups of tasks reached through errors.
    regions: list[list[str]] = []
    hset = set(plan.handlers)
    adj: dict[str, set[str]] = {h: set() for h in plan.handlers}
    for a, c in plan.normal:
        if a in hset and c in hset:
            adj[a].add(c)
            adj[c].add(a)
    seen: set[str] = set()
    for h in plan.handlers:
        if h in seen:
            continue
        comp, stack = [], [h]
        seen.add(h)
        while stack:
            n = stack.pop()
            comp.append(n)
            for m in sorted(adj[n], key=order.__getitem__):
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
        regions.append(sorted(comp, key=order.__getitem__))

    body: list = []
    start_to = "end"
    if main_tree is not None:
        start_to, els = b.render(main_tree, "end", None)
        body.extend(els)
    region_entry: dict[str, str] = {}
    region_join: dict[str, str | None] = {}  # handler task -> join context it returns to
    for comp in regions:
        tree = sp(comp)
        exit_to, back_join = "end", None
        members = set(comp)
        outs = [c for a, c in plan.normal if a in members and c not in members]
        sources = [s for s, ts in plan.errors.items() if s not in members and set(ts) & members]
        if outs:
            tgt = outs[0]
            same_context = tgt in b.entry_of and all(
                b.join_of.get(src) == b.join_of.get(tgt) for src in sources
            )
            src_joins = {b.join_of.get(src) for src in sources}
            via_join = next(iter(src_joins)) if len(src_joins) == 1 else None
            if same_context:
                exit_to, back_join = b.entry_of[tgt], b.join_of.get(tgt)
            elif via_join is not None and b.join_to.get(via_join) == b.entry_of.get(tgt):
                # the handler rejoins its fork path: it goes to the join before tgt
                exit_to, back_join = via_join, via_join
            else:
                ctx.warn(
                    "BO204",
                    f"handler path {comp} flows into {tgt!r} in another fork "
                    "path; it ends at the end node instead",
                    task=b.tasks[comp[0]],
                    target="end",
                )
        entry, els = b.render(tree, exit_to, None)
        for tid in comp:
            region_entry[tid] = b.entry_of.get(tid, entry)
            region_join[tid] = back_join
        # error transitions to the region's first task enter through its structure
        region_entry[_first(tree)] = entry
        body.extend(els)
    b.resolve_errors(region_entry, region_join)

    taken = set(ctx.names.values()) | set(_RESERVED) | {b.kill_name}
    rename = _renumber_control_nodes(body, taken)
    start_to = rename.get(start_to, start_to)
    rename = _original_control_names(body, ctx, taken)
    start_to = rename.get(start_to, start_to)
    root = etree.Element(_q("workflow-app"), nsmap={None: WF_NS}, name=_xml_safe(w.id))
    mapping = {name: tid for tid, name in ctx.names.items() if name != tid}
    params = _parameters_needed(w, ctx)
    if params:
        pe = _sub(root, "parameters")
        for pname, default in params.items():
            p = _sub(pe, "property")
            _sub(p, "name", pname)
            if default is not None:
                _sub(p, "value", _xml_safe(default))
    glob = _sub(root, "global")
    _sub(glob, "resource-manager", "${resourceManager}")
    _sub(glob, "name-node", "${nameNode}")
    _sub(root, "start", to=start_to)
    for el in body:
        root.append(el)
    if b.kill_used:
        ctx.warn(
            "BO208",
            f"unhandled action errors go to the kill node {b.kill_name!r} (the run "
            "fails, as in the source; a comment marks the node for wfconv's Oozie reader)",
            severity="info",
            target=b.kill_name,
        )
        k = _sub(root, "kill", name=b.kill_name)
        _sub(k, "message", _ERR_MESSAGE)
    _sub(root, "end", name="end")
    if ctx.implied:
        pairs = [[ctx.names[a], ctx.names[c]] for a, c in ctx.implied]
        root.insert(0, etree.Comment(" wfconv implied edges: " + _comment_json(pairs) + " "))
    if b.kill_used:
        root.insert(
            0,
            etree.Comment(
                " wfconv kill node for unhandled errors: " + _comment_json(b.kill_name) + " "
            ),
        )
    if mapping:
        root.insert(
            0, etree.Comment(" wfconv node names -> task ids: " + _comment_json(mapping) + " ")
        )
    data = etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    return data, params, b.error_leaves_fork


def _renumber_control_nodes(body: list, taken: set[str]) -> dict[str, str]:
    """Name forks and joins ``fork-1``, ``join-1`` ... in document order (they
    are created right to left), skipping names a task already uses."""
    rename: dict[str, str] = {}
    counter = 0
    for el in body:
        tag = etree.QName(el).localname
        if tag in ("fork", "join"):
            old = el.get("name")
            if tag == "fork":
                counter += 1
                while f"fork-{counter}" in taken or f"join-{counter}" in taken:
                    counter += 1
            rename[old] = f"{tag}-{counter}"
    # joins pair with their forks: a join takes its fork's number
    pairs: dict[str, str] = {}
    stack: list[str] = []
    for el in body:
        tag = etree.QName(el).localname
        if tag == "fork":
            stack.append(rename[el.get("name")])
        elif tag == "join":
            pairs[el.get("name")] = "join-" + stack.pop().split("-", 1)[1]
    rename.update(pairs)
    _rename_nodes(body, rename)
    return rename


def _rename_nodes(body: list, rename: dict[str, str]) -> None:
    """Node names in ``name``, ``to`` and ``start`` attributes renamed (the
    elements holding one found by XPath, in C, not by visiting every one)."""
    if not rename:
        return
    for el in body:
        for node in _NAMED(el):
            for attr in ("name", "to", "start"):
                v = node.get(attr)
                if v in rename:
                    node.set(attr, rename[v])


_NAMED = etree.XPath("descendant-or-self::*[@name or @to or @start]")


def _original_control_names(body: list, ctx: _Ctx, taken: set[str]) -> dict[str, str]:
    """Give a fork/join the name it had in an Oozie source when the source's
    routing tasks recorded it and exactly one node here has the same tasks
    right after it (a join's successor, a fork's path starts)."""
    task_of = {name: tid for tid, name in ctx.names.items()}
    made: dict[tuple[str, frozenset[str]], list[str]] = {}
    for el in body:
        tag = etree.QName(el).localname
        if tag == "join":
            after = [el.get("to")]
        elif tag == "fork":
            after = [p.get("start") for p in el if etree.QName(p).localname == "path"]
        else:
            continue
        if all(a in task_of for a in after):
            made.setdefault((tag, frozenset(task_of[a] for a in after)), []).append(el.get("name"))
    wanted: dict[tuple[str, frozenset[str]], list[str]] = {}
    for name, key in ctx.controls.items():
        wanted.setdefault(key, []).append(name)
    rename: dict[str, str] = {}
    for key, names in sorted(wanted.items(), key=lambda kv: sorted(kv[1])):
        have = made.get(key, [])
        if len(names) == 1 and len(have) == 1 and names[0] not in taken:
            if _NODE_NAME.fullmatch(names[0]) and names[0] not in rename.values():
                rename[have[0]] = names[0]
    existing = {el.get("name") for el in body} - set(rename)
    rename = {old: new for old, new in rename.items() if new not in existing}
    _rename_nodes(body, rename)
    return rename


def _comment_json(value) -> str:
    """JSON that can sit inside an XML comment (no ``--``, ASCII only)."""
    return json.dumps(value, ensure_ascii=True, sort_keys=True).replace("-", "\\u002d")


def _parameters_needed(w: Workflow, ctx: _Ctx) -> dict[str, str | None]:
    """Workflow <parameters>: the workflow's params with their defaults, then
    the run-time dates the coordinator passes (no default: a manual run must
    give them)."""
    out: dict[str, str | None] = {}
    for raw, name in ctx.param_names.items():
        v = w.params[raw]
        if v is None:
            out[name] = None  # unresolved in the source: the submitter must give it
        else:
            out[name] = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    for prop in sorted(ctx.dates_used):
        out.setdefault(prop, None)
    return out


# ---------------------------------------------------------------------------
# coordinator.xml


_PRESET_FREQ = {
    "0 * * * *": "${coord:hours(1)}",
    "0 0 * * *": "${coord:days(1)}",
    "0 0 1 * *": "${coord:months(1)}",
}


def _dow_to_oozie(field_: str) -> str:
    """Unix day-of-week (0/7 = Sunday) -> Oozie/Quartz (1 = Sunday)."""

    def one(tok: str) -> str:
        for mark in ("#", "L"):  # nL: last n-day of the month, n#k: its k-th
            head, sep, tail = tok.partition(mark)
            if sep and head.isdigit():
                return str(int(head) % 7 + 1) + sep + tail
        return str(int(tok) % 7 + 1) if tok.isdigit() else tok

    out = []
    for part in field_.split(","):
        step = ""
        if "/" in part:
            part, step = part.split("/", 1)
            step = "/" + step
        if "-" in part:
            lo, hi = part.split("-", 1)
            out.append(f"{one(lo)}-{one(hi)}{step}")
        else:
            out.append(one(part) + step)
    return ",".join(out)


def _frequency(w: Workflow, ctx: _Ctx) -> str | None:
    s = w.schedule
    if s.kind in ("cron", "interval") and s.datasets:
        ctx.warn(
            "BO601",
            f"runs triggered by updates of {', '.join(s.datasets)} have no coordinator form; "
            "only the time schedule is kept",
            target="frequency",
        )
    if s.kind == "cron" and s.cron:
        if s.cron in _PRESET_FREQ:
            return _PRESET_FREQ[s.cron]
        fixed = _fixed_period(s.cron)
        if fixed is not None:
            return fixed
        fields = s.cron.split()
        if len(fields) == 5 and fields[4] != "*":
            new = _dow_to_oozie(fields[4])
            if new != fields[4]:
                ctx.warn(
                    "BO606",
                    f"cron day-of-week {fields[4]!r} written as {new!r} (Sunday=1)",
                    severity="info",
                    target="frequency",
                )
            fields[4] = new
        return " ".join(fields)
    if s.kind == "interval" and s.seconds:
        minutes = math.ceil(float(s.seconds) / 60)
        if minutes * 60 != float(s.seconds):
            ctx.warn("BO605", f"interval {s.seconds}s becomes {minutes} min", target="frequency")
        if minutes % 1440 == 0:
            return f"${{coord:days({minutes // 1440})}}"
        if minutes % 60 == 0:
            return f"${{coord:hours({minutes // 60})}}"
        return f"${{coord:minutes({minutes})}}"
    if s.kind not in ("manual",):
        ctx.warn(
            "BO601",
            f"schedule kind {s.kind!r} has no coordinator form; "
            "workflow.xml only (submit it yourself)",
            target="no coordinator",
        )
    return None


def _fixed_period(cron: str) -> str | None:
    """A cron that ticks once per fixed period at a fixed offset is an EL
    frequency (the coordinator's start is one of its ticks): readable, and
    its interval start is computable with coord:dateOffset."""
    f = cron.split()
    if len(f) != 5 or not f[0].isdigit():
        if len(f) == 5 and re.fullmatch(r"\*/\d+", f[0]) and f[1:] == ["*"] * 4:
            k = int(f[0][2:])
            return f"${{coord:minutes({k})}}" if k and 60 % k == 0 else None
        return None
    minute, hour, dom, month, dow = f
    if hour == "*" and dom == month == dow == "*":
        return "${coord:hours(1)}"
    if re.fullmatch(r"\*/\d+", hour) and dom == month == dow == "*":
        k = int(hour[2:])
        return f"${{coord:hours({k})}}" if k and 24 % k == 0 else None
    if not hour.isdigit():
        return None
    if dom == month == dow == "*":
        return "${coord:days(1)}"
    if dom == month == "*" and re.fullmatch(r"[0-7]", dow):
        return "${coord:days(7)}"
    if dom.isdigit() and month == dow == "*" and int(dom) <= 28:
        return "${coord:months(1)}"
    return None


def _zone(name: str | None):
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def _aware(iso: str) -> datetime:
    dt = datetime.fromisoformat(iso)
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _clamped_start(w: Workflow, ctx: _Ctx) -> Workflow:
    """A start_date before 1970 (Airflow examples use ``datetime.min``) has no
    sensible coordinator start: Oozie would materialize every nominal time
    since then. It is written as 1970-01-01 and said so."""
    if not w.start_date:
        return w
    try:
        start = _aware(w.start_date)
    except ValueError:
        return w
    if start >= _EPOCH:
        return w
    ctx.warn(
        "BO610",
        f"start_date {w.start_date} is before 1970: the coordinator starts at 1970-01-01",
        target="start",
    )
    clamped = copy.copy(w)
    clamped.start_date = _EPOCH.isoformat()
    return clamped


def _first_nominal(w: Workflow) -> datetime:
    """The first run's start, which is Oozie's first nominal time: the first
    tick in the trigger model, the end of the first interval [X0, X1) in the
    data-interval model (docs/semantics.md R3)."""
    bounds = run_after_bounds(w)
    assert bounds is not None  # a scheduled workflow with a start_date
    return bounds[0]


def _end_bound(w: Workflow) -> datetime:
    """Oozie materializes nominal times < end: one minute after the last
    run's start (the last tick at or before end_date, or the end of the last
    interval that starts at or before it)."""
    bounds = run_after_bounds(w)
    assert bounds is not None and bounds[1] is not None
    return bounds[1] + timedelta(minutes=1)


def _utc_minutes(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _anchor_start_el(freq: str, ctx: _Ctx) -> str:
    """EL of the logical date (= the data interval's start): the nominal time
    minus one period in the data-interval model, minus the trigger's
    ``interval_s`` in the trigger model (docs/semantics.md R3)."""
    s = ctx.w.schedule
    if s.time_model == TRIGGER:
        if not s.interval_s:
            return "coord:nominalTime()"
        minutes = math.ceil(float(s.interval_s) / 60)
        if minutes * 60 != float(s.interval_s):
            ctx.warn(
                "BO505",
                f"data interval of {s.interval_s}s is not whole minutes: {minutes} min used",
                target="coordinator configuration",
            )
        return f"coord:dateOffset(coord:nominalTime(), -{minutes}, 'MINUTE')"
    m = re.fullmatch(r"\$\{coord:(minutes|hours|days|months)\((\d+)\)\}", freq)
    if m:
        unit = {"minutes": "MINUTE", "hours": "HOUR", "days": "DAY", "months": "MONTH"}[m.group(1)]
        return f"coord:dateOffset(coord:nominalTime(), -{m.group(2)}, '{unit}')"
    ctx.warn(
        "BO503",
        f"cron frequency {freq!r}: the interval start (ds, ts, ...) cannot be "
        "computed in EL; the nominal time (interval end) is used",
        target="coordinator configuration",
    )
    return "coord:nominalTime()"


# ---------------------------------------------------------------------------
# sensors -> coordinator input events


@dataclass
class _InputEvent:
    """A file sensor at the start of a scheduled workflow, as Oozie says it:
    a dataset instance the coordinator waits for before the run starts."""

    task_id: str
    name: str
    uri_template: str
    done_flag: str | None  # None: Oozie's default _SUCCESS
    instance: int  # coord:current(instance)
    timeout_min: int | None


_URI_VARS = {"Y": "${YEAR}", "m": "${MONTH}", "d": "${DAY}", "H": "${HOUR}", "M": "${MINUTE}"}
_PERIOD_MIN = {"minutes": 1, "hours": 60, "days": 1440}
_EVENT_NAME = re.compile(r"[A-Za-z_][-_A-Za-z0-9]{0,38}")


def _uri_part(fmt: str) -> str | None:
    """strftime text -> uri-template text (${YEAR}/${MONTH}/...), or None."""
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%":
            var = _URI_VARS.get(fmt[i + 1 : i + 2])
            if var is None:
                return None
            out.append(var)
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def _start_periods(w: Workflow, period: tuple[str, int]) -> int | None:
    """How many dataset periods the logical date lies before the nominal
    time: one in the data-interval model, ``interval_s`` worth in the trigger
    model (None when that is not a whole number of periods)."""
    if w.schedule.time_model != TRIGGER:
        return 1
    if not w.schedule.interval_s:
        return 0
    unit, count = period
    if unit == "months":
        return None
    step = _PERIOD_MIN[unit] * count * 60
    k, rest = divmod(float(w.schedule.interval_s), step)
    return int(k) if not rest else None


def _template_instance(
    expr: str, period: tuple[str, int], back: int | None
) -> tuple[str, int] | None:
    """A date template -> (uri text, instance offset in periods), or None.
    ``back``: the logical date's distance before the nominal time, in periods."""
    unit, count = period
    plain = {"ds": ("%Y-%m-%d", "start"), "ds_nodash": ("%Y%m%d", "start")}
    offset = 0
    if expr in plain:
        fmt, anchor = plain[expr]
    else:
        m = _STRFTIME.fullmatch(expr)
        if m is None:
            return None
        fmt = m.group("fmt")
        anchor = "end" if m.group("name") == "data_interval_end" else "start"
        if m.group("n"):
            if unit == "months":
                return None
            minutes = int(m.group("n")) * _PERIOD_MIN[m.group("unit")]
            step = _PERIOD_MIN[unit] * count
            if minutes % step:
                return None
            offset = minutes // step
    uri = _uri_part(fmt)
    if uri is None or (anchor == "start" and back is None):
        return None
    return uri, offset - (back if anchor == "start" else 0)


def _input_events(w: Workflow, freq: str | None, ctx: _Ctx) -> list[_InputEvent]:
    m = re.fullmatch(r"\$\{coord:(minutes|hours|days|months)\((\d+)\)\}", freq or "")
    if m is None or not w.start_date:
        return []
    period = (m.group(1), int(m.group(2)))
    back = _start_periods(w, period)
    has_in = {e.dst for e in w.edges}
    out: list[_InputEvent] = []
    for t in w.tasks:
        f = t.action.fields
        target = f.get("target")
        if (
            t.action.kind != "sensor"
            or f.get("sensor") != "FileSensor"
            or t.id in has_in
            or not isinstance(target, str)
            or f.get("soft_fail")
        ):
            continue
        folder, _, flag = target.rpartition("/")
        name = t.id[len("wait_") :] if t.id.startswith("wait_") else t.id
        if not folder or "{{" in flag or "$" in flag or not _EVENT_NAME.fullmatch(name):
            continue
        parts, instances, pos = [], set(), 0
        for tm in _TEMPLATE.finditer(folder):
            parts.append(folder[pos : tm.start()])
            pos = tm.end()
            got = _template_instance(tm.group(1).strip(), period, back)
            if got is None:
                break
            parts.append(got[0])
            instances.add(got[1])
        else:
            parts.append(folder[pos:])
            literal = "".join(p for p in parts if "${YEAR}" not in p)
            if len(instances) == 1 and ("${" not in literal or _from_oozie(ctx, t)):
                timeout = f.get("timeout_s")
                out.append(
                    _InputEvent(
                        t.id,
                        name,
                        "".join(parts),
                        None if flag == "_SUCCESS" else flag,
                        instances.pop(),
                        None if timeout is None else math.ceil(float(timeout) / 60),
                    )
                )
    return out


def _without_sensors(w: Workflow, events: list[_InputEvent], ctx: _Ctx) -> Workflow:
    """The workflow without the sensors the coordinator now waits for."""
    gone = {ev.task_id for ev in events}
    for ev in events:
        ctx.warn(
            "BO407",
            f"waits as coordinator input event {ev.name!r} (dataset instance "
            f"coord:current({ev.instance})) before the workflow starts, so every first "
            "task waits for it",
            task=w.task(ev.task_id),
            severity="info",
            target=ev.task_id,
        )
    out = copy.copy(w)
    out.tasks = [t for t in w.tasks if t.id not in gone]
    out.edges = [e for e in w.edges if e.src not in gone and e.dst not in gone]
    return out


def _initial_instance(w: Workflow, freq: str, back: int) -> str:
    """The first dataset instance: ``back`` periods before the first nominal
    time (wall-clock arithmetic in the schedule's timezone, as Oozie's
    coord:days/months are), so that coord:current(-back) exists for the first run."""
    first = _first_nominal(w).astimezone(_zone(w.schedule.timezone))
    m = re.fullmatch(r"\$\{coord:(minutes|hours|days|months)\((\d+)\)\}", freq)
    if m and back:
        n = int(m.group(2)) * back
        if m.group(1) == "months":
            months = first.year * 12 + first.month - 1 - n
            first = first.replace(year=months // 12, month=months % 12 + 1)
        else:
            first = first - timedelta(**{m.group(1): n})
    return _utc_minutes(first)


def _coordinator_events(root, w: Workflow, events: list[_InputEvent], freq: str) -> None:
    if not events:
        return
    tz = w.schedule.timezone or "UTC"
    start = _initial_instance(w, freq, max(0, -min(ev.instance for ev in events)))
    datasets = _sub(root, "datasets", ns=COORD_NS)
    for ev in events:
        ds = _sub(
            datasets,
            "dataset",
            ns=COORD_NS,
            name=ev.name,
            frequency=freq,
            initial_instance=start,
            timezone=tz,
        )
        _sub(ds, "uri-template", _xml_safe(ev.uri_template), ns=COORD_NS)
        if ev.done_flag is not None:
            _sub(ds, "done-flag", _xml_safe(ev.done_flag), ns=COORD_NS)
    inputs = _sub(root, "input-events", ns=COORD_NS)
    for ev in events:
        din = _sub(inputs, "data-in", ns=COORD_NS, name=ev.name, dataset=ev.name)
        _sub(din, "instance", f"${{coord:current({ev.instance})}}", ns=COORD_NS)


def _carried_configuration(w: Workflow, wf_xml: str) -> dict[str, str]:
    """Properties an Oozie source's coordinator computed at run time (e.g.
    ``actual = ${coord:actualTime()}``) that text kept verbatim still refers to
    as ``${name}``: passed on unchanged, else the workflow's EL could not
    resolve them."""
    conf = ((w.extra.get("oozie") or {}).get("coordinator") or {}).get("configuration") or {}
    out: dict[str, str] = {}
    for name, value in conf.items():
        if not (isinstance(name, str) and isinstance(value, str)) or name in w.params:
            continue
        if "${coord:" in value and "${" + name + "}" in wf_xml:
            out[name] = value
    return out


def _coordinator_xml(
    w: Workflow,
    ctx: _Ctx,
    freq: str,
    events: list[_InputEvent] | None = None,
    carried: dict[str, str] | None = None,
) -> bytes:
    events = events or []
    if w.start_date:
        start = _utc_minutes(_first_nominal(w))
    else:
        ctx.warn("BO603", "no start_date; set job property 'start'", target="${start}")
        start = "${start}"
    if w.end_date:
        end = _utc_minutes(_end_bound(w))
    else:
        ctx.warn(
            "BO602", f"no end_date; coordinator ends at {_FAR_END}", severity="info", target="end"
        )
        end = _FAR_END
    root = etree.Element(
        _q("coordinator-app", COORD_NS),
        nsmap={None: COORD_NS},
        name=_xml_safe(w.id),
        frequency=freq,
        start=start,
        end=end,
        timezone=w.schedule.timezone or "UTC",
    )
    # Oozie starts at the first nominal time and needs an end: the source's own
    # dates (same runs) for wfconv's Oozie reader, which checks them.
    dates: dict[str, object] = {"start_date": w.start_date, "end_date": w.end_date}
    dates["model"] = w.schedule.time_model
    if w.schedule.interval_s:
        dates["interval_s"] = w.schedule.interval_s
    root.append(etree.Comment(" wfconv coordinator dates: " + _comment_json(dates) + " "))
    controls = {}
    timeouts = [ev.timeout_min for ev in events if ev.timeout_min is not None]
    if timeouts:
        controls["timeout"] = str(max(timeouts))
    if w.max_active_runs:
        controls["concurrency"] = str(w.max_active_runs)
    if w.catchup is False:
        controls["execution"] = "LAST_ONLY"
        ctx.warn(
            "BO604",
            "catchup=False: execution LAST_ONLY runs only the latest due action",
            severity="info",
            target="controls/execution",
        )
    elif w.catchup is None and not effective_catchup(w):
        # The source engine's default (docs/semantics.md R3): off in Airflow 3.
        controls["execution"] = "LAST_ONLY"
        ctx.warn(
            "BO604",
            "catchup not set, off by default in the source engine: execution LAST_ONLY runs "
            "only the latest due action",
            severity="info",
            target="controls/execution",
        )
    if controls:
        c = _sub(root, "controls", ns=COORD_NS)
        for key in ("timeout", "concurrency", "execution"):
            if key in controls:
                _sub(c, key, controls[key], ns=COORD_NS)
    _coordinator_events(root, w, events, freq)
    action = _sub(root, "action", ns=COORD_NS)
    wf = _sub(action, "workflow", ns=COORD_NS)
    _sub(wf, "app-path", "${wfAppPath}", ns=COORD_NS)
    anchors = {"end": "coord:nominalTime()"}
    if any(a == "start" for _, a, _, _ in ctx.dates_used.values()):
        anchors["start"] = _anchor_start_el(freq, ctx)

    def moment(anchor: str, n: int, unit: str) -> str:
        base = anchors[anchor]
        return f"coord:dateOffset({base}, {n}, '{unit}')" if n else base

    props = {
        prop: f"${{coord:formatTime({moment(anchor, n, unit)}, {_el_string(fmt)})}}"
        for prop, (fmt, anchor, n, unit) in sorted(ctx.dates_used.items())
    }
    if props:
        ctx.warn(
            "BO502",
            f"run dates {sorted(props)} are passed from the coordinator "
            + (
                "(the nominal time is the run's tick)"
                if w.schedule.time_model == TRIGGER and not w.schedule.interval_s
                else "(interval end = nominal time, interval start = "
                + (
                    "one period earlier)"
                    if w.schedule.time_model != TRIGGER
                    else "earlier by the interval)"
                )
            ),
            severity="info",
            target="coordinator configuration",
        )
    for name, value in sorted((carried or {}).items()):
        props.setdefault(name, value)
    _configuration(wf, props, COORD_NS)
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")


# ---------------------------------------------------------------------------
# job.properties


def _prop_escape(text: str, key: bool = False) -> str:
    """java.util.Properties escaping (ISO-8859-1 file, \\uXXXX for the rest)."""
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\f":
            out.append("\\f")
        elif ch in "=:#!" or (ch == " " and (key or i == 0)):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) > 0x7E:
            for unit in ch.encode("utf-16-be").hex(" ", 2).split():
                out.append("\\u" + unit)
        else:
            out.append(ch)
    return "".join(out)


def _job_properties(
    w: Workflow, params: dict[str, str | None], scheduled: bool, no_forkjoin_check: bool = False
) -> str:
    # a parameter the workflow declares (even without a value: the submitter
    # must give it) gets no placeholder value here
    given = set(params)
    defaults = [
        ("nameNode", "hdfs://localhost:8020"),
        ("resourceManager", "localhost:8032"),
        ("jdbcUrl", "jdbc:hive2://localhost:10000/default"),
    ]
    lines = [
        "# Generated by wfconv: job properties for workflow " + _prop_escape(w.id),
        *(f"{k}={v}" for k, v in defaults if k not in given),
        "appRoot=${nameNode}/user/${user.name}/apps/" + _prop_escape(re.sub(r"[^\w.-]", "_", w.id)),
        "wfAppPath=${appRoot}",
    ]
    if scheduled:
        lines.append("oozie.coord.application.path=${appRoot}")
    else:
        lines.append("oozie.wf.application.path=${appRoot}")
    if no_forkjoin_check:
        lines.append("oozie.wf.validate.ForkJoin=false")
    for name, value in params.items():
        if value is not None:
            lines.append(f"{_prop_escape(name, key=True)}={_prop_escape(value)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------


def _task_level_losses(w: Workflow, ctx: _Ctx) -> None:
    for t in w.tasks:
        if t.timeout_s:
            ctx.warn(
                "BO305",
                f"timeout {t.timeout_s}s dropped (Oozie has no action timeout)",
                task=t,
                target="none",
            )
        if t.mapped:
            ctx.warn(
                "BO701",
                "dynamic task mapping dropped: one action runs once",
                task=t,
                target="single action",
            )
        if t.depends_on_past:
            ctx.warn("BO701", "depends_on_past dropped", task=t, target="none")
        if t.role is not None:
            ctx.warn(
                "BO701",
                f"{t.role} role dropped: a setup further upstream no longer stops the tasks "
                "after it; a teardown neither waits for its scope nor is left out of the run's state",
                task=t,
                target="none",
            )
        if t.pool:
            ctx.warn("BO701", f"pool {t.pool!r} dropped", task=t, severity="info", target="none")
        if t.owner:
            # Oozie runs a whole job as user.name; an action has no owner.
            ctx.warn("BO701", f"owner {t.owner!r} dropped", task=t, target="none")
    if w.groups:
        ctx.warn(
            "BO702",
            f"{len(w.groups)} task group(s) flattened",
            severity="info",
            target="flat node list",
        )
    if w.timeout_s:
        ctx.warn("BO701", "workflow timeout dropped", target="none")


# Oozie identifiers: [a-zA-Z_][-_a-zA-Z0-9]{0,38} (the schema's IDENTIFIER as
# Oozie 4.1 enforces it: at most 39 characters).
_NODE_NAME_MAX = 39
_NODE_NAME = re.compile(r"[A-Za-z_][-_A-Za-z0-9]{0,38}")


def _node_names(ids: list[str]) -> dict[str, str]:
    """Task id -> node name (common ``identifier_map``, then names longer than
    Oozie accepts are shortened with a stable numeric suffix)."""
    names = identifier_map(ids, reserved=_RESERVED, style="oozie")
    taken = set(names.values()) | set(_RESERVED)
    for tid in ids:
        name = names[tid]
        if len(name) <= _NODE_NAME_MAX:
            continue
        n = 2
        while True:
            suffix = f"_{n}"
            short = name[: _NODE_NAME_MAX - len(suffix)] + suffix
            if short not in taken:
                break
            n += 1
        taken.add(short)
        names[tid] = short
    return names


def emit(workflow: Workflow, **options) -> Emitted:
    """workflow.xml (+ coordinator.xml when scheduled) + job.properties."""
    ctx = _Ctx(workflow, {})
    routed = dissolve_routing(workflow)
    ctx.controls = control_names(workflow)
    w = ctx.w = routed.workflow
    ctx.dissolved, ctx.error_to_end = routed.redirects, routed.error_to_end
    names = _node_names(w.task_ids())
    ctx.names = names
    ctx.param_names = identifier_map(
        list(w.params),
        reserved=tuple(DATE_TEMPLATES) + ("appRoot", "wfAppPath", "start"),
        style="python",
    )
    _report_unwritable(ctx, w)
    for raw, value in w.params.items():
        if value is not None and not isinstance(value, str):
            text = json.dumps(value, ensure_ascii=False)
            ctx.warn(
                "BO608",
                f"parameter {raw!r} = {value!r} ({type(value).__name__}) becomes the string "
                f"{text!r}: Oozie properties are strings",
                target=f"${{{ctx.param_names[raw]}}}",
            )
    for tid, name in names.items():
        if tid != name:
            ctx.warn(
                "BO001",
                f"task id {tid!r} is node {name!r} in Oozie",
                severity="info",
                task=w.task(tid),
                target=name,
            )
    _task_level_losses(w, ctx)
    w = ctx.w = _clamped_start(w, ctx)
    freq = _frequency(w, ctx)
    events = _input_events(w, freq, ctx)
    if events:
        w = ctx.w = _without_sensors(w, events, ctx)
    wf_xml, params, no_forkjoin_check = _workflow_xml(w, ctx)
    files = {"workflow.xml": wf_xml.decode("utf-8")}
    if freq is None and (w.start_date or w.end_date):
        ctx.warn(
            "BO609",
            f"start_date {w.start_date} / end_date {w.end_date} dropped: without a "
            "coordinator the workflow.xml has no dates (it runs when submitted)",
            target="no coordinator",
        )
    if freq is not None:
        carried = _carried_configuration(w, files["workflow.xml"])
        files["coordinator.xml"] = _coordinator_xml(w, ctx, freq, events, carried).decode("utf-8")
    files["job.properties"] = _job_properties(w, params, freq is not None, no_forkjoin_check)
    return Emitted(files, ctx.diags)


# ---------------------------------------------------------------------------
# self-check: schema shape and the graph rules Oozie enforces at submission

_XSD_PATH = __file__.rsplit("/", 1)[0] + "/oozie_workflow_1_0.xsd"


def _schema():
    global _SCHEMA
    try:
        return _SCHEMA
    except NameError:
        _SCHEMA = etree.XMLSchema(etree.parse(_XSD_PATH))
        return _SCHEMA


def validate_workflow_xml(text: str | bytes, error_paths_leave_forks: bool = False) -> list[str]:
    """Problems of a workflow.xml: the 1.0 schema shape (local XSD), then what
    Oozie's validator checks: unique names, transitions to known nodes, every
    node reachable from start, no cycle, and properly nested fork/join (each
    fork's paths meet at one join, nothing leaves a fork except to a kill)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed: {exc}"]
    schema = _schema()
    problems = (
        [f"schema: line {e.line}: {e.message}" for e in schema.error_log]
        if not schema.validate(root)
        else []
    )
    nodes: dict[str, etree._Element] = {}
    for el in root:
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname
        if local in ("decision", "fork", "join", "kill", "action", "end"):
            name = el.get("name")
            if name in nodes:
                problems.append(f"duplicate node name {name!r}")
            nodes[name] = el

    def targets(el) -> list[str]:
        local = etree.QName(el).localname
        if local == "action":
            return [
                c.get("to")
                for c in el
                if isinstance(c.tag, str) and etree.QName(c).localname in ("ok", "error")
            ]
        if local == "decision":
            return [
                c.get("to")
                for c in el.iter()
                if isinstance(c.tag, str) and etree.QName(c).localname in ("case", "default")
            ]
        if local == "fork":
            return [c.get("start") for c in el if isinstance(c.tag, str)]
        if local == "join":
            return [el.get("to")]
        return []

    start = root.find(_q("start"))
    first = start.get("to") if start is not None else None
    for name, el in nodes.items():
        for t in targets(el):
            if t not in nodes:
                problems.append(f"{name!r} goes to unknown node {t!r}")
    if first not in nodes:
        problems.append(f"start goes to unknown node {first!r}")
    if any("unknown node" in p for p in problems):
        return problems
    # reachability and cycles (iterative DFS with colours)
    colour: dict[str, int] = {}
    stack: list[tuple[str, int]] = [(first, 0)]
    while stack:
        n, i = stack.pop()
        if i == 0:
            if colour.get(n) == 1:
                problems.append(f"cycle through {n!r}")
                continue
            if colour.get(n) == 2:
                continue
            colour[n] = 1
        succ = [t for t in targets(nodes[n]) if t in nodes]
        if i < len(succ):
            stack.append((n, i + 1))
            stack.append((succ[i], 0))
        else:
            colour[n] = 2
    for name in nodes:
        if name not in colour:
            problems.append(f"node {name!r} is not reachable from start")
    if any(p.startswith("cycle") for p in problems):
        return problems

    memo: dict[str, frozenset[str]] = {}

    def ok_exits(n: str) -> frozenset[str]:
        """Joins (or 'end') a path starting at ``n`` reaches, skipping over
        nested fork/join pairs; kill nodes end a path without an exit."""
        if n in memo:
            return memo[n]
        el = nodes[n]
        local = etree.QName(el).localname
        out: frozenset[str]
        if local == "join":
            out = frozenset({n})
        elif local == "end":
            out = frozenset({"end"})
        elif local == "kill":
            out = frozenset()
        elif local == "action":
            ok = el.find(_q("ok")).get("to")
            out = ok_exits(ok)
            err = el.find(_q("error")).get("to")
            if etree.QName(nodes[err]).localname != "kill" and not error_paths_leave_forks:
                out = out | ok_exits(err)
        elif local == "decision":
            out = frozenset().union(*(ok_exits(t) for t in targets(el)))
        else:  # fork
            joins: set[str] = set()
            for p in targets(el):
                joins |= ok_exits(p)
            if len(joins) != 1 or "end" in joins:
                problems.append(
                    f"fork {n!r}: paths meet at {sorted(joins)} (need exactly one join)"
                )
                out = frozenset()
            else:
                (j,) = joins
                out = ok_exits(nodes[j].get("to"))
        memo[n] = out
        return out

    top = ok_exits(first)
    stray = sorted(x for x in top if x != "end")
    if stray:
        problems.append(f"join(s) {stray} reached outside their fork")
    return problems
