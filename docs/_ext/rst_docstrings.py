"""A griffe extension for the documentation build: our docstrings are reST-flavoured, the site is Markdown.

It rewrites, in every docstring, ``:math:`x``` to ``$x$``, ``.. math::`` blocks to ``$$ ... $$``, the roles
``:func:`~a.b``` (and ``class``, ``mod``, ``meth``, ``attr``, ``data``, ``exc``) to inline code, and a
paragraph ending in ``::`` followed by an indented block to a fenced code block. The package keeps one source
of truth (its docstrings, also read by ``help()``); only the rendering changes.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj):`~?([^`]+)`")
_MATH = re.compile(r":math:`([^`]+)`")
# "a, b: text" in an Args section documents two parameters at once; Google style wants one per entry.
_GROUPED_ARG = re.compile(r"^(\s+)(\w+(?:, \w+)+):(\s.*)?$")


def _role(match: re.Match) -> str:
    target = match.group(1)
    if match.group(0).split("`", 1)[1].startswith("~"):
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _blocks(text: str) -> str:
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        directive = stripped.startswith(".. math::")
        literal = stripped.endswith("::") and not directive and not stripped.startswith("..")
        if not (directive or literal):
            out.append(line)
            i += 1
            continue
        base = _indent(line)
        body, j = [], i + 1
        while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > base):
            body.append(lines[j])
            j += 1
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        pad = " " * base
        content = [b.strip() for b in body if b.strip()]
        if directive:
            inline = stripped[len(".. math::") :].strip()
            out += [f"{pad}$$", *([pad + inline] if inline else []), *[pad + c for c in content], f"{pad}$$", ""]
        else:
            head = stripped[:-2].rstrip()
            out.append(pad + (head + ":" if head else ""))
            deepest = min((_indent(b) for b in body if b.strip()), default=0)
            out += ["", f"{pad}```python", *[pad + b[deepest:] for b in body], f"{pad}```", ""]
        i = j
    return "\n".join(out)


def _split_grouped_args(text: str) -> str:
    out, in_args = [], False
    for line in text.split("\n"):
        if line.strip() in ("Args:", "Arguments:", "Parameters:"):
            in_args = True
        elif line.strip() and not line.startswith(" "):
            in_args = False
        match = _GROUPED_ARG.match(line) if in_args else None
        if match:
            out += [f"{match.group(1)}{name}:{match.group(3) or ''}" for name in match.group(2).split(", ")]
        else:
            out.append(line)
    return "\n".join(out)


def rst_to_markdown(text: str) -> str:
    """Convert the reST constructs our docstrings use to the Markdown the site renders."""
    text = _split_grouped_args(_blocks(text))
    text = _MATH.sub(lambda m: f"${m.group(1)}$", text)
    return _ROLE.sub(_role, text)


class RstToMarkdown(griffe.Extension):
    """Rewrite every loaded docstring with :func:`rst_to_markdown`."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
