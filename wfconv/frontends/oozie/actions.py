"""Oozie action elements -> IR actions (one builder per action tag).

Why a table: the Oozie action vocabulary is open (every extension schema adds
a tag); ``BUILDERS`` maps each known tag to a small function and anything else
becomes an ``opaque`` action that keeps its XML, so nothing is lost silently.

Every text goes through the EL translator (``cx.t``) so templates come out in
the neutral spelling. Fields kept per kind (docs/semantics.md §4):

- shell -> ``shell``: command (exec + arguments, shell-quoted), exec, args,
  env, capture_output;
- java, map-reduce (plain/streaming/pipes), pig, hive, hive2, spark, sqoop,
  distcp, ssh, git, fs -> ``hadoop`` with ``engine`` naming the tag
  (map-reduce with a ``<streaming>`` child is ``streaming``, ``pipes`` likewise);
- email -> ``email``; sub-workflow -> ``subworkflow``.

Hadoop-style actions also keep ``properties`` (``<global>`` configuration
merged under the action's own), ``prepare`` (delete/mkdir operations), ``files``
and ``archives``; cluster wiring (job-tracker/resource-manager, name-node,
job-xml, launcher) goes to ``task.extra["oozie"]``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wfconv.errors import InputError
from wfconv.frontends.oozie.props import configuration_props
from wfconv.frontends.oozie.xml import child, children, load_file, local, text_of, to_xml
from wfconv.ir.model import Action
from wfconv.ir.templates import shell_word

UNKNOWN_ACTION = "OZ401"
UNREAD_ELEMENT = "OZ402"


@dataclass
class ActionCtx:
    """What a builder needs: the EL translator, the <global> block, a reporter."""

    t: Callable[[str | None, int | None], str | None]
    report: Callable[[str, str, str, int | None], None]
    path: str
    global_props: dict[str, str] = field(default_factory=dict)
    global_wiring: dict[str, Any] = field(default_factory=dict)

    def text(self, el, name: str) -> str | None:
        c = child(el, name)
        return self.t(text_of(c), c.sourceline if c is not None else None)

    def texts(self, el, name: str) -> list[str]:
        return [self.t(text_of(c) or "", c.sourceline) or "" for c in children(el, name)]


@dataclass
class Built:
    action: Action
    extra: dict[str, Any] = field(default_factory=dict)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != [] and v != {}}


def _prepare(el, cx: ActionCtx) -> list[dict[str, str]]:
    prep = child(el, "prepare")
    if prep is None:
        return []
    out = []
    for op in children(prep):
        out.append({"op": local(op), "path": cx.t(op.get("path"), op.sourceline) or ""})
    return out


def _properties(el, cx: ActionCtx) -> dict[str, str]:
    """Configuration as Oozie builds it: ``<global>``, then the action's
    ``job-xml`` files found in the app folder, then its ``<configuration>``."""
    props = dict(cx.global_props)
    for jx in children(el, "job-xml"):
        for p in _job_xml(text_of(jx) or "", cx, jx.sourceline):
            props[p.name] = cx.t(p.value, p.line) or ""
    for p in configuration_props(child(el, "configuration"), cx.path):
        props[p.name] = cx.t(p.value, p.line) or ""
    return props


def _job_xml(ref: str, cx: ActionCtx, line: int | None) -> list:
    """Properties of a job-xml file when it is a relative path inside the app
    folder (Oozie resolves those against the app path); others live on HDFS."""
    if not ref or "${" in ref or "://" in ref or os.path.isabs(ref):
        return []
    folder = os.path.realpath(os.path.dirname(cx.path) or ".")
    target = os.path.realpath(os.path.join(folder, ref))
    if not target.startswith(folder + os.sep) or not os.path.isfile(target):
        return []
    try:
        return configuration_props(load_file(target).root, target)
    except InputError as exc:
        cx.report("warning", UNREAD_ELEMENT, f"job-xml {ref!r} is not read: {exc}", line)
        return []


def _wiring(el, cx: ActionCtx) -> dict[str, Any]:
    out = dict(cx.global_wiring)
    for tag, key in (
        ("job-tracker", "job_tracker"),
        ("resource-manager", "resource_manager"),
        ("name-node", "name_node"),
    ):
        v = cx.text(el, tag)
        if v is not None:
            out[key] = v
    job_xml = cx.texts(el, "job-xml")
    if job_xml:
        out["job_xml"] = job_xml
    launcher = child(el, "launcher")
    if launcher is not None:
        out["launcher"] = {local(c): cx.t(text_of(c), c.sourceline) for c in children(launcher)}
    return out


def _hadoop(
    el,
    cx: ActionCtx,
    engine: str,
    fields: dict[str, Any],
    known: set[str],
    configurable: bool = True,
) -> Built:
    """``configurable``: the action takes a Hadoop configuration (and so the
    ``<global>`` one); ssh and git do not."""
    base = {
        "engine": engine,
        **fields,
        "properties": _properties(el, cx) if configurable else None,
        "prepare": _prepare(el, cx),
        "files": cx.texts(el, "file"),
        "archives": cx.texts(el, "archive"),
    }
    _report_unread(el, cx, known | _HADOOP_COMMON)
    return Built(Action("hadoop", _drop_none(base)), _drop_none(_wiring(el, cx)))


_HADOOP_COMMON = {
    "job-tracker",
    "resource-manager",
    "name-node",
    "prepare",
    "job-xml",
    "configuration",
    "file",
    "archive",
    "launcher",
}


def _report_unread(el, cx: ActionCtx, known: set[str]) -> None:
    for c in children(el):
        if local(c) not in known:
            cx.report(
                "warning",
                UNREAD_ELEMENT,
                f"<{local(el)}> child <{local(c)}> is not carried into the IR",
                c.sourceline,
            )


def _capture(el) -> bool | None:
    return True if child(el, "capture-output") is not None else None


# ---------------------------------------------------------------------------
# builders


def shell(el, cx: ActionCtx) -> Built:
    exe = cx.text(el, "exec") or ""
    args = cx.texts(el, "argument")
    env: dict[str, str] = {}
    for kv in cx.texts(el, "env-var"):
        k, _, v = kv.partition("=")
        env[k] = v
    fields = _drop_none(
        {
            "command": " ".join(shell_word(w) for w in [exe, *args]) if exe else "",
            "exec": exe,
            "args": args,
            "env": env,
            "capture_output": _capture(el),
            "properties": _properties(el, cx),
            "prepare": _prepare(el, cx),
            "files": cx.texts(el, "file"),
            "archives": cx.texts(el, "archive"),
        }
    )
    fields.setdefault("command", "")
    _report_unread(el, cx, _HADOOP_COMMON | {"exec", "argument", "env-var", "capture-output"})
    return Built(Action("shell", fields), _drop_none(_wiring(el, cx)))


def java(el, cx: ActionCtx) -> Built:
    opts = cx.texts(el, "java-opt")
    single = cx.text(el, "java-opts")
    fields = {
        "main_class": cx.text(el, "main-class"),
        "java_opts": single if single is not None else (" ".join(opts) if opts else None),
        "args": cx.texts(el, "arg"),
        "capture_output": _capture(el),
    }
    return _hadoop(
        el, cx, "java", fields, {"main-class", "java-opts", "java-opt", "arg", "capture-output"}
    )


def map_reduce(el, cx: ActionCtx) -> Built:
    streaming = child(el, "streaming")
    pipes = child(el, "pipes")
    fields: dict[str, Any] = {"config_class": cx.text(el, "config-class")}
    engine = "map-reduce"
    if streaming is not None:
        engine = "streaming"
        fields["streaming"] = _drop_none(
            {
                "mapper": cx.text(streaming, "mapper"),
                "reducer": cx.text(streaming, "reducer"),
                "record_reader": cx.text(streaming, "record-reader"),
                "record_reader_mapping": cx.texts(streaming, "record-reader-mapping"),
                "env": cx.texts(streaming, "env"),
            }
        )
    if pipes is not None:
        engine = "pipes"
        fields["pipes"] = {local(c): cx.t(text_of(c), c.sourceline) for c in children(pipes)}
    return _hadoop(el, cx, engine, fields, {"streaming", "pipes", "config-class"})


def _script_action(engine: str) -> Callable[[Any, ActionCtx], Built]:
    def build(el, cx: ActionCtx) -> Built:
        fields = {
            "jdbc_url": cx.text(el, "jdbc-url"),
            "password": cx.text(el, "password"),
            "script": cx.text(el, "script"),
            "query": cx.text(el, "query"),
            "params": cx.texts(el, "param"),
            "args": cx.texts(el, "argument"),
        }
        known = {"jdbc-url", "password", "script", "query", "param", "argument"}
        return _hadoop(el, cx, engine, fields, known)

    return build


def spark(el, cx: ActionCtx) -> Built:
    fields = {
        "master": cx.text(el, "master"),
        "mode": cx.text(el, "mode"),
        "name": cx.text(el, "name"),
        "main_class": cx.text(el, "class"),
        "jar": cx.text(el, "jar"),
        "spark_opts": cx.text(el, "spark-opts"),
        "args": cx.texts(el, "arg"),
    }
    return _hadoop(
        el, cx, "spark", fields, {"master", "mode", "name", "class", "jar", "spark-opts", "arg"}
    )


def sqoop(el, cx: ActionCtx) -> Built:
    fields = {"command": cx.text(el, "command"), "args": cx.texts(el, "arg")}
    return _hadoop(el, cx, "sqoop", fields, {"command", "arg"})


def distcp(el, cx: ActionCtx) -> Built:
    fields = {"java_opts": cx.text(el, "java-opts"), "args": cx.texts(el, "arg")}
    return _hadoop(el, cx, "distcp", fields, {"java-opts", "arg"})


def ssh(el, cx: ActionCtx) -> Built:
    args = cx.texts(el, "args") + cx.texts(el, "arg")
    fields = {
        "host": cx.text(el, "host"),
        "command": cx.text(el, "command"),
        "args": args,
        "capture_output": _capture(el),
    }
    return _hadoop(
        el, cx, "ssh", fields, {"host", "command", "args", "arg", "capture-output"}, False
    )


def git(el, cx: ActionCtx) -> Built:
    fields = {
        "git_uri": cx.text(el, "git-uri"),
        "branch": cx.text(el, "branch"),
        "key_path": cx.text(el, "key-path"),
        "destination_uri": cx.text(el, "destination-uri"),
    }
    return _hadoop(
        el, cx, "git", fields, {"git-uri", "branch", "key-path", "destination-uri"}, False
    )


# fs operation -> (attributes kept, equivalent `hdfs dfs` words)
_FS_OPS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, str]], list[str]]]] = {
    "delete": (("path", "skip-trash"), lambda a: ["-rm", "-r", "-f", a.get("path", "")]),
    "mkdir": (("path",), lambda a: ["-mkdir", "-p", a.get("path", "")]),
    "move": (("source", "target"), lambda a: ["-mv", a.get("source", ""), a.get("target", "")]),
    "chmod": (
        ("path", "permissions", "dir-files"),
        lambda a: ["-chmod", a.get("permissions", ""), a.get("path", "")],
    ),
    "touchz": (("path",), lambda a: ["-touchz", a.get("path", "")]),
    "chgrp": (
        ("path", "group", "dir-files"),
        lambda a: ["-chgrp", a.get("group", ""), a.get("path", "")],
    ),
}


def fs(el, cx: ActionCtx) -> Built:
    if not any(local(c) for c in el):
        # <fs/> with no operations (nor configuration) does nothing: a no-op task,
        # the way wfconv's backend writes an empty task.
        return Built(Action("empty", {}), {"noop": "fs"})
    ops: list[dict[str, Any]] = []
    lines: list[str] = []
    for op in children(el):
        name = local(op)
        if name not in _FS_OPS:
            continue
        keep, words = _FS_OPS[name]
        attrs = {k: cx.t(op.get(k), op.sourceline) for k in keep if op.get(k) is not None}
        if child(op, "recursive") is not None:
            attrs["recursive"] = "true"
            if name in ("chmod", "chgrp"):
                words = _with_recursive(words)
        ops.append({"op": name, **attrs})
        lines.append(" ".join(shell_word(w) for w in ["hdfs", "dfs", *words(attrs)]))  # type: ignore[arg-type]
    fields = {
        "engine": "fs",
        "operations": ops,
        # The same operations as an `hdfs dfs` script, for targets without an fs action.
        "command": " && ".join(lines) or None,
    }
    _report_unread(el, cx, set(_FS_OPS) | {"name-node", "job-xml", "configuration"})
    return Built(Action("hadoop", _drop_none(fields)), _drop_none(_wiring(el, cx)))


def _with_recursive(
    words: Callable[[dict[str, str]], list[str]],
) -> Callable[[dict[str, str]], list[str]]:
    return lambda a: [words(a)[0], "-R", *words(a)[1:]]


def email(el, cx: ActionCtx) -> Built:
    def addresses(tag: str) -> list[str]:
        v = cx.text(el, tag)
        return [x.strip() for x in v.split(",") if x.strip()] if v else []

    fields = {
        "to": addresses("to"),
        "cc": addresses("cc"),
        "bcc": addresses("bcc"),
        "subject": cx.text(el, "subject"),
        "body": cx.text(el, "body"),
        "content_type": cx.text(el, "content_type"),
        "attachment": cx.text(el, "attachment"),
    }
    _report_unread(el, cx, {"to", "cc", "bcc", "subject", "body", "content_type", "attachment"})
    return Built(Action("email", _drop_none(fields)))


def sub_workflow(el, cx: ActionCtx) -> Built:
    conf = {
        p.name: cx.t(p.value, p.line) or ""
        for p in configuration_props(child(el, "configuration"), cx.path)
    }
    fields = {
        "app_path": cx.text(el, "app-path"),
        "propagate_configuration": child(el, "propagate-configuration") is not None,
        "conf": conf,
        "wait_for_completion": True,
    }
    _report_unread(el, cx, {"app-path", "propagate-configuration", "configuration"})
    return Built(Action("subworkflow", {k: v for k, v in fields.items() if v is not None}))


def opaque(el, cx: ActionCtx) -> Built:
    tag = local(el)
    args: dict[str, Any] = {}
    for c in children(el):
        if len(children(c)) == 0:
            args.setdefault(local(c), []).append(cx.t(text_of(c), c.sourceline))
    args = {k: v[0] if len(v) == 1 else v for k, v in args.items()}
    cx.report(
        "warning",
        UNKNOWN_ACTION,
        f"custom action <{tag}> ({el.nsmap.get(el.prefix)}) is kept as an opaque action with its XML",
        el.sourceline,
    )
    return Built(Action("opaque", {"type": tag, "args": args, "xml": to_xml(el)}))


BUILDERS: dict[str, Callable[[Any, ActionCtx], Built]] = {
    "shell": shell,
    "java": java,
    "map-reduce": map_reduce,
    "pig": _script_action("pig"),
    "hive": _script_action("hive"),
    "hive2": _script_action("hive2"),
    "spark": spark,
    "sqoop": sqoop,
    "distcp": distcp,
    "ssh": ssh,
    "git": git,
    "fs": fs,
    "email": email,
    "sub-workflow": sub_workflow,
}


def build_action(el, cx: ActionCtx) -> Built:
    """``el`` is the action's one child element (``<shell>``, ``<pig>`` …)."""
    return BUILDERS.get(local(el), opaque)(el, cx)


def global_block(el, cx: ActionCtx) -> dict[str, Any]:
    """``<global>``: fills ``cx`` (configuration and wiring) and returns the
    facts kept in ``workflow.extra["oozie"]["global"]``."""
    if el is None:
        return {}
    props = _properties(el, ActionCtx(cx.t, cx.report, cx.path))
    wiring = _wiring(el, ActionCtx(cx.t, cx.report, cx.path))
    cx.global_props = props
    cx.global_wiring = wiring
    return _drop_none({**wiring, "configuration": props})
