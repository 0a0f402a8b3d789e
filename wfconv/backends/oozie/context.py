"""What every part of the Oozie writer shares: the namespaces, the emit
context (``_Ctx``: node names, ledger entries, the run dates and parameters
the templates use), templates -> Oozie EL, and the lxml element helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from wfconv.backends.common import (
    identifier_map,
    loss,
)
from wfconv.ir import literal
from wfconv.ir.model import Diagnostic, Task, Workflow

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
    attrib = {k.replace("_", "-"): v for k, v in attrs.items()} if attrs else None
    prefix = "{" + ns + "}"
    if not parent.tag.startswith(prefix):
        # An action element from another schema declares it as its default namespace.
        el = etree.SubElement(parent, prefix + tag, attrib, nsmap={None: ns})
    else:
        el = etree.SubElement(parent, prefix + tag, attrib)
    if text is not None:
        el.text = text
    return el


# What XML 1.0 cannot hold, even as a character reference.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """XML 1.0 cannot hold most control characters even as references; they
    are replaced by U+FFFD (BO703 in the ledger, see _report_unwritable)."""
    if text.isascii() and text.isprintable():  # the common case, checked in C
        return text
    return _NOT_XML.sub("\ufffd", text)


def _unwritable(value: Any, found: set[str], depth: int = 0) -> None:
    """Characters of ``value`` (strings inside containers too) XML cannot hold."""
    if isinstance(value, str):
        if not (value.isascii() and value.isprintable()):
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
