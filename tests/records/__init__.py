"""Tests of extractor.records: listings and their shapes, file formats, writers, the latest record."""
