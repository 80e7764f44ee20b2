"""Tests of extractor.evidence: rules, grounding, links, spans, text, what is held back."""
