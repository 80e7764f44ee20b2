"""MkDocs hooks of this site (``hooks:`` in ``mkdocs.yml``).

The commands' help keeps its examples as click's ``\\b`` blocks: an ``Example:`` line, then
lines indented by two spaces, which ``--help`` prints as they are. ``mkdocs-click`` copies
the help into the CLI reference as Markdown, where those lines would run together into one
paragraph; the preprocessor below, run right after ``mkdocs-click``'s, makes each such block
a code block, so the reference shows the examples as ``--help`` does.
"""

from __future__ import annotations

import re
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

_EXAMPLE = re.compile(r"^Example\b[^:]*:$")
_INDENTED = re.compile(r"^  \S")


class _ExampleBlocks(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(lines):
            out.append(lines[i])
            if _EXAMPLE.match(lines[i]) and i + 1 < len(lines) and _INDENTED.match(lines[i + 1]):
                block: list[str] = []
                i += 1
                while i < len(lines) and _INDENTED.match(lines[i]):
                    block.append(lines[i][2:])
                    i += 1
                out += ["", "```text", *block, "```", ""]
                continue
            i += 1
        return out


class _ExampleBlocksExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # Markdown's own method name
        md.preprocessors.register(_ExampleBlocks(md), "cli_examples", 140)  # mkdocs-click's is 141


def on_config(config: Any) -> Any:
    config.markdown_extensions.append(_ExampleBlocksExtension())
    return config
