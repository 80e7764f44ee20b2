"""A page rendered: one self-contained HTML document (its CSS and JS inline, the records
inside it as a JSON blob, every value escaped, a Content-Security-Policy with a per-page
nonce), or Markdown (every value escaped for GitHub), from the templates of
``extractor/pages/templates``.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

from ..schema import Contribution, Record
from .cards import card
from .day import day_label
from .page import Page

__all__ = [
    "CODE_LABELS", "KIND_LABELS", "DigestFormat", "md_code", "md_entry", "md_escape", "md_url", "render_html",
    "render_markdown", "script_json",
]  # fmt: skip

DigestFormat = Literal["html", "md"]
PAGE_SIZE = 50
KIND_LABELS = {
    Contribution.method: "Methods",
    Contribution.dataset_or_benchmark: "Datasets and benchmarks",
    Contribution.survey: "Surveys",
    Contribution.analysis: "Analyses",
    Contribution.system_or_tool: "Systems and tools",
    Contribution.theory: "Theory",
    Contribution.other: "Other, or kind not sure",
}
CODE_LABELS = {"linked": "code linked", "promised": "code promised", "none": "no code"}


def script_json(value: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: ASCII only (so no line
    separators JavaScript chokes on), and no ``<``, ``>`` or ``&`` (so no ``</script>``
    or ``<!--``)."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(page: Page, title: str, nav: Mapping[str, Any] | None = None) -> str:
    """The page as one self-contained HTML document; ``nav`` adds the links of a site
    (``{"prev", "next", "index", "feed"}``: relative hrefs and their labels)."""
    from markupsafe import Markup

    data = {
        "cards": page.cards,
        "failed": page.failed,
        "themes": [t.name for t in page.themes],
        "pageSize": PAGE_SIZE,
        "labels": {kind.value: label for kind, label in KIND_LABELS.items()},
        "day": page.summary.date,
        "seen": page.summary.new is not None,
        "watch": page.summary.watched > 0,
        "pages": (nav or {}).get("pages", {}),
    }
    assets = {name: Markup(_asset(f"digest.{name}")) for name in ("css", "js")}
    template = _environment("html").get_template("digest.html.j2")
    context = {"summary": page.summary, "title": title, "facts": page.facts, "themes": page.theme_list(),
               "day": day_label(page.summary.date), "nav": nav}  # fmt: skip
    return template.render(**context, **assets, data_json=Markup(script_json(data)), nonce=secrets.token_urlsafe(18))


def render_markdown(page: Page, title: str) -> str:
    """The page as Markdown (every value escaped)."""
    by_id = {c["id"]: c for c in page.cards}
    groups = {label: [_md_entry(by_id[r.id]) for r in page.records
                      if r.ok and r.extraction and (r.kind or Contribution.other) == kind]
              for kind, label in KIND_LABELS.items()}  # fmt: skip
    template = _environment("md").get_template("digest.md.j2")
    return template.render(summary=page.summary, title=title, facts=page.facts, themes=page.theme_list(),
                           groups={k: v for k, v in groups.items() if v}, failed=page.failed)  # fmt: skip


def _asset(name: str) -> str:
    from importlib.resources import files

    return files(__package__).joinpath("templates", name).read_text(encoding="utf-8")


@functools.cache
def _environment(kind: DigestFormat) -> Any:
    """The Jinja2 environment: autoescaping HTML, or Markdown with ``md``/``mdurl`` filters."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(__package__, "templates"),
        autoescape=kind == "html",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_escape, mdcode=md_code, mdurl=md_url, code_label=CODE_LABELS.get,
                       kind_label=lambda k: KIND_LABELS[Contribution(k)])  # fmt: skip
    return env


def _md_entry(c: dict[str, Any]) -> dict[str, Any]:
    """One paper's Markdown entry fields; the template escapes every value."""
    return {**c, "links": [link for link in c["links"] if link["href"]]}


def md_entry(rec: Record, first_seen: Mapping[str, str] | None = None, day: str = "") -> dict[str, Any]:
    """One paper's Markdown entry fields; the template escapes every value."""
    return _md_entry(card(0, rec, first_seen, day))


def md_escape(text: object) -> str:
    """Text shown literally by GitHub Markdown: HTML special characters as entities,
    Markdown punctuation backslash-escaped, line breaks as spaces."""
    s = " ".join(str(text).split())
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]{}()#+!|~])", r"\\\1", s)


def md_code(text: str) -> str:
    """Text as a Markdown code span (shown literally): one line, backticks as quotes."""
    return "`" + " ".join(text.replace("`", "'").split()) + "`"


def md_url(url: str) -> str:
    """An http(s) URL as a Markdown link destination (spaces, brackets and quotes encoded)."""
    return quote(url, safe=":/?#@!$&'*+,;=%-._~")
