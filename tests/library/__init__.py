"""Tests of extractor.library: the SQLite library across days."""
