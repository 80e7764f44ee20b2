"""One paper in, one record out: what the model is asked, the rules and the model combined
field by field, a paper's stages, the worker pool and the prompts."""
