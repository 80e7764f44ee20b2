"""File formats by extension: the one table every reader and writer asks.

A file's role says which formats it may have; its extension picks one, unless the user
named one (``--input-format``, ``--format``):

============== ======================== ======================== ============ ==========
extension      listing (``run``,         dataset (``ray``)        record file  digest
               ``papers``, ``batch``)
============== ======================== ======================== ============ ==========
``.txt``       text                     text                     --           --
``.md``        text                     text                     --           md
``.markdown``  --                       --                       --           md
``.jsonl``     jsonl                    jsonl                    jsonl        --
``.ndjson``    jsonl                    jsonl                    jsonl        --
``.json``      json                     jsonl                    --           --
``.csv``       csv                      csv                      csv          --
``.parquet``   --                       parquet                  --           --
``.html``      --                       --                       --           html
``.htm``       --                       --                       --           html
other          text                     (asked for)              jsonl        (asked for)
============== ======================== ======================== ============ ==========

A digest named without an extension (``/dev/stdout``) is a page; with another extension
(``x.txt``) its format must be said, so that no one gets HTML in a ``.txt`` by surprise.

A folder given as a listing is read for the files whose extension has a listing format.

Example:
    >>> format_for("records", "out.CSV"), format_for("digest", "digest.md"), format_for("listing", "page.md")
    ('csv', 'md', 'text')
    >>> format_for("listing", "papers.data", "ndjson")
    'jsonl'
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Literal

__all__ = ["FORMATS", "Role", "extensions", "format_for"]

Role = Literal["listing", "dataset", "records", "digest"]

#: extension -> {role: format}
FORMATS: dict[str, dict[Role, str]] = {
    ".txt": {"listing": "text", "dataset": "text"},
    ".md": {"listing": "text", "dataset": "text", "digest": "md"},
    ".markdown": {"digest": "md"},
    ".jsonl": {"listing": "jsonl", "dataset": "jsonl", "records": "jsonl"},
    ".ndjson": {"listing": "jsonl", "dataset": "jsonl", "records": "jsonl"},
    ".json": {"listing": "json", "dataset": "jsonl"},
    ".csv": {"listing": "csv", "dataset": "csv", "records": "csv"},
    ".parquet": {"dataset": "parquet"},
    ".html": {"digest": "html"},
    ".htm": {"digest": "html"},
}

# The format of a file whose extension the table does not hold (None: the user must say).
_DEFAULTS: dict[Role, str | None] = {"listing": "text", "dataset": None, "records": "jsonl", "digest": None}
# Names a user may give for a format, per role.
_NAMES: dict[Role, dict[str, str]] = {
    "listing": {"text": "text", "txt": "text", "md": "text", "jsonl": "jsonl", "ndjson": "jsonl", "json": "json",
                "csv": "csv"},
    "dataset": {"text": "text", "jsonl": "jsonl", "json": "jsonl", "parquet": "parquet", "csv": "csv"},
    "records": {"jsonl": "jsonl", "csv": "csv"},
    "digest": {"html": "html", "md": "md", "markdown": "md"},
}


def extensions(role: Role) -> tuple[str, ...]:
    """The extensions that have a format in ``role`` (a folder is read for these)."""
    return tuple(ext for ext, roles in FORMATS.items() if role in roles)


def format_for(role: Role, path: str | PurePath, explicit: str | None = None) -> str | None:
    """The format of the file ``path`` in ``role``: ``explicit`` when given (a name of
    :data:`_NAMES`, else ValueError), else by its extension, else the role's default
    (None for a dataset, or a digest with an extension of another kind: its format must be
    given). A digest without an extension is a page."""
    if explicit:
        try:
            return _NAMES[role][explicit.lower()]
        except KeyError:
            names = ", ".join(sorted(set(_NAMES[role].values())))
            raise ValueError(f"unknown format {explicit!r}; use one of: {names}") from None
    suffix = PurePath(str(path).split("?", 1)[0]).suffix.lower()
    if role == "digest" and not suffix:
        return "html"
    return FORMATS.get(suffix, {}).get(role, _DEFAULTS[role])
