"""Endpoint URLs: checked as settings are read (:func:`http_url`: an http(s) URL with a host
and a valid port, or a one-line reason), and shown without what must not be shown
(:func:`display_url`, :func:`host_port`: no user or password, query string or fragment).

Example:
    >>> display_url("http://user:SECRET@host:8080/v1?key=SECRET")
    'http://host:8080/v1'
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit, urlunsplit

__all__ = ["display_url", "host_port", "http_url"]


def http_url(value: str) -> str:
    """``value`` stripped, if it is an http(s) URL with a host and a valid port; else
    ValueError saying what is wrong with it (the URL shown without credentials or query)."""
    value = value.strip()
    shown = repr(_without_secrets(value))
    if "://" not in value and value and not any(c.isspace() for c in value):
        raise ValueError(f"{shown} is not an http(s) URL: it lacks http://; give one like http://{value.rstrip('/')}/v1")
    try:
        parts = urlsplit(value)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:  # an unparsable URL (a bad IPv6 address)
        scheme = host = None
    if scheme not in ("http", "https") or not host or any(c.isspace() for c in value):
        raise ValueError(f"{shown} is not an http(s) URL; give one like http://127.0.0.1:8080/v1")
    port = parts.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"{shown}: the port {port!r} is not a port number (1-65535)")
    return value


def _without_secrets(value: str) -> str:
    """``value`` as typed, without the user and password before ``@``, the query string and
    the fragment: what may be shown of a URL that does not parse."""
    value = value.split("#", 1)[0].split("?", 1)[0]
    scheme, sep, rest = value.rpartition("://")
    netloc, slash, path = rest.partition("/")
    return f"{scheme}{sep}{netloc.rpartition('@')[2]}{slash}{path}"


def host_port(parts: SplitResult) -> str:
    """``host[:port]`` of a split URL (an IPv6 host in brackets; a bad port left out)."""
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port is not None else host


def display_url(url: str) -> str:
    """``url`` without what must not be shown or stored: the user and password before
    ``@``, the query string and the fragment (they may hold keys or tokens).

    Example:
        >>> display_url("http://user:SECRET@host:8080/v1?key=SECRET")
        'http://host:8080/v1'
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "(unparsable URL)"
    if not parts.netloc:  # not a URL at all: show it up to a query string
        return parts.path.split("@")[-1]
    return urlunsplit((parts.scheme, host_port(parts), parts.path, "", ""))
