"""What the abstract itself says, read without the model: shared text helpers, links,
rules, the spans a model may choose from, and the checks a model's values and summary pass."""
