"""A minimal Markdown → HTML converter for the definitions appendix.

Handles what definitions.md uses: `#` headings, paragraphs, `-` and numbered lists
(one nesting level by indentation), pipe tables, **bold**, *italic* and `code`.
Text is escaped first, so the output holds no markup the source did not ask for.
"""

from __future__ import annotations

import re
from html import escape

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?!\w)")
_CODE = re.compile(r"`([^`]+)`")
_ITEM = re.compile(r"^(\s*)(?:[-*]|\d+\.)\s+(.*)$")


def inline(text: str) -> str:
    out = escape(text, quote=False)
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _ITALIC.sub(r"<em>\1</em>", out)


def _table(lines: list[str]) -> str:
    rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines]
    head, body = rows[0], [r for r in rows[1:] if not all(set(c) <= set("-: ") for c in r)]
    th = "".join(f"<th>{inline(c)}</th>" for c in head)
    trs = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in body)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _list(lines: list[str]) -> str:
    """A list block; items indented deeper than the first make a nested list."""
    first = _ITEM.match(lines[0])
    assert first is not None
    base = len(first.group(1))
    tag = "ol" if re.match(r"^\s*\d+\.", lines[0]) else "ul"
    items: list[list[str]] = []
    for ln in lines:
        m = _ITEM.match(ln)
        if m and len(m.group(1)) == base:
            items.append([m.group(2)])
        elif items:
            items[-1].append(ln)
    html = []
    for item in items:
        text, rest = [item[0]], list(item[1:])
        nested = [ln for ln in rest if _ITEM.match(ln)]
        cont = [ln.strip() for ln in rest if not _ITEM.match(ln)] if not nested else []
        if nested:
            idx = rest.index(nested[0])
            text += [ln.strip() for ln in rest[:idx]]
            sub = _list(rest[idx:])
        else:
            text += cont
            sub = ""
        html.append(f"<li>{inline(' '.join(text))}{sub}</li>")
    return f"<{tag}>{''.join(html)}</{tag}>"


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current = []
        elif line.startswith("#") and current:
            blocks.append(current)
            current = [line]
        else:
            current.append(line)
    if current:
        blocks.append(current)
    return blocks


def to_html(text: str, heading_offset: int = 1) -> str:
    """HTML for a Markdown text; `#` becomes h(1 + offset), and so on."""
    out = []
    for block in _blocks(text):
        first = block[0]
        if first.startswith("#"):
            level = min(6, len(first) - len(first.lstrip("#")) + heading_offset)
            out.append(f"<h{level}>{inline(first.lstrip('#').strip())}</h{level}>")
            block = block[1:]
            if not block:
                continue
        if block[0].lstrip().startswith("|"):
            out.append(_table(block))
        elif _ITEM.match(block[0]):
            out.append(_list(block))
        else:
            out.append(f"<p>{inline(' '.join(ln.strip() for ln in block))}</p>")
    return "\n".join(out)
