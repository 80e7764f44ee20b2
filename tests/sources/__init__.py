"""Tests of extractor.sources: fetching listings from the Hub and arXiv (loopback fixtures)."""
