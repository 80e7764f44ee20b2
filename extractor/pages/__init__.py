"""Pages people read, made from record files: the digest (one HTML page or Markdown) and its
templates."""
