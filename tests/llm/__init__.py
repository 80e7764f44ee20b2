"""Tests of extractor.llm: the answer cache, and a cache that cannot be used."""
