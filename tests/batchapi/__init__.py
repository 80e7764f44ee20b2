"""Tests of extractor.batchapi: the Batch API path and reading its answers."""
