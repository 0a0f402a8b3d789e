"""Reading Oozie XML safely.

Why a module of its own: every Oozie file (workflow, coordinator, bundle,
config-default) goes through the same door, and that door is where hostile
input is stopped. An external entity (``<!ENTITY x SYSTEM "file:///etc/passwd">``)
or an entity-expansion bomb must be refused quickly and nothing from the file
system or the network may reach the output, so:

- files above ``MAX_BYTES`` are refused before parsing;
- the bytes are decoded first, in the encoding the byte-order mark or the XML
  declaration names (UTF-16 and UTF-32 included), so the checks below see the
  text the parser will see;
- a DOCTYPE carrying entity declarations is refused before parsing (Oozie
  files never need one), with the line of the declaration; the parsed
  document is checked again (no DTD may declare entities);
- lxml parses with entity resolution, DTD loading and network access off and
  without ``huge_tree``, so an undeclared ``&name;`` is a syntax error.

Malformed or truncated XML becomes ``InputError(path, line, message)``.
"""

from __future__ import annotations

import codecs
import re
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


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts the same
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# "<?" spelled in the encodings a document without a byte-order mark may use.
_UNMARKED = (
    (b"<\0\0\0", "utf-32-le"),
    (b"\0\0\0<", "utf-32-be"),
    (b"<\0?\0", "utf-16-le"),
    (b"\0<\0?", "utf-16-be"),
)
_DECLARED = re.compile(rb"""^<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_DECLARATION_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")


def decode(path: str, data: bytes) -> str:
    """The text of an XML file in whatever encoding it is written in (byte
    order mark, else the XML declaration, else UTF-8), as the XML
    specification's appendix F finds it. Every check runs on this text, so a
    UTF-16 file cannot hide a DOCTYPE from them."""
    encoding, skip = None, 0
    for bom, name in _BOMS:
        if data.startswith(bom):
            encoding, skip = name, len(bom)
            break
    if encoding is None:
        for head, name in _UNMARKED:
            if data.startswith(head):
                encoding = name
                break
    if encoding is None:
        m = _DECLARED.match(data)
        encoding = m.group(1).decode("ascii") if m else "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(path, 1, f"unknown XML encoding {encoding!r}") from None
    try:
        return data[skip:].decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[skip : skip + exc.start].decode(encoding, "replace").count("\n") + 1
        raise InputError(path, line, f"file is not valid {encoding} text") from None


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(offset, 0)) + 1


def _refuse_entities(path: str, text: str) -> None:
    """Refuse a DOCTYPE that declares entities (XXE, billion laughs)."""
    upper = text.upper()
    dt = upper.find("<!DOCTYPE")
    if dt < 0:
        return
    ent = upper.find("<!ENTITY", dt)
    if ent >= 0:
        raise InputError(path, _line_of(text, ent), _ENTITIES_REFUSED)
    end = upper.find(">", dt) + 1 or len(upper)
    if upper.find("SYSTEM", dt, end) >= 0 or upper.find("PUBLIC", dt, end) >= 0:
        raise InputError(path, _line_of(text, dt), _DTD_REFUSED)


_ENTITIES_REFUSED = (
    "XML entity declarations are refused (external entities and entity "
    "expansion are unsafe; Oozie files do not need a DOCTYPE)"
)
_DTD_REFUSED = (
    "external DTDs are refused (they are never loaded; Oozie files do not need a DOCTYPE)"
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
    return load_text(path, decode(path, data))


def load_text(path: str, text: str) -> XmlDoc:
    """Parse decoded XML text (its declaration's encoding no longer applies)."""
    if len(text) > MAX_BYTES:
        raise InputError(
            path, None, f"file is larger than {MAX_BYTES // (1024 * 1024)} MB; refused"
        )
    _refuse_entities(path, text)
    data = _DECLARATION_ENCODING.sub(r"\1", text, count=1).encode("utf-8")
    try:
        tree = etree.fromstring(data, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else None)
        msg = (exc.msg or str(exc)).strip()
        # libxml2 appends ", line N, column M"; the location is already ours.
        head, sep, tail = msg.rpartition(", line ")
        if sep and ", column " in tail:
            msg = head
        raise InputError(path, line, f"malformed XML: {msg}") from None
    root = tree.getroot()
    if root is None:
        raise InputError(path, 1, "malformed XML: empty document")
    # Whatever got past the text check (an encoding it could not see through)
    # is caught on the parsed document: no DTD may declare anything.
    dtd = tree.docinfo.internalDTD
    if dtd is not None and (list(dtd.iterentities()) or tree.docinfo.system_url):
        raise InputError(path, 1, _ENTITIES_REFUSED)
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
