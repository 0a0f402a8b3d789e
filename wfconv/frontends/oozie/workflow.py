"""Oozie workflow.xml -> one IR workflow (plus the sub-workflows found on disk).

The entry point, ``wfconv.frontends.oozie.parse``, decides what a path is and
calls this module for workflows and ``coord`` for coordinators and bundles.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from wfconv.frontends.oozie import graph as G
from wfconv.frontends.oozie.actions import ActionCtx, Built, build_action, global_block
from wfconv.frontends.oozie.apps import locate
from wfconv.frontends.oozie.el import ElContext, J
from wfconv.frontends.oozie.hints import read_hints, restore_implied
from wfconv.frontends.oozie.props import (
    Prop,
    configuration_props,
    read_config_default,
    read_properties_file,
)
from wfconv.frontends.oozie.xml import (
    XmlDoc,
    child,
    child_text,
    children,
    load_file,
    local,
)
from wfconv.ir import expr as E
from wfconv.ir import literal
from wfconv.ir.model import Action, Bundle, Diagnostic, SourceRef, Task, Workflow
from wfconv.ir.validate import finalize

ENGINE = "oozie"

RETRY_WHITELIST = "OZ301"
RETRY_CAPPED = "OZ302"
BAD_NUMBER = "OZ307"
REQUIRED_PARAM = "OZ206"
NOT_CARRIED = "OZ601"

# Oozie's defaults (oozie-default.xml): user retry interval (minutes) and maximum.
DEFAULT_RETRY_INTERVAL_MIN = 10
SYSTEM_RETRY_MAX = 3

APP_FILES = ("bundle.xml", "coordinator.xml", "workflow.xml")

NOTIFICATION_PROPERTIES = ("oozie.wf.workflow.notification.url", "oozie.wf.action.notification.url")


@dataclass
class Sources:
    """Properties handed down to a workflow app (lowest precedence first)."""

    props: list[Prop] = field(default_factory=list)
    data_events: dict[str, J] = field(default_factory=dict)
    # Files already parsed in this call (sub-workflow cycle guard).
    seen: set[str] = field(default_factory=set)


def reporter(diags: list[Diagnostic], path: str):
    def report(severity: str, code: str, message: str, line: int | None) -> None:
        diags.append(Diagnostic(severity, code, message, path, line))

    return report


def app_properties(folder: str, include_job: bool = True) -> list[Prop]:
    """config-default.xml then job.properties of an app folder (if present)."""
    out: list[Prop] = []
    cd = os.path.join(folder, "config-default.xml")
    if os.path.isfile(cd):
        out.extend(read_config_default(cd))
    jp = os.path.join(folder, "job.properties")
    if include_job and os.path.isfile(jp):
        out.extend(read_properties_file(jp))
    return out


# ---------------------------------------------------------------------------
# workflow


def _int_attr(ctx: ElContext, raw: str | None, what: str, line: int | None, report) -> int | None:
    if raw is None:
        return None
    val = ctx.constant(raw, line)
    try:
        if val is not None:
            return int(str(val).strip())
    except ValueError:
        pass
    report(
        "warning",
        BAD_NUMBER,
        f"{what} {raw!r} is not a whole number known before run time; ignored",
        line,
    )
    return None


def _retry(task: Task, el, ctx: ElContext, report) -> None:
    line = el.sourceline
    rmax = _int_attr(ctx, el.get("retry-max"), "retry-max", line, report)
    interval = _int_attr(ctx, el.get("retry-interval"), "retry-interval", line, report)
    policy = (el.get("retry-policy") or "periodic").strip().lower()
    facts: dict[str, Any] = {}
    for attr in ("retry-max", "retry-interval", "retry-policy"):
        if el.get(attr) is not None:
            facts[attr] = el.get(attr)
    if facts:
        task.extra.setdefault("oozie", {})["retry"] = facts
    if not rmax or rmax <= 0:
        return
    if rmax > SYSTEM_RETRY_MAX:
        report(
            "warning",
            RETRY_CAPPED,
            f"action {task.id!r}: retry-max {rmax} is above Oozie's system maximum "
            f"({SYSTEM_RETRY_MAX}, oozie.service.LiteWorkflowStoreService.user.retry.max); "
            f"{SYSTEM_RETRY_MAX} retries are kept",
            line,
        )
        rmax = SYSTEM_RETRY_MAX
    task.retries = rmax
    minutes = interval if interval is not None else DEFAULT_RETRY_INTERVAL_MIN
    # Past a century the IR keeps a century (IR011); huge ints are not floats.
    task.retry_delay_s = float(min(minutes, 10**9) * 60)
    task.retry_backoff = "exponential" if policy == "exponential" else "fixed"
    report(
        "warning",
        RETRY_WHITELIST,
        f"action {task.id!r}: Oozie retries only failures whose error code is in "
        "oozie.service.LiteWorkflowStoreService.user.retry.error.code (JA008, JA009, JA017, JA018, "
        "JA019, FS008, FS009, FS014 unless extended); a shell's non-zero exit (code 1) is not retried. "
        f"The IR retries every failure {rmax} time(s)",
        line,
    )


_CONTROL = {"start", "end", "kill", "decision", "fork", "join"}
_SKIP = {"parameters", "global", "credentials"}


def _nodes(root, ctx: ElContext, acx: ActionCtx, path: str, report) -> list[G.Node]:
    nodes: list[G.Node] = []
    for el in children(root):
        tag = local(el)
        line = el.sourceline
        name = el.get("name") or ""
        if tag == "start":
            nodes.append(G.Node("::start", "start", line, to=el.get("to")))
        elif tag == "end":
            nodes.append(G.Node(name, "end", line))
        elif tag == "kill":
            msg = child(el, "message")
            text = child_text(el, "message")
            task = Task(
                id=name,
                action=Action(
                    "fail", {"message": ctx.text(text, msg.sourceline if msg is not None else line)}
                ),
                source=SourceRef("oozie", path, line),
                extra={"oozie": {"node": "kill"}},
            )
            nodes.append(G.Node(name, "kill", line, task=task))
        elif tag == "fork":
            nodes.append(
                G.Node(
                    name, "fork", line, paths=[p.get("start") or "" for p in children(el, "path")]
                )
            )
        elif tag == "join":
            nodes.append(G.Node(name, "join", line, to=el.get("to")))
        elif tag == "decision":
            nodes.append(_decision(el, name, ctx, path, report))
        elif tag == "action":
            nodes.append(_action(el, name, ctx, acx, path, report))
        elif tag in _SKIP:
            continue
        else:
            qualified = f"{el.prefix}:{tag}" if el.prefix else tag
            report("info", NOT_CARRIED, f"<{qualified}> is not carried into the IR", line)
    return nodes


def _decision(el, name: str, ctx: ElContext, path: str, report) -> G.Node:
    switch = child(el, "switch")
    cases: list[dict[str, Any]] = []
    default = None
    if switch is not None:
        for c in children(switch):
            if local(c) == "case":
                when = (c.text or "").strip()
                try:
                    node = ctx.inline_predicate(E.parse(when), c.sourceline)
                except E.ExprError as exc:
                    report(
                        "error",
                        "OZ207",
                        f"decision {name!r}: case predicate {when!r} is not valid EL: {exc.message}",
                        c.sourceline,
                    )
                    node = None
                cases.append({"when": when, "expr": node, "to": c.get("to"), "line": c.sourceline})
            elif local(c) == "default":
                default = c.get("to")
    task = Task(
        id=name,
        action=Action("branch", {"cases": [], "default": None}),
        source=SourceRef("oozie", path, el.sourceline),
        extra={"oozie": {"node": "decision"}},
    )
    return G.Node(name, "decision", el.sourceline, cases=cases, default=default, task=task)


def _action(el, name: str, ctx: ElContext, acx: ActionCtx, path: str, report) -> G.Node:
    ok = child(el, "ok")
    err = child(el, "error")
    body = [c for c in children(el) if local(c) not in ("ok", "error", "info")]
    for sla in children(el, "info"):
        report(
            "info",
            NOT_CARRIED,
            f"action {name!r}: <sla:info> is not carried into the IR",
            sla.sourceline,
        )
    if body:
        built = build_action(body[0], acx)
        tag, ns = local(body[0]), body[0].nsmap.get(body[0].prefix)
    else:
        report("error", "OZ403", f"action {name!r} has no action element", el.sourceline)
        built, tag, ns = Built(Action("opaque", {"type": "", "args": {}})), "", None
    oz: dict[str, Any] = {"node": "action", "type": tag}
    if ns:
        oz["xmlns"] = ns
    if el.get("cred"):
        oz["cred"] = el.get("cred")
    if built.extra:
        oz.update(built.extra)
    task = Task(
        id=name,
        action=built.action,
        source=SourceRef("oozie", path, el.sourceline),
        extra={"oozie": oz},
    )
    _retry(task, el, ctx, report)
    return G.Node(
        name,
        "action",
        el.sourceline,
        ok=ok.get("to") if ok is not None else None,
        error=err.get("to") if err is not None else None,
        task=task,
    )


def workflow_from_doc(
    doc: XmlDoc, src: Sources, wid: str | None = None
) -> tuple[Workflow, ElContext]:
    """One IR workflow from a parsed workflow.xml."""
    root, path = doc.root, doc.path
    diags: list[Diagnostic] = []
    report = reporter(diags, path)
    params_decl = configuration_props(child(root, "parameters"), path)
    merged: dict[str, str] = {}
    for p in [*params_decl, *src.props]:
        if p.value is not None:
            merged[p.name] = p.value
    raw_name = root.get("name") or os.path.splitext(os.path.basename(path))[0]
    ctx = ElContext(
        merged,
        raw_name,
        report,
        data_events=dict(src.data_events),
        keep_names={p.name for p in params_decl},
    )
    app_name = ctx.constant(raw_name, root.sourceline) or raw_name
    ctx.workflow_name = app_name
    acx = ActionCtx(ctx.text, report, path)
    glob = global_block(child(root, "global"), acx)
    nodes = _nodes(root, ctx, acx, path, report)
    hints = read_hints(root, {n.name: n.kind for n in nodes})
    if hints.kill is not None:
        nodes = _without_kill(nodes, hints.kill)
    result = G.build(nodes, path)
    for sev, code, msg, line in result.diags:
        report(sev, code, msg, line)
    for n in nodes:
        if n.kind == "decision" and n.task is not None:
            targets = result.branch_targets.get(n.name, {})
            n.task.action.fields["cases"] = [
                {
                    "when": c["when"],
                    "expr": c["expr"],
                    "to": targets.get(c["to"]) if c["to"] else None,
                }
                for c in n.cases
            ]
            n.task.action.fields["default"] = targets.get(n.default) if n.default else None
    params: dict[str, Any] = {}
    for p in params_decl:
        value = merged.get(p.name)
        # A parameter's value is a value, not a template: its literal text as is.
        text = ctx.text(value, p.line)
        params[p.name] = literal.unescape(text) if text and literal.is_literal(text) else text
        if value is None:
            report(
                "warning",
                REQUIRED_PARAM,
                f"parameter {p.name!r} has no default and no value in config-default.xml or "
                "job.properties; Oozie refuses to submit the job without it",
                p.line,
            )
    for k, v in ctx.params.items():
        params.setdefault(k, v)
    oz: dict[str, Any] = {
        "kind": "workflow",
        "schema": doc.version,
        "namespace": doc.namespace,
        "app_name": app_name,
    }
    if glob:
        oz["global"] = glob
    creds = child(root, "credentials")
    if creds is not None:
        oz["credentials"] = [
            {
                "name": c.get("name"),
                "type": c.get("type"),
                "properties": {p.name: p.value for p in configuration_props(c, path)},
            }
            for c in children(creds, "credential")
        ]
        report(
            "info",
            NOT_CARRIED,
            "<credentials> are kept in extra.oozie only (no IR counterpart)",
            creds.sourceline,
        )
    if params_decl:
        oz["parameters"] = [
            {
                k: v
                for k, v in (("name", p.name), ("value", p.value), ("description", p.description))
                if v is not None
            }
            for p in params_decl
        ]
    if merged:
        oz["properties"] = dict(sorted(merged.items()))
    for key in NOTIFICATION_PROPERTIES:
        if key in merged:
            report(
                "info",
                NOT_CARRIED,
                f"{key} (an HTTP callback on state changes) has no IR counterpart; kept in "
                "extra.oozie.properties",
                root.sourceline,
            )
    w = Workflow(
        id=wid or app_name,
        tasks=result.tasks,
        edges=result.edges,
        params=params,
        source=SourceRef("oozie", path, root.sourceline),
        diagnostics=diags,
        extra={"oozie": oz},
    )
    if hints.ids:
        _restore_ids(w, hints.ids)
    if hints.implied:
        tid = hints.ids if set(hints.ids.values()) <= set(w.task_ids()) else {}
        restore_implied(w, [(tid.get(a, a), tid.get(c, c)) for a, c in hints.implied])
    return w, ctx


def _without_kill(nodes: list[G.Node], kill: str) -> list[G.Node]:
    """wfconv's kill node for unhandled errors stands for the IR's default
    (an unhandled failure fails the run): drop it and the error transitions
    to it, rather than read it back as a fail task the source never had."""
    other = [
        (n.name, label)
        for n in nodes
        for label, t in n.transitions()
        if t == kill and label != "error"
    ]
    if other:  # something else leads there (an edited file): read it as written
        return nodes
    out = []
    for n in nodes:
        if n.name == kill and n.kind == "kill":
            continue
        if n.kind == "action" and n.error == kill:
            n.error = None
        out.append(n)
    return out


def _restore_ids(w: Workflow, ids: dict[str, str]) -> None:
    """Give tasks back the ids wfconv's backend had to rename (node names
    are narrower than task ids); every reference follows."""
    if set(ids.values()) & (set(w.task_ids()) - set(ids)):
        return  # a synthetic task already took the id: keep the node names
    for t in w.tasks:
        t.id = ids.get(t.id, t.id)
        if t.action.kind == "branch":
            f = t.action.fields
            for c in f.get("cases") or []:
                if c.get("to") in ids:
                    c["to"] = ids[c["to"]]
            if f.get("default") in ids:
                f["default"] = ids[f["default"]]
    for e in w.edges:
        e.src, e.dst = ids.get(e.src, e.src), ids.get(e.dst, e.dst)


def _subworkflows(w: Workflow, base: str, src: Sources, bundle: Bundle) -> None:
    """Parse sub-workflow apps found on disk and link them by id."""
    for t in w.tasks:
        if t.action.kind != "subworkflow":
            continue
        app = t.action.fields.get("app_path") or ""
        found = locate(base, app, "workflow.xml")
        if found is None or os.path.normpath(found) in src.seen:
            continue
        src.seen.add(os.path.normpath(found))
        props = app_properties(os.path.dirname(found), include_job=False)
        if t.action.fields.get("propagate_configuration"):
            props = [*src.props, *props]
        props = props + [Prop(k, v) for k, v in (t.action.fields.get("conf") or {}).items()]
        child_w, _ = workflow_from_doc(load_file(found), Sources(props, {}, src.seen))
        if any(x.id == child_w.id for x in bundle.workflows) or child_w.id == w.id:
            child_w.id = f"{w.id}.{t.id}"
        t.action.fields["workflow"] = child_w.id
        bundle.workflows.append(finalize(child_w))
        _subworkflows(child_w, os.path.dirname(found), src, bundle)


def parse_workflow(doc: XmlDoc, src: Sources, wid: str | None = None) -> Bundle:
    w, _ = workflow_from_doc(doc, src, wid)
    src.seen.add(os.path.normpath(doc.path))
    bundle = Bundle([finalize(w)])
    _subworkflows(w, os.path.dirname(doc.path), src, bundle)
    return bundle
