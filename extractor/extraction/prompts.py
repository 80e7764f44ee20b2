"""Prompts are data: TOML files under ``prompts/`` with a ``version`` and the text.

The version and a hash of the text travel with every record (``provenance``) and into
the cache key, so an edited prompt never serves stale answers.

Example:
    >>> p = load_prompt("extract")
    >>> p.version, len(p.hash)
    ('2', 12)
    >>> p.messages(title="T", abstract="A")[1]["content"]
    'Title: T\\n\\nAbstract: A'
"""

from __future__ import annotations

import hashlib
import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ..errors import ConfigError

__all__ = ["Prompt", "load_prompt", "prompt_dirs"]

_PACKAGE = Path(__file__).resolve().parents[1]  # extractor/


def prompt_dirs() -> list[Path]:
    """Where prompt files are looked up: inside the installed package (wheels), then the
    repository's top-level ``prompts/`` (editable installs)."""
    return [_PACKAGE / "prompts", _PACKAGE.parent / "prompts"]


class Prompt(BaseModel):
    """A versioned prompt: a system message and a user template with ``{title}`` and
    ``{abstract}`` placeholders."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    system: str
    user: str

    @property
    def hash(self) -> str:
        """First 12 hex digits of the SHA-256 of the prompt text."""
        return hashlib.sha256(f"{self.system}\0{self.user}".encode()).hexdigest()[:12]

    def messages(self, *, title: str, abstract: str) -> list[dict[str, str]]:
        """Chat messages for one paper."""
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self.user.format(title=title or "(untitled)", abstract=abstract)},
        ]


@cache
def load_prompt(name: str = "extract") -> Prompt:
    """Load ``prompts/<name>.toml``."""
    for folder in prompt_dirs():
        path = folder / f"{name}.toml"
        if path.is_file():
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            try:
                return Prompt(name=name, **data)
            except Exception as exc:  # pydantic.ValidationError, TypeError
                raise ConfigError(f"{path}: not a valid prompt file ({exc})") from exc
    raise ConfigError(f"prompt {name!r} not found in {', '.join(map(str, prompt_dirs()))}")
