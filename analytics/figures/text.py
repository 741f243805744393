"""Data values in text that is rendered: Markdown (Streamlit captions, messages), HTML and
plotly labels.

A site, drug, pump model or note comes from the input files, so it may hold anything:
`![t](http://host/track.png)` would fetch an image from elsewhere, `<a href=...>` would
become a link. Every data value that reaches rendered text goes through one of these
helpers, which make it read exactly as it was typed and never as markup.
"""

from __future__ import annotations

import html as _html
import re
import string

_MD_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(www)(?=\.)|(?=[:@])")


def md(text: object) -> str:
    """A data value for Markdown (st.markdown, st.caption, st.info, ...): every ASCII
    punctuation character is backslash-escaped (CommonMark reads `\\x` as the plain
    character), so no link, image, emphasis, heading, HTML tag, entity, colour directive
    (`:red[...]`) or formula (`$...$`) can start in it; line breaks become spaces, so a
    value cannot start a new block. An invisible word joiner goes before every `:` and
    `@` and after `www` before a dot: the renderer turns bare addresses into links after
    parsing, whatever the escapes (`http://...`, `www.x.org`, `a@b.org` would be links)."""
    flat = _LINE_BREAKS.sub(" ", str(text))
    joined = _AUTOLINK.sub(lambda m: (m.group(1) or "") + WORD_JOINER, flat)
    return _MD_SPECIAL.sub(r"\\\1", joined)


def html(text: object) -> str:
    """A data value for HTML text or an attribute: `& < > " '` as entities."""
    return _html.escape(str(text), quote=True)


def plot(text: object) -> str:
    """A data value for a plotly label, title, annotation or hover text. Plotly reads a
    few HTML tags in these (`<a href>`, `<b>`, `<br>`, ...) and decodes `&amp; &lt; &gt;`;
    escaping those three shows the value as typed and makes no tag."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["html", "md", "plot"]
