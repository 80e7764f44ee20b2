"""Pages made from the repository when the site is built (run by the ``gen-files`` plugin).

* ``configuration.md``: the line ``<!-- settings:generated -->`` becomes the table of every
  setting, read from :class:`extractor.settings.Settings`, the one declaration the command
  line's flags are generated from too, so the table and ``--help`` cannot disagree.
* ``trust.md``: the line ``<!-- precision:generated -->`` becomes the table of every value
  source's measured precision, read from ``extractor/evidence/precision.json``, the table
  the extractor holds values to.
* ``benchmarks/results.md`` and ``benchmarks/method.md``: ``benchmarks/results.md`` and
  ``benchmarks/README.md`` of the repository, as pages of the site.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- settings:generated -->"
PRECISION_MARKER = "<!-- precision:generated -->"
MIRRORED = {"benchmarks/results.md": "benchmarks/results.md", "benchmarks/method.md": "benchmarks/README.md",
            "benchmarks/spotcheck.md": "benchmarks/spotcheck/README.md"}

sys.path.insert(0, str(ROOT))


def _shown(value: Any) -> str:
    """A default as the docs show it (a path under the home directory with ``~``)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    home = os.path.expanduser("~")
    if isinstance(value, Path) and text.startswith(home + os.sep):
        text = "~" + text[len(home) :]
    return text


def settings_table() -> str:
    """Every setting: config-file key, flag, environment variables, default, commands, meaning."""
    from extractor.settings import MODEL_COMMANDS, Settings, env_names, flag_of

    rows = [
        "| setting (config file) | flag | environment | default | commands | what it does |",
        "|---|---|---|---|---|---|",
    ]
    for name, info in Settings.model_fields.items():
        flag = flag_of(name)
        if not flag.commands:  # not a setting a user gives (origin)
            continue
        option = "--" + name.replace("_", "-")
        if info.annotation is bool:
            option = f"{option} / --no-{name.replace('_', '-')}"
        if flag.multiple:
            option += " (repeatable)"
        commands = "all that use a model" if flag.commands == MODEL_COMMANDS else ", ".join(flag.commands)
        env = "<br>".join(f"`{e}`" for e in env_names(name))
        description = (info.description or "").replace("|", "\\|")
        value = info.get_default(call_default_factory=True)
        default = "—" if value in (None, []) else f"`{_shown(value)}`"
        rows.append(f"| `{name}` | `{option}` | {env} | {default} | {commands} | {description} |")
    return "\n".join(rows) + (
        "\n\n*All that use a model*: " + ", ".join(f"`{c}`" for c in MODEL_COMMANDS) + ".\n"
    )


def precision_table() -> str:
    """Each measured source: field, source, precision, how many values it was judged on,
    and whether its values are shown (at or over the bar)."""
    from extractor.evidence.precision import MIN_PRECISION, measured

    table = measured()
    if not table:
        return "*No source has been measured yet: every value that passes the checks is shown.*\n"
    rows = ["| field | source | precision | judged | shown | measured on |", "|---|---|---:|---:|---|---|"]
    for (name, source), m in sorted(table.items()):
        shown = "yes" if m.precision >= MIN_PRECISION else "no (held back)"
        rows.append(f"| `{name}` | `{source}` | {m.precision:.2f} | {m.judged} | {shown} | {m.on} |")
    return "\n".join(rows) + f"\n\nThe bar (`MIN_PRECISION`) is {MIN_PRECISION:.2f}.\n"


def trust_page() -> str:
    text = (ROOT / "docs" / "trust.md").read_text(encoding="utf-8")
    if PRECISION_MARKER not in text:
        raise SystemExit(f"docs/trust.md has no line {PRECISION_MARKER!r} to replace")
    return text.replace(PRECISION_MARKER, precision_table())


def configuration_page() -> str:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    if MARKER not in text:
        raise SystemExit(f"docs/configuration.md has no line {MARKER!r} to replace")
    return text.replace(MARKER, settings_table())


if __name__ == "<run_path>":  # run by mkdocs-gen-files (runpy.run_path) while the site is built
    import mkdocs_gen_files

    with mkdocs_gen_files.open("configuration.md", "w") as fh:
        fh.write(configuration_page())
    with mkdocs_gen_files.open("trust.md", "w") as fh:
        fh.write(trust_page())
    for page, source in MIRRORED.items():
        with mkdocs_gen_files.open(page, "w") as fh:
            fh.write((ROOT / source).read_text(encoding="utf-8"))
        mkdocs_gen_files.set_edit_path(page, Path("..") / source)
elif __name__ == "__main__":  # by hand: print the settings table
    print(settings_table())
