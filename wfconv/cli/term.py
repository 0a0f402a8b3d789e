"""Tables and colour on the terminal, with rich.

One place decides how text tables look: aligned columns whose last column
wraps to the width available, colour only when the stream is a terminal and
``NO_COLOR`` is not set (https://no-color.org is the convention rich follows),
and a fixed width for pipes and files (``$COLUMNS``, else 120) so that output
piped to a file does not depend on the terminal it was typed in.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

# How a severity or state looks in colour (ignored without colour).
STYLES = {
    "error": "bold red",
    "failed": "bold red",
    "upstream_failed": "red",
    "warning": "yellow",
    "info": "cyan",
    "success": "green",
    "skipped": "magenta",
    "DEFECT": "bold red",
}
PIPE_WIDTH = 120


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def width_for(stream: TextIO) -> int:
    if "COLUMNS" in os.environ:
        try:
            return max(40, int(os.environ["COLUMNS"]))
        except ValueError:
            pass
    if _is_tty(stream):
        import shutil  # here: it imports compression modules every command would pay for

        return shutil.get_terminal_size((PIPE_WIDTH, 24)).columns
    return PIPE_WIDTH


def _console(stream: TextIO, buffer: io.StringIO, width: int | None = None):
    from rich.console import Console

    tty = _is_tty(stream)
    return Console(
        file=buffer,
        width=width or width_for(stream),
        force_terminal=tty,
        color_system="auto" if tty else None,
        no_color=bool(os.environ.get("NO_COLOR")) or not tty,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
    )


def table_text(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    stream: TextIO | None = None,
    indent: int = 0,
    styled: Sequence[int] = (),
    right: Sequence[int] = (),
    wrap: Sequence[int] = (),
    width: int | None = None,
) -> str:
    """Render rows as an aligned table for ``stream`` (stderr by default).

    The last column, and those in ``wrap``, wrap within the width; the others
    keep their width. Cells of the columns in ``styled`` are coloured by
    their text (STYLES); ``right`` columns are right-aligned."""
    stream = stream or sys.stderr
    texts = [["-" if c is None else str(c).replace("\n", " ") for c in row] for row in rows]
    plain = _plain_table(headers, texts, stream, indent, right, width, styled)
    if plain is not None:
        return plain
    from rich.padding import Padding
    from rich.table import Table

    t = Table(box=None, pad_edge=False, header_style="bold")
    last = len(headers) - 1
    for i, h in enumerate(headers):
        keep = i != last and i not in wrap
        # A column that does not wrap (a code, a state) is never squeezed
        # below its widest short cell: the wrapping columns give way instead.
        widest = max((len(r[i]) for r in texts if i < len(r)), default=0)
        t.add_column(
            h,
            no_wrap=keep,
            overflow="fold",
            ratio=3 if i == last else (1 if i in wrap else None),
            justify="right" if i in right else "left",
            min_width=max(len(h), min(widest, 24)) if keep else None,
        )
    for row in texts:
        cells = [
            (text, STYLES.get(text, "")) if i in styled else text for i, text in enumerate(row)
        ]
        t.add_row(*(_text(c) for c in cells))
    buffer = io.StringIO()
    _console(stream, buffer, width).print(Padding(t, (0, 0, 0, indent)) if indent else t)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def _plain_table(headers, rows, stream, indent, right, width, styled=()) -> str | None:
    """The table as rich lays it out when nothing wraps, without rich (a
    run's table has a row per task: rich takes ~0.25 ms a row, 2.5 s for
    10,000 tasks). In colour, each styled cell and the header are wrapped in
    the codes rich writes for their style, padding inside, as rich does.
    None when rich is needed: text that is not printable ASCII (cell widths,
    control characters) or has spaces at an end (rich trims them), or a
    table wider than the width.

    Checked and measured a column at a time (a 10,000-row table is 40,000
    cells: one test of each column's joined text instead of one per cell)."""
    table = [list(headers), *rows]
    ncol = len(headers)
    if any(len(row) != ncol for row in table):
        return None
    widths = []
    for col in zip(*table, strict=True) if ncol else ():
        flat = "".join(col)
        if not (flat.isascii() and flat.isprintable()):
            return None
        # Printable text holds no line break: joined by one, a space beside
        # one (or at an end) is a cell that starts or ends with a space.
        joined = "\n".join(col)
        if " \n" in joined or "\n " in joined or joined.startswith(" ") or joined.endswith(" "):
            return None
        widths.append(max(map(len, col)))
    if indent + sum(widths) + 2 * (ncol - 1) > (width or width_for(stream)):
        return None
    pad = " " * indent
    cells = [f"%{'' if i in right else '-'}{w}s" for i, w in enumerate(widths)]
    if not _is_tty(stream) or os.environ.get("NO_COLOR"):
        line = pad + "  ".join(cells)
        return "\n".join([(line % tuple(row)).rstrip() for row in table]) + "\n"
    if 0 in widths:
        return None  # an empty column: rich's codes around nothing are its own affair
    on, off = _codes("bold", stream)  # the header's style, the spaces between its cells too
    sep = (on + " " + off) * 2
    lines = [pad + sep.join(on + (c % h) + off for c, h in zip(cells, headers, strict=True))]
    # A styled column's cells differ only by their text: a format per style.
    formats: dict[tuple, str] = {}
    colour = [i in styled for i in range(ncol)]
    for row in rows:
        key = tuple(STYLES.get(t, "") if c else "" for t, c in zip(row, colour, strict=True))
        line = formats.get(key)
        if line is None:
            parts = []
            for style, cell in zip(key, cells, strict=True):
                start, end = _codes(style, stream) if style else ("", "")
                parts.append(start + cell + end)
            line = formats[key] = pad + "  ".join(parts)
        lines.append((line % tuple(row)).rstrip())
    return "\n".join(lines) + "\n"


def _codes(style: str, stream: TextIO) -> tuple[str, str]:
    """The codes rich writes before and after a text in ``style``."""
    marked = styled("X", style, stream, known=False)  # no code holds an X
    start, _, end = marked.partition("X")
    return start, end


def _text(cell):
    from rich.text import Text

    if isinstance(cell, tuple):
        return Text(cell[0], style=cell[1])
    return Text(cell)


def styled(text: str, style_key: str, stream: TextIO | None = None, known: bool = True) -> str:
    """``text`` in the colour of ``style_key`` when ``stream`` shows colour
    (``known=False``: ``style_key`` is a rich style itself, not a key of STYLES)."""
    stream = stream or sys.stderr
    if os.environ.get("NO_COLOR") or not _is_tty(stream) or (known and style_key not in STYLES):
        return text
    buffer = io.StringIO()
    c = _console(stream, buffer, width=10_000)
    c.print(_text((text, STYLES[style_key] if known else style_key)), end="")
    return buffer.getvalue()
