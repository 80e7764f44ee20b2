"""The Batch API (``extractor batch``): a run's requests written as a request file, the
files and batches endpoints that take it, and records made from the answers."""
