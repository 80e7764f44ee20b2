"""Talking to a model: which endpoint, model and mode, typed answers from chat completions
with the one re-ask loop, the mode probe, instructor's handlers and the answer cache."""
