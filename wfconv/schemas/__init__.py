"""JSON Schemas (draft 2020-12) of every JSON document wfconv writes.

``ir`` is the IR (``wfconv parse``, docs/architecture.md §4), built by
``wfconv.ir.schema``; the others are files beside this module: ``ledger``
(``convert``), ``audit``, ``run``, ``verify``, ``compare``. ``wfconv schema
--for NAME`` prints one. Fields may be added to a document; the fields a schema
requires keep their meaning.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

NAMES = ("ir", "ledger", "audit", "run", "verify", "compare")


@cache
def load(name: str) -> dict[str, Any]:
    if name == "ir":
        from wfconv.ir.schema import SCHEMA

        return SCHEMA
    if name not in NAMES:
        raise KeyError(name)
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def validate(name: str, document: Any) -> None:
    """Raise jsonschema.ValidationError when ``document`` is not a ``name`` document."""
    import jsonschema

    schema = load(name)
    jsonschema.validators.validator_for(schema)(schema).validate(document)
