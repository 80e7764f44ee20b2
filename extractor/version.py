"""The package's version, at the bottom of the import graph so that any module may name it
(the library file's ``created_by``, the Hugging Face request headers, ``--version``).
pyproject.toml holds the same number."""

__version__ = "0.1.0"

__all__ = ["__version__"]
