"""Tests of extractor.cli: commands, help, exit codes, settings and refused settings."""
