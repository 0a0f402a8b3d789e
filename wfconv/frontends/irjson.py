"""The IR's own JSON as a "frontend", so every command accepts ir.json too."""

from __future__ import annotations

from wfconv.ir.jsonio import load, loads
from wfconv.ir.model import Bundle
from wfconv.ir.validate import validate_bundle

ENGINE = "ir"


def parse(path: str, text: str | None = None, **options) -> Bundle:
    bundle = load(path) if text is None else loads(text, path)
    return validate_bundle(bundle)
