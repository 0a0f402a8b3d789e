"""IR <-> JSON (docs/architecture.md §4, ``wfconv_ir: 1``).

Writing is deterministic: fields in dataclass order, two-space indent, UTF-8
kept as is, a final newline. Reading validates against the JSON Schema first so
that a bad file is reported with the JSON path of the problem.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from wfconv.errors import InputError
from wfconv.ir.model import (
    IR_VERSION,
    Action,
    Bundle,
    Diagnostic,
    Schedule,
    Task,
    Workflow,
)

# ---------------------------------------------------------------------------
# Writer and reader, generated once per dataclass from ``wfconv.ir.schema``'s
# table (the one description of the JSON shape): plain Python functions, as
# fast as hand-written ones.


def action_to_dict(a: Action) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": a.kind}
    for k, v in a.fields.items():
        if k != "kind":
            out[k] = v
    return out


def action_from_dict(d: dict[str, Any]) -> Action:
    a = dict(d)
    return Action(a.pop("kind"), a)


def _compile(cls: type) -> tuple[Any, Any]:
    """(to_dict, from_dict) for a dataclass, as generated source."""
    from wfconv.ir.schema import fields_of

    env: dict[str, Any] = {"_cls": cls}
    enc = ["def to_dict(o):", "    out = {}"]
    dec = []
    for f in fields_of(cls):
        if f.shape in ("object", "objects"):
            env[f"_to_{f.attr}"], env[f"_from_{f.attr}"] = _codecs(f.cls)
        value = f"o.{f.attr}"
        if f.shape == "object":
            value = f"None if {value} is None else _to_{f.attr}({value})"
        elif f.shape == "objects":
            value = f"[_to_{f.attr}(x) for x in {value}]"
        elif f.shape == "list":
            value = f"list({value})"
        if f.omit:
            test = f"o.{f.attr} is not None" if f.default is None else f"o.{f.attr}"
            enc.append(f"    if {test}: out[{f.name!r}] = {value}")
        else:
            enc.append(f"    out[{f.name!r}] = {value}")
        # Reading: a member without a default is required; a missing (or
        # null) one takes the field's default.
        conv = {
            "object": "_from_{a}({v})",
            "objects": "[_from_{a}(x) for x in {v}]",
            "list": "list({v})",
            "dict": "dict({v})",
        }.get(f.shape, "{v}")
        if f.default is dataclasses.MISSING and f.factory is dataclasses.MISSING:
            got = conv.format(a=f.attr, v=f"d[{f.name!r}]")
        else:
            if f.factory is not dataclasses.MISSING:
                env[f"_new_{f.attr}"] = f.factory
                default = f"_new_{f.attr}()"
            else:
                env[f"_default_{f.attr}"] = f.default
                default = f"_default_{f.attr}"
            got = f"({default} if (v := d.get({f.name!r})) is None else {conv.format(a=f.attr, v='v')})"
        dec.append((f.attr, got))
    enc.append("    return out")
    # Positional arguments in field order (dataclass __init__ order).
    order = [fl.name for fl in dataclasses.fields(cls)]
    args = ", ".join(g for _, g in sorted(dec, key=lambda ag: order.index(ag[0])))
    src = "\n".join(enc) + f"\n\ndef from_dict(d):\n    return _cls({args})\n"
    exec(compile(src, f"<wfconv.ir.jsonio {cls.__name__}>", "exec"), env)
    return env["to_dict"], env["from_dict"]


_CODECS: dict[type, tuple[Any, Any]] = {Action: (action_to_dict, action_from_dict)}


def _codecs(cls: type) -> tuple[Any, Any]:
    if cls not in _CODECS:
        _CODECS[cls] = _compile(cls)
    return _CODECS[cls]


def _to(cls):
    return lambda obj: _codecs(cls)[0](obj)


def _from(cls):
    return lambda d: _codecs(cls)[1](d)


diagnostic_to_dict = _to(Diagnostic)
_diag = diagnostic_to_dict  # the name verify and compare import
schedule_to_dict = _to(Schedule)
task_to_dict = _to(Task)
workflow_to_dict = _to(Workflow)
task_from_dict = _from(Task)
workflow_from_dict = _from(Workflow)


def schedule_from_dict(d: dict[str, Any] | None) -> Schedule:
    return Schedule() if d is None else _codecs(Schedule)[1](d)


def bundle_to_dict(b: Bundle) -> dict[str, Any]:
    return {"wfconv_ir": IR_VERSION, **_codecs(Bundle)[0](b)}


bundle_from_dict = _from(Bundle)


def dumps(b: Bundle, indent: bool = True) -> str:
    """The document as text: indented for people, or compact (one line, no
    spaces: about half the size, and faster to write and read) for programs."""
    from wfconv.jsonstream import dumps_at

    return dumps_at(bundle_to_dict(b), indent) + "\n"


def dump_stream(
    bundles: Iterable[Bundle], write: Callable[[str], Any], indent: bool = True
) -> Bundle:
    """Write the document of all ``bundles`` workflow by workflow: the same
    text as ``dumps`` of their union, without holding more than one bundle.
    The bundle diagnostics (few) are kept and written at the end; returns
    them as a Bundle without workflows."""
    from wfconv.jsonstream import ArrayWriter, dumps_at

    to_dict = _codecs(Workflow)[0]
    rest = Bundle()
    # Nothing is written before the first workflow is read (ArrayWriter): a
    # file that cannot be read at all (an error, exit 2) leaves the output empty.
    head = f'{{\n  "wfconv_ir": {IR_VERSION},\n  "workflows": '
    items = ArrayWriter(
        write, indent, head=head if indent else head.replace("\n", "").replace(" ", "")
    )
    for b in bundles:
        for w in b.workflows:
            items.add(to_dict(w))
        rest.diagnostics.extend(b.diagnostics)
    items.close()
    tail = bundle_to_dict(rest)
    del tail["wfconv_ir"], tail["workflows"]
    for key, value in tail.items():
        if indent:
            write(f",\n  {json.dumps(key)}: {dumps_at(value, True, 1)}")
        else:
            write(f",{json.dumps(key)}:{dumps_at(value, False)}")
    write("\n}\n" if indent else "}\n")
    return rest


# ---------------------------------------------------------------------------
# from JSON


def is_ir_document(text: str) -> bool:
    """Cheap check used by auto-detection: does this JSON text claim to be IR?"""
    head = text.lstrip()[:4096]
    return head.startswith("{") and '"wfconv_ir"' in head


def loads(text: str, path: str = "<string>") -> Bundle:
    """Parse and schema-check an IR document; problems are InputErrors."""
    from wfconv.ir.schema import validate_document

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    validate_document(data, path)
    return bundle_from_dict(data)


def load(path: str | Path) -> Bundle:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), None, f"cannot read: {exc}") from None
    return loads(text, str(path))
