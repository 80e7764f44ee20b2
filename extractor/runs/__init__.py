"""Runs over many papers: the batch runner behind ``extractor run`` and its progress display,
and ``extractor doctor``."""
