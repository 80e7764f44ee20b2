"""Tests of extractor.local: the bundled llama.cpp server, with a stand-in and for real (live)."""
