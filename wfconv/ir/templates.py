"""Text holding the IR's neutral templates (``{{ ... }}``, docs/architecture.md §4).

Why here: readers that build command lines and writers that emit them must
quote words the same way, and a template inside a shell word must stay
intact for the engine's templating to render it first.
"""

from __future__ import annotations

import shlex


def shell_word(arg: str) -> str:
    """Quote one argument for a shell command line whose templates are rendered
    first: plain words go through ``shlex.quote``; a word holding ``{{ … }}``
    is double-quoted with the template left intact (its value may hold
    spaces). ``shlex.quote`` would put the template's own quotes inside single
    quotes, and the rendered value would carry them (``/data/"2024-03-02"``)."""
    if "{{" not in arg:
        return shlex.quote(arg)
    out = ['"']
    i = 0
    while i < len(arg):
        j = arg.find("{{", i)
        k = arg.find("}}", j + 2) if j >= 0 else -1
        if j < 0 or k < 0:
            text, i_next, tpl = arg[i:], len(arg), ""
        else:
            text, i_next, tpl = arg[i:j], k + 2, arg[j : k + 2]
        out.append("".join("\\" + c if c in '"\\$`' else c for c in text))
        out.append(tpl)
        i = i_next
    out.append('"')
    return "".join(out)


def shell_join(words) -> str:
    """``shlex.join`` with ``shell_word``'s quoting."""
    return " ".join(shell_word(str(w)) for w in words)
