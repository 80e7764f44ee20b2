"""HTTP to OpenAI-compatible endpoints: the client session, the one retry wrapper with its
per-paper budget and rate limit, and the choice among replicas."""
