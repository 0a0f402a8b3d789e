"""The Oozie "engine" wfconv can run here: validation of emitted XML against
Oozie's schemas (``oozie_xsd/``, see its README for where each file comes from).

Every schema is loaded into one validator, as Oozie's schema service does, so
an action body is checked against the schema of its own namespace and a
namespace Oozie does not know is an error. The graph rules Oozie checks when a
job is submitted (reachability, fork/join nesting) are the Oozie backend's own
self-check; this module is about the schemas.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).with_name("oozie_xsd")
ENGINE = "oozie schemas"


@cache
def _schema() -> etree.XMLSchema:
    imports = []
    for xsd in sorted(XSD_DIR.glob("*.xsd")):
        if xsd.name == "oozie-common-1.0.xsd":
            continue  # included by the 1.0 schemas, it has no namespace of its own
        ns = etree.parse(str(xsd)).getroot().get("targetNamespace")
        imports.append(f'<xs:import namespace="{ns}" schemaLocation="{xsd.as_uri()}"/>')
    wrapper = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        + "".join(imports)
        + "</xs:schema>"
    )
    return etree.XMLSchema(etree.fromstring(wrapper.encode()))


@cache
def known_namespaces() -> frozenset[str]:
    return frozenset(
        etree.parse(str(x)).getroot().get("targetNamespace")
        for x in XSD_DIR.glob("*.xsd")
        if x.name != "oozie-common-1.0.xsd"
    )


def validate(files: dict[str, str]) -> tuple[list[str], int]:
    """(problems, XML files checked) for the emitted files of one conversion."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    schema = _schema()
    namespaces = known_namespaces()
    problems: list[str] = []
    checked = 0
    for rel, text in sorted(files.items()):
        if not rel.endswith(".xml"):
            continue
        checked += 1
        try:
            root = etree.fromstring(text.encode("utf-8"), parser)
        except etree.XMLSyntaxError as exc:
            problems.append(f"{rel}: not well-formed: {exc}")
            continue
        ns = etree.QName(root).namespace
        if ns not in namespaces:
            problems.append(f"{rel}: no Oozie schema for namespace {ns!r}")
            continue
        if not schema.validate(root):
            for e in list(schema.error_log)[:5]:
                problems.append(f"{rel}:{e.line}: {e.message}")
    return problems, checked
