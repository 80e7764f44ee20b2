"""The library: one SQLite file that remembers every paper across days and listings.

:mod:`~extractor.library.store` holds :class:`~extractor.library.store.Library`, the one
object the commands and the Python API use; beside it, one module per concern: the schema
and the checks made when a file is opened (:mod:`~extractor.library.schema`), writing
records in (:mod:`~extractor.library.writes`), full-text search
(:mod:`~extractor.library.search`), and counts and export (:mod:`~extractor.library.stats`).
The file is documented for people and tools that open it themselves (``sqlite3``,
``datasette``): docs/library.md.
"""

from .store import Library

__all__ = ["Library"]
