"""Tests of extractor.ray: Ray Data, on a local Ray cluster (skipped without Ray)."""
