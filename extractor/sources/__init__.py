"""Sources: fetching listings from where papers are listed (the Hugging Face Daily Papers,
arXiv), written as listing files that ``extractor run`` reads.

:mod:`~extractor.sources.fetch` is the common entry (:func:`~extractor.sources.fetch.fetch`,
:class:`~extractor.sources.fetch.Listing`, retries and polite pacing); one module per
source does the asking: :mod:`~extractor.sources.hf`, :mod:`~extractor.sources.arxiv`.
Their client libraries (``huggingface_hub``, ``arxiv``) are imported only when a listing is
fetched, so ``import extractor`` stays fast.
"""
