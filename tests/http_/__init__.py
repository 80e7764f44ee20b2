"""Tests of extractor.http: transport, sessions, faults, replicas, status kinds.

Named ``http_``, not ``http``: a script run from tests/ (``python tests/stub_server.py``,
``python tests/record_cassettes.py``) has tests/ first on sys.path, where a folder named
``http`` would hide the standard library's ``http`` package."""
