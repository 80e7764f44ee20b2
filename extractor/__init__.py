"""extractor: typed, grounded records from research paper abstracts, with any
OpenAI-compatible LLM.

Example:
    >>> import extractor
    >>> summary = extractor.summarize(abstract, title=title, base_url="http://127.0.0.1:8080/v1")  # doctest: +SKIP
    >>> summary.task, summary.method_name, summary.code_link  # doctest: +SKIP
"""

from __future__ import annotations

from .version import __version__

from typing import TYPE_CHECKING, Any

# Names are imported on first use: `import extractor` stays fast (the CLI's instant
# re-run and `extractor papers` never load the openai SDK).
_LAZY: dict[str, str] = {
    **dict.fromkeys(["asummarize", "extract_many", "open_extractor", "summarize"], ".api"),
    **dict.fromkeys(["BatchOptions", "BatchStats", "run_batch"], ".runs.run"),
    "digest": ".pages.digest",
    **dict.fromkeys(
        [
            "ConfigError", "EndpointError", "ExtractorError", "FatalEndpointError", "InputError", "InputWarning",
            "LibraryError", "LocalServerError", "ServerGoneError", "SourceError",
        ],
        ".errors",
    ),
    **dict.fromkeys(["FetchOptions", "Listing", "fetch"], ".sources.fetch"),
    "Library": ".library.store",
    "Extractor": ".extraction.extractor",
    "read_papers": ".records.listings",
    **dict.fromkeys(
        ["ClaimedGain", "Contribution", "ErrorInfo", "Link", "Paper", "PaperMeta", "PaperSummary", "Extraction", "Provenance",
         "Record", "Source"],
        ".schema",
    ),
    **dict.fromkeys(["Settings", "load_settings"], ".settings"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .api import asummarize, extract_many, open_extractor, summarize
    from .runs.run import BatchOptions, BatchStats, run_batch
    from .pages.digest import digest
    from .errors import (
        ConfigError,
        EndpointError,
        ExtractorError,
        FatalEndpointError,
        InputError,
        InputWarning,
        LibraryError,
        LocalServerError,
        ServerGoneError,
        SourceError,
    )
    from .extraction.extractor import Extractor
    from .records.listings import read_papers
    from .schema import (
        ClaimedGain, Contribution, ErrorInfo, Extraction, Link, Paper, PaperMeta, PaperSummary, Provenance, Record, Source,
    )  # fmt: skip
    from .sources.fetch import FetchOptions, Listing, fetch
    from .library.store import Library
    from .settings import Settings, load_settings

__all__ = [
    "BatchOptions",
    "BatchStats",
    "ClaimedGain",
    "ConfigError",
    "Contribution",
    "EndpointError",
    "ErrorInfo",
    "Extraction",
    "Extractor",
    "ExtractorError",
    "FatalEndpointError",
    "FetchOptions",
    "InputError",
    "InputWarning",
    "Library",
    "LibraryError",
    "Link",
    "Listing",
    "LocalServerError",
    "Paper",
    "PaperMeta",
    "PaperSummary",
    "Provenance",
    "Record",
    "ServerGoneError",
    "Settings",
    "Source",
    "SourceError",
    "__version__",
    "asummarize",
    "digest",
    "extract_many",
    "fetch",
    "load_settings",
    "open_extractor",
    "read_papers",
    "run_batch",
    "summarize",
]
