"""Tests of extractor.pages: the digest, the page, the site and the themes of a day."""
