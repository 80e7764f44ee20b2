"""Evaluation against third-party gold (``extractor eval``): the gold file, the scorer's
matching rules, the scores and their report, and the extraction run on gold abstracts."""
