"""One Oozie action per IR action kind (``ACTIONS``): shell, python through
a shell, email, sub-workflow, SQL, container, sensors as polling shells,
Hadoop-family actions, and an opaque fallback."""

from __future__ import annotations

import math
import re
import shlex

from lxml import etree

from wfconv.backends.common import (
    env_mapping,
)
from wfconv.backends.oozie.context import (
    _TEMPLATE,
    ACTION_NS,
    WF_NS,
    _configuration,
    _Ctx,
    _q,
    _sub,
    _xml_safe,
    to_el,
)
from wfconv.ir.model import Task

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
        _failing_shell(
            parent,
            ctx,
            task,
            f"python callable {func}",
            f"python callable {func!r} has no importable module; the shell action fails",
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
        _failing_shell(
            parent,
            ctx,
            task,
            "sensor",
            f"sensor {f.get('sensor')!r} has no Oozie counterpart; the shell action fails",
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
    _failing_shell(
        parent,
        ctx,
        task,
        str(f.get("type")),
        f"opaque {f.get('type')!r} cannot run in Oozie; the shell action fails",
    )


def _failing_shell(parent, ctx: _Ctx, task: Task, what: str, message: str) -> None:
    """A shell action that says ``what`` was not converted and fails (BO404)."""
    ctx.warn("BO404", message, task=task, severity="error", target="failing shell action")
    note = shlex.quote(f"wfconv: {what} was not converted")
    _shell(parent, ctx, task, "bash", ["-c", f"echo {note} >&2; exit 1"])


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
