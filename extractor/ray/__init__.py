"""Ray Data: the extraction of ``extractor run`` as a Ray Data job over many machines, and the
record directories it writes."""
