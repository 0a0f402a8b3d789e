"""Adding and removing call arguments without losing comments or layout.

libcst keeps every space, newline and comment of the source in the nodes; an
argument's trailing comment lives in the whitespace after its comma. These
helpers move that whitespace around so that a removed argument's comments stay
in the file (as comment lines where the argument was), an added argument
follows the call's own layout (one per line, or all on one line), and the
closing parenthesis keeps its place.
"""

from __future__ import annotations

import libcst as cst


class _Comments(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[cst.Comment] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.found.append(node)


def comments_in(node: cst.CSTNode) -> list[cst.Comment]:
    v = _Comments()
    node.visit(v)
    return v.found


def _tail(arg: cst.Arg) -> cst.BaseParenthesizableWhitespace:
    """The whitespace after an argument (after its comma when it has one)."""
    if isinstance(arg.comma, cst.Comma):
        return arg.comma.whitespace_after
    return arg.whitespace_after_arg


def _set_tail(arg: cst.Arg, ws, keep_comma: bool) -> cst.Arg:
    if keep_comma:
        comma = arg.comma if isinstance(arg.comma, cst.Comma) else cst.Comma()
        return arg.with_changes(
            comma=comma.with_changes(whitespace_after=ws),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
    return arg.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=ws)


def _add_comment_lines(ws, comments: list[cst.Comment], like=None):
    """``ws`` (the whitespace before an argument's line) with ``comments`` as
    lines of their own, indented like that argument (or like ``like``)."""
    if not comments or not isinstance(ws, cst.ParenthesizedWhitespace):
        return ws  # a one-line call holds no comments
    like = like if isinstance(like, cst.ParenthesizedWhitespace) else ws
    lines = [
        cst.EmptyLine(indent=like.indent, whitespace=like.last_line, comment=c) for c in comments
    ]
    return ws.with_changes(empty_lines=[*ws.empty_lines, *lines])


def multiline(call: cst.Call) -> bool:
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return True
    return any(
        isinstance(_tail(a), cst.ParenthesizedWhitespace)
        or isinstance(a.whitespace_after_arg, cst.ParenthesizedWhitespace)
        for a in call.args
    )


def remove_args(call: cst.Call, drop: set[int]) -> cst.Call:
    """The call without the arguments at the ``drop`` indexes; their comments
    are kept as comment lines where they stood."""
    if not drop:
        return call
    args = list(call.args)
    out: list[cst.Arg] = []
    before = call.whitespace_before_args
    pending: list[cst.Comment] = []
    for i, arg in enumerate(args):
        if i in drop:
            pending += comments_in(arg)
            continue
        if pending:
            if out:
                prev = out[-1]
                out[-1] = _set_tail(prev, _add_comment_lines(_tail(prev), pending), True)
            else:
                before = _add_comment_lines(before, pending)
            pending = []
        out.append(arg)
    if max(drop) == len(args) - 1:
        # The last argument went: what followed it (the line before `)`)
        # now follows the new last argument, after its own trailing comment.
        last_removed = args[max(drop)]
        closing = _tail(last_removed)
        if out:
            prev = out[-1]
            own = _tail(prev)
            if isinstance(closing, cst.ParenthesizedWhitespace) and isinstance(
                own, cst.ParenthesizedWhitespace
            ):
                closing = closing.with_changes(
                    first_line=own.first_line, empty_lines=[*own.empty_lines, *closing.empty_lines]
                )
            closing = _add_comment_lines(closing, pending, like=own)
            keep_comma = isinstance(last_removed.comma, cst.Comma)
            out[-1] = _set_tail(prev, closing, keep_comma)
        else:
            before = _add_comment_lines(before, pending)
    return call.with_changes(args=out, whitespace_before_args=before)


def remove_dict_elements(d: cst.Dict, drop: set[int]) -> cst.Dict:
    """The dict without the elements at the ``drop`` indexes, their comments
    kept as comment lines where they stood. (A dict keeps the layout before
    its ``}`` on the brace, a call on its last argument: hence two helpers.)"""
    if not drop:
        return d
    elements = list(d.elements)
    last = len(elements) - 1
    out: list = []
    pending: list[cst.Comment] = []
    lbrace, rbrace = d.lbrace, d.rbrace
    for i, el in enumerate(elements):
        if i in drop:
            pending += comments_in(el)
            if i == last:  # its trailing comment sits before the brace
                pending += comments_in(rbrace.whitespace_before)
            continue
        if pending:
            if out and isinstance(out[-1].comma, cst.Comma):
                comma = out[-1].comma
                out[-1] = out[-1].with_changes(
                    comma=comma.with_changes(
                        whitespace_after=_add_comment_lines(comma.whitespace_after, pending)
                    )
                )
            else:
                lbrace = lbrace.with_changes(
                    whitespace_after=_add_comment_lines(lbrace.whitespace_after, pending)
                )
            pending = []
        out.append(el)
    if last in drop:
        ws = rbrace.whitespace_before
        own = (
            out[-1].comma.whitespace_after if out and isinstance(out[-1].comma, cst.Comma) else None
        )
        if isinstance(ws, cst.ParenthesizedWhitespace) and isinstance(
            own, cst.ParenthesizedWhitespace
        ):
            lines = [
                cst.EmptyLine(indent=own.indent, whitespace=own.last_line, comment=c)
                for c in pending
            ]
            ws = ws.with_changes(first_line=own.first_line, empty_lines=[*own.empty_lines, *lines])
            trailing = isinstance(elements[last].comma, cst.Comma)
            out[-1] = out[-1].with_changes(
                comma=out[-1].comma.with_changes(whitespace_after=cst.SimpleWhitespace(""))
                if trailing
                else cst.MaybeSentinel.DEFAULT
            )
            rbrace = rbrace.with_changes(whitespace_before=ws)
        elif out:
            out[-1] = out[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return d.with_changes(elements=out, lbrace=lbrace, rbrace=rbrace)


def append_args(call: cst.Call, new: list[cst.Arg]) -> cst.Call:
    """The call with ``new`` keyword arguments added at the end, in the call's
    own layout."""
    if not new:
        return call
    args = list(call.args)
    if not args:
        first = new[0]
        rest = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in new]
        joined = [
            a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            for a in rest[:-1]
        ]
        del first
        return call.with_changes(args=[*joined, rest[-1]])
    last = args[-1]
    closing = _tail(last)
    trailing_comma = isinstance(last.comma, cst.Comma)
    if multiline(call) and isinstance(closing, cst.ParenthesizedWhitespace):
        if len(args) >= 2 and isinstance(_tail(args[-2]), cst.ParenthesizedWhitespace):
            sep = _tail(args[-2])
        elif isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
            sep = call.whitespace_before_args
        else:
            sep = closing.with_changes(last_line=cst.SimpleWhitespace(" " * 4))
        sep = sep.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        args[-1] = _set_tail(
            last,
            sep.with_changes(first_line=closing.first_line, empty_lines=closing.empty_lines),
            True,
        )
        plain_closing = closing.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        for i, arg in enumerate(new):
            if i < len(new) - 1:
                args.append(_set_tail(arg, sep, True))
            else:
                args.append(_set_tail(arg, plain_closing, trailing_comma))
        return call.with_changes(args=args)
    space = cst.SimpleWhitespace(" ")
    args[-1] = last.with_changes(
        comma=cst.Comma(whitespace_after=space), whitespace_after_arg=cst.SimpleWhitespace("")
    )
    for i, arg in enumerate(new):
        if i < len(new) - 1 or trailing_comma:
            args.append(
                arg.with_changes(
                    comma=cst.Comma(whitespace_after=space if i < len(new) - 1 else closing)
                )
            )
        else:
            args.append(
                arg.with_changes(
                    comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=last.whitespace_after_arg
                )
            )
    return call.with_changes(args=args)


def kwarg(name: str, code: str) -> cst.Arg:
    return cst.Arg(
        keyword=cst.Name(name),
        value=cst.parse_expression(code),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )
