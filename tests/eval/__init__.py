"""Tests of extractor.eval: scoring against gold, and the spot-check sheet."""
