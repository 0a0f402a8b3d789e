"""Oozie frontend: workflow.xml, coordinator.xml, bundle.xml or an application
folder -> IR (docs/architecture.md §4 "How each engine's concepts become IR", docs/semantics.md §4).

``parse(path, text=None)`` accepts

- a ``workflow.xml`` (``uri:oozie:workflow:0.1`` … ``1.0``): one workflow;
- a ``coordinator.xml``: one workflow (id = the coordinator's name) whose
  tasks are the coordinator's workflow app and whose schedule, dates and
  controls come from the coordinator;
- a ``bundle.xml``: one workflow per coordinator;
- an application folder: ``bundle.xml`` if present, else ``coordinator.xml``,
  else ``workflow.xml``, with ``job.properties`` and ``config-default.xml``.

A file named workflow.xml / coordinator.xml / bundle.xml also picks up the
``job.properties`` and ``config-default.xml`` beside it (the app layout).
Property precedence, lowest first: ``<parameters>`` defaults,
``config-default.xml``, ``job.properties``, coordinator action configuration.

Sub-workflows whose ``app-path`` resolves to a folder on disk are parsed too
and added to the bundle (the task's ``workflow`` field names them).

The pieces are the modules of this package: ``xml`` (safe parsing), ``props``
(properties), ``el`` (EL -> templates), ``actions`` (action builders),
``graph`` (control flow -> trigger rules), ``workflow`` (workflow.xml),
``sched`` (frequencies), ``coord`` (coordinators, bundles) and ``apps``
(finding an application's files).
"""

from __future__ import annotations

import os

from wfconv.errors import InputError
from wfconv.frontends.oozie import coord as C
from wfconv.frontends.oozie.props import read_properties_file
from wfconv.frontends.oozie.workflow import (
    APP_FILES,
    ENGINE,
    Sources,
    app_properties,
    parse_workflow,
)
from wfconv.frontends.oozie.xml import XmlDoc, load_file, load_text, local
from wfconv.ir.model import TRIGGER, Bundle

__all__ = ["ENGINE", "parse"]


def _load(path: str, text: str | None) -> XmlDoc:
    return load_text(path, text) if text is not None else load_file(path)


def parse(path: str, text: str | None = None, **options) -> Bundle:
    if os.path.isdir(path):
        for name in APP_FILES:
            f = os.path.join(path, name)
            if os.path.isfile(f):
                return parse(f, None, **options)
        raise InputError(
            path,
            None,
            "not an Oozie application folder (no workflow.xml, coordinator.xml or bundle.xml)",
        )
    doc = _load(path, text)
    if doc.kind is None:
        raise InputError(
            path,
            doc.root.sourceline,
            f"not an Oozie workflow, coordinator or bundle (root <{local(doc.root)}>, namespace {doc.namespace!r})",
        )
    bundle = _parse_doc(doc, path)
    for w in bundle.workflows:
        # An Oozie run sees its nominal time (a coordinator's tick, or the
        # submission of a workflow job): the trigger model (docs/semantics.md R3).
        w.schedule.model = w.schedule.model or TRIGGER
    return bundle


def _parse_doc(doc: XmlDoc, path: str) -> Bundle:
    folder = os.path.dirname(path)
    siblings = os.path.basename(path) in APP_FILES
    if doc.kind == "workflow":
        props = app_properties(folder) if siblings else []
        return parse_workflow(doc, Sources(props))
    job = (
        read_properties_file(os.path.join(folder, "job.properties"))
        if siblings and os.path.isfile(os.path.join(folder, "job.properties"))
        else []
    )
    if doc.kind == "coordinator":
        return C.parse_coordinator(doc, job)
    return C.parse_bundle(doc, job)
