"""Tag-list text (``tag=value; tag=value``) as DKIM key records and DMARC records write it.

Owns: RFC 6376 §3.2 tag-list parsing, which DMARC reuses (RFC 7489 §6.4): tags separated by
``;``, whitespace around tags and values ignored, a trailing ``;`` allowed, a duplicated tag
an error. Pure.
"""

from __future__ import annotations

import re

# RFC 6376 §3.2: tag-name = ALPHA *ALNUMPUNC (ALNUMPUNC = ALPHA / DIGIT / "_").
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class TagListError(ValueError):
    """The text is not a tag-list (a part without ``=``, a bad tag name, a duplicate)."""


def parse_tag_list(text: str) -> dict[str, str]:
    """The tags of ``text`` in order, values stripped of surrounding whitespace. Names keep
    their case: "Tags MUST be interpreted in a case-sensitive manner" (RFC 6376 §3.2).
    Raises :class:`TagListError` when ``text`` is not a tag-list."""
    tags: dict[str, str] = {}
    parts = text.split(";")
    if parts and not parts[-1].strip():
        parts.pop()  # tag-list = tag-spec *( ";" tag-spec ) [ ";" ]
    for part in parts:
        name, eq, value = part.partition("=")
        name = name.strip()
        if not eq or not _TAG_NAME.fullmatch(name):
            raise TagListError(f"not a tag=value pair: {part.strip()!r}")
        if name in tags:
            # RFC 6376 §3.2: "Tags with duplicate names MUST NOT occur within a single tag-list".
            raise TagListError(f"tag {name!r} appears twice")
        tags[name] = value.strip()
    return tags


def without_whitespace(value: str) -> str:
    """``value`` with all whitespace removed: base64 in ``p=`` may be folded (RFC 6376 §3.6.1)."""
    return "".join(value.split())
