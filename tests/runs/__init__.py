"""Tests of extractor.runs: the batch runner, ``extractor daily``, a run without a model."""
