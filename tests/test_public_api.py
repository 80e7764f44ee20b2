"""The public names are pinned: changing them is a deliberate, visible act."""

from __future__ import annotations

import subprocess
import sys

import extractor


def test_public_names() -> None:
    assert sorted(extractor.__all__) == sorted(
        [
            "BatchOptions", "BatchStats", "ClaimedGain", "ConfigError", "Contribution", "EndpointError",
            "ErrorInfo", "Extractor", "ExtractorError", "FatalEndpointError", "InputError", "InputWarning",
            "Extraction", "Link", "LocalServerError", "Paper", "PaperSummary", "Provenance", "Record", "ServerGoneError",
            "Settings", "Source",
            "FetchOptions", "Library", "LibraryError", "Listing", "PaperMeta", "SourceError", "fetch",
            "__version__", "asummarize", "digest", "extract_many", "load_settings", "open_extractor", "read_papers",
            "run_batch", "summarize",
        ]
    )  # fmt: skip
    for name in extractor.__all__:
        assert getattr(extractor, name) is not None


def test_python_dash_m_and_help() -> None:
    out = subprocess.run([sys.executable, "-m", "extractor", "--help"], capture_output=True, text=True, check=True)
    for command in ("run", "summarize", "papers", "cache"):
        assert command in out.stdout
    assert "Exit codes" in out.stdout


def test_schema_fields_carry_instructions() -> None:
    schema = extractor.Extraction.model_json_schema()
    for field in ("task", "method", "method_name", "claimed_gains", "code_link", "contribution", "summary"):
        assert field in schema["properties"]
    assert all("description" in p for p in schema["$defs"]["ClaimedGain"]["properties"].values())


def test_every_error_class_is_exported() -> None:
    import inspect

    from extractor import errors

    for name, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, Exception):
            assert getattr(extractor, name) is cls and name in extractor.__all__, name
