"""URLs in one form for comparison: :func:`normalise_url` (whitespace removed, scheme and host
lowercased, ``www.``, default ports, a trailing ``/`` and ``.git`` dropped) and
:func:`url_key` (the same without the scheme, case-folded).

Example:
    >>> url_key("http://www.GitHub.com/Org/Repo.git")
    'github.com/org/repo'
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["normalise_url", "url_key"]


def normalise_url(url: str) -> str:
    """A form of *url* for exact comparison.

    Removes all whitespace (tokenised text: ``github.com/ org / repo``), adds
    ``https://`` when there is no scheme, lowercases scheme and host, drops
    ``www.``, default ports, a trailing ``/`` and a trailing ``.git``; keeps the path's
    case, the query and the fragment.

    Example:
        >>> normalise_url("HTTPS://WWW.GitHub.com/Org/Repo.git/")
        'https://github.com/Org/Repo'
    """
    url = re.sub(r"\s+", "", url)
    if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.IGNORECASE):
        url = "https://" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if port is not None and (scheme, port) not in {("http", 80), ("https", 443)}:
        host = f"{host}:{port}"
    path = parts.path
    while True:
        before = path
        path = path.rstrip("/")
        if path.lower().endswith(".git"):
            path = path[:-4]
        if path == before:
            break
    return urlunsplit((scheme, host, path, parts.query, parts.fragment))


def url_key(url: str) -> str:
    """:func:`normalise_url` without the scheme, case-folded: two URLs with the same key
    name the same resource in an abstract (``http``/``https``, ``Repo``/``repo``).

    Example:
        >>> url_key("http://github.com/Org/Repo/") == url_key("https://www.github.com/org/repo.git")
        True
    """
    return normalise_url(url).split("://", 1)[-1].casefold()
