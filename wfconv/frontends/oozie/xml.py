"""Reading Oozie XML safely.

Why a module of its own: every Oozie file (workflow, coordinator, bundle,
config-default) goes through the same door, and that door is where hostile
input is stopped. An external entity (``<!ENTITY x SYSTEM "file:///etc/passwd">``)
or an entity-expansion bomb must be refused quickly and nothing from the file
system or the network may reach the output, so:

- files above ``MAX_BYTES`` are refused before parsing;
- a DOCTYPE carrying entity declarations is refused before parsing (Oozie
  files never need one), with the line of the declaration;
- lxml parses with entity resolution, DTD loading and network access off and
  without ``huge_tree``, so an undeclared ``&name;`` is a syntax error.

Malformed or truncated XML becomes ``InputError(path, line, message)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from wfconv.errors import InputError

MAX_BYTES = 10 * 1024 * 1024

# Namespace prefixes of the Oozie document kinds (the version follows).
DOC_KINDS = {
    "uri:oozie:workflow:": "workflow",
    "uri:oozie:coordinator:": "coordinator",
    "uri:oozie:bundle:": "bundle",
}


@dataclass
class XmlDoc:
    """A parsed Oozie file: its root element, kind and schema version."""

    path: str
    root: etree._Element
    kind: str | None  # workflow | coordinator | bundle | None (plain XML, e.g. config-default)
    namespace: str | None
    version: str | None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, max(offset, 0)) + 1


def _refuse_entities(path: str, data: bytes) -> None:
    """Refuse a DOCTYPE that declares entities (XXE, billion laughs)."""
    upper = data[:MAX_BYTES].upper()
    dt = upper.find(b"<!DOCTYPE")
    if dt < 0:
        return
    ent = upper.find(b"<!ENTITY", dt)
    if ent >= 0:
        raise InputError(
            path,
            _line_of(data, ent),
            "XML entity declarations are refused (external entities and entity "
            "expansion are unsafe; Oozie files do not need a DOCTYPE)",
        )
    if (
        upper.find(b"SYSTEM", dt, upper.find(b">", dt) + 1 or len(upper)) >= 0
        or upper.find(b"PUBLIC", dt, upper.find(b">", dt) + 1 or len(upper)) >= 0
    ):
        raise InputError(
            path,
            _line_of(data, dt),
            "external DTDs are refused (they are never loaded; Oozie files do not need a DOCTYPE)",
        )


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
    )


def load_bytes(path: str, data: bytes) -> XmlDoc:
    if len(data) > MAX_BYTES:
        raise InputError(
            path, None, f"file is larger than {MAX_BYTES // (1024 * 1024)} MB; refused"
        )
    _refuse_entities(path, data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else None)
        msg = (exc.msg or str(exc)).strip()
        # libxml2 appends ", line N, column M"; the location is already ours.
        head, sep, tail = msg.rpartition(", line ")
        if sep and ", column " in tail:
            msg = head
        raise InputError(path, line, f"malformed XML: {msg}") from None
    if root is None:
        raise InputError(path, 1, "malformed XML: empty document")
    for el in root.iter():
        if isinstance(el, etree._Entity):
            raise InputError(path, el.sourceline, "XML entity references are refused")
    ns = etree.QName(root).namespace
    kind = version = None
    if ns:
        for prefix, k in DOC_KINDS.items():
            if ns.startswith(prefix):
                kind, version = k, ns[len(prefix) :]
    return XmlDoc(path, root, kind, ns, version)


def load_text(path: str, text: str) -> XmlDoc:
    return load_bytes(path, text.encode("utf-8"))


def load_file(path: str) -> XmlDoc:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None
    return load_bytes(path, data)


# ---------------------------------------------------------------------------
# element helpers (namespace-agnostic: action extensions bring their own)


def local(el) -> str:
    """Local name of an element ('' for comments and processing instructions)."""
    if not isinstance(el.tag, str):
        return ""
    return etree.QName(el).localname


def children(el, name: str | None = None) -> list:
    return [c for c in el if isinstance(c.tag, str) and (name is None or local(c) == name)]


def child(el, name: str):
    for c in el:
        if isinstance(c.tag, str) and local(c) == name:
            return c
    return None


def text_of(el) -> str | None:
    """Element text with surrounding whitespace removed (None when absent)."""
    if el is None:
        return None
    return "".join(el.itertext()).strip()


def child_text(el, name: str) -> str | None:
    return text_of(child(el, name))


def children_text(el, name: str) -> list[str]:
    return [text_of(c) or "" for c in children(el, name)]


def to_xml(el) -> str:
    """Serialised XML of an element (for opaque actions), namespaces kept."""
    return etree.tostring(el, encoding="unicode", with_tail=False)
