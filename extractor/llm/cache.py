"""The answer cache: one ``diskcache`` directory, on by default.

A key covers everything that changes the answer — model, sampling parameters, mode,
prompt hash, the response schema's JSON Schema and the exact messages sent (so the input
text) — and never the API key or the endpoint address (the same model behind another
URL gives the same answer). Values are the validated answer plus its token counts.

The location is ``--cache-dir``, else ``EXTRACTOR_CACHE_DIR``, else the user cache
directory (``~/.cache/extractor`` on Linux); ``--no-cache`` turns it off.

A cache that cannot be used never stops a run: a damaged or truncated ``cache.db``, a
directory that cannot be written, a full disk, a cache path that is a file. The first
failure (when the cache opens, or at any later read or write) turns the cache off for the
rest of the run and is told once, in one line, to ``on_broken``; the run goes on asking
the endpoint. :meth:`ResultCache.info` says what is wrong instead of raising, and
:meth:`ResultCache.clear` repairs a damaged cache (its files are removed and made anew).

Example:
    >>> import tempfile
    >>> c = ResultCache(tempfile.mkdtemp())
    >>> k = c.key({"model": "m", "messages": []})
    >>> c.get(k) is None
    True
    >>> c.set(k, {"answer": 1}); c.get(k)
    {'answer': 1}
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
import re
import shutil
import sqlite3
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import diskcache

from ..errors import ConfigError, one_line

__all__ = ["CacheInfo", "ResultCache"]

T = TypeVar("T")

_STATS_KEY = "__extractor_last_run__"
# What a damaged, unwritable or full cache raises, from sqlite, the filesystem or a value file.
_FAILURES = (sqlite3.Error, OSError, EOFError, pickle.UnpicklingError, diskcache.Timeout)
# The files and folders diskcache makes in its directory (values go in two-hex-digit folders).
_OWN_FILE = re.compile(r"cache\.db(?:-wal|-shm|-journal)?|[0-9a-f]{2}|meta")


class CacheInfo(dict[str, Any]):
    """Entries, bytes on disk, and hits/misses of the last run that recorded them; for a
    cache that cannot be used, ``problem`` says why."""


def _warn(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=3)


class ResultCache:
    """A thin typed wrapper over ``diskcache.Cache`` that counts hits and misses, and turns
    itself off on the first failure (see the module docstring). ``broken`` says why it is
    off (None while it works)."""

    def __init__(self, directory: str | Path, *, on_broken: Callable[[str], None] | None = None) -> None:
        self.directory = Path(directory)
        self.hits = 0
        self.misses = 0
        self.broken: str | None = None
        self._on_broken = on_broken or _warn
        self._cache: diskcache.Cache | None = None
        self._meta: diskcache.Cache | None = None
        try:
            self._cache = diskcache.Cache(str(self.directory), size_limit=2**33)
        except _FAILURES as exc:
            self._break(exc)

    @staticmethod
    def key(parts: dict[str, Any]) -> str:
        """A stable hex key of everything that changes the answer."""
        blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def _break(self, exc: BaseException) -> None:
        """Turn the cache off for good, and say so once."""
        self.broken = one_line(str(exc) or type(exc).__name__, 120)
        self._close_quietly()
        self._on_broken(
            f"extractor: the answer cache at {self.directory} cannot be used ({self.broken}); going on without it "
            "(`extractor cache clear` repairs a damaged cache)"
        )

    def _use(self, action: Callable[[diskcache.Cache], T], default: T) -> T:
        """``action(cache)``, or ``default`` when the cache is off or fails now."""
        if self._cache is None:
            return default
        try:
            return action(self._cache)
        except _FAILURES as exc:
            self._break(exc)
            return default

    def get(self, key: str) -> dict[str, Any] | None:
        value = self._use(lambda c: c.get(key), None)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value  # type: ignore[no-any-return]

    def set(self, key: str, value: dict[str, Any]) -> None:
        self._use(lambda c: c.set(key, value), None)

    def _meta_cache(self, cache: diskcache.Cache) -> diskcache.Cache:
        if self._meta is None:
            self._meta = diskcache.Cache(str(self.directory / "meta"))
        return self._meta

    def get_meta(self, key: str) -> dict[str, Any] | None:
        """A remembered fact about an endpoint (e.g. the mode its probe found); not an
        answer, so neither counted as a hit or miss nor listed as an entry."""
        return self._use(lambda c: self._meta_cache(c).get(key), None)  # type: ignore[no-any-return]

    def set_meta(self, key: str, value: dict[str, Any]) -> None:
        self._use(lambda c: self._meta_cache(c).set(key, value), None)

    def record_run(self) -> None:
        """Remember this run's hit and miss counts for ``extractor cache info``."""
        self._use(lambda c: c.set(_STATS_KEY, {"hits": self.hits, "misses": self.misses}), None)

    def info(self) -> CacheInfo:
        """What ``extractor cache info`` shows; a cache that cannot be used says why
        (``problem``) instead of raising."""
        found = self._use(lambda c: (c.get(_STATS_KEY), len(c), c.volume()), None)
        if found is None:
            return CacheInfo(directory=str(self.directory), problem=f"{self.broken}; `extractor cache clear` repairs it")
        last, count, volume = found
        entries = count - (1 if last is not None else 0)
        hits, misses = (last or {}).get("hits", 0), (last or {}).get("misses", 0)
        return CacheInfo(
            directory=str(self.directory),
            entries=entries,
            size_bytes=volume,
            last_run_hits=hits,
            last_run_misses=misses,
            last_run_hit_rate=(hits / (hits + misses)) if hits + misses else None,
        )

    def clear(self) -> int | None:
        """Remove every answer (and the last run's counts); return how many answers there
        were. A cache that cannot be used is repaired instead: its own files are removed
        and it is made anew (None: how many answers it held is unknown). Raises
        :class:`~extractor.errors.ConfigError` when that cannot be done (the path is a
        file, or the directory cannot be written)."""
        if self._cache is not None:
            try:
                had_stats = _STATS_KEY in self._cache
                self._meta_cache(self._cache).clear()
                return max(0, self._cache.clear() - (1 if had_stats else 0))
            except _FAILURES:
                self._close_quietly()
        self._repair()
        return None

    def _repair(self) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise ConfigError(f"{self.directory}: not a directory, so not a cache; remove it or give another --cache-dir")
        try:
            for entry in self.directory.iterdir() if self.directory.exists() else ():
                if _OWN_FILE.fullmatch(entry.name):
                    shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
            self._cache = diskcache.Cache(str(self.directory), size_limit=2**33)
        except _FAILURES as exc:
            raise ConfigError(f"{self.directory}: cannot repair the cache ({one_line(str(exc), 120)})") from exc
        self.broken = None

    def _close_quietly(self) -> None:
        for cache in (self._cache, self._meta):
            if cache is not None:
                with contextlib.suppress(*_FAILURES):
                    cache.close()
        self._cache = self._meta = None

    def close(self) -> None:
        self._close_quietly()
