"""Papers in, records out: reading listings and JSON Lines, writing record files, and
resuming them."""
