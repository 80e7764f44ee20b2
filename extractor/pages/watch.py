"""The reader's watchlist: keywords, authors and organisations whose papers a page marks and ranks first.

It comes from the settings (``watch_keywords``, ``watch_authors``, ``watch_organizations``
in the config file, the environment or flags of ``digest``, ``daily`` and ``site``). A paper
matches

* a **keyword** when its title, abstract, task, method or method name holds it as whole
  words, ignoring case (a plural too: "diffusion model" finds "diffusion models");
* an **author** when one of its authors is that name, ignoring case, accents and spacing,
  or ends with it ("LeCun" matches "Yann LeCun");
* an **organisation** when the listing's organisation holds it as whole words ("Meta"
  matches "Meta AI", not "Metaphor").

Example:
    >>> w = Watchlist(keywords=("diffusion model",), authors=("LeCun",))
    >>> from extractor.schema import PaperMeta, Record, Source
    >>> r = Record(id="x", title="Faster Diffusion Models", abstract="...", source=Source(path="-", line=1),
    ...            meta=PaperMeta(authors=["Yann LeCun"]))
    >>> w.match(r)
    ['keyword: diffusion model', 'author: Yann LeCun']
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ..schema import Record

__all__ = ["Watchlist"]


def _fold(text: str) -> str:
    """Lower case, no accents, single spaces: how names are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


@functools.lru_cache(maxsize=256)
def _words(phrase: str, plural: bool) -> re.Pattern[str]:
    """``phrase`` as whole words, ignoring case and spacing (and a plural ending when ``plural``)."""
    body = r"\s+".join(re.escape(part) for part in phrase.split())
    return re.compile(rf"(?<![\w-]){body}{'(?:s|es)?' if plural else ''}(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class Watchlist:
    """What the reader watches for (see the module docstring). Empty: nothing is marked."""

    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()

    @classmethod
    def of(cls, settings: Any) -> Watchlist:
        """The watchlist of a :class:`~extractor.settings.Settings`."""
        clean = lambda items: tuple(dict.fromkeys(i.strip() for i in items or () if i.strip()))
        return cls(clean(settings.watch_keywords), clean(settings.watch_authors), clean(settings.watch_organizations))

    def __bool__(self) -> bool:
        return bool(self.keywords or self.authors or self.organizations)

    def match(self, rec: Record) -> list[str]:
        """Why ``rec`` is on the watchlist (``"keyword: ..."``, ``"author: ..."``,
        ``"organisation: ..."``); empty when it is not."""
        if not self:
            return []
        reasons = []
        ex = rec.extraction
        texts = [rec.title, rec.abstract, *((ex.task, ex.method, ex.method_name) if ex else ())]
        text = "\n".join(t for t in texts if t)
        for keyword in self.keywords:
            if _words(keyword, True).search(text):
                reasons.append(f"keyword: {keyword}")
        meta = rec.meta
        if meta is not None:
            names = [(_fold(a), a) for a in meta.authors]
            for watched in self.authors:
                key = _fold(watched)
                hit = next((a for folded, a in names if folded == key or folded.endswith(" " + key)), None)
                if hit:
                    reasons.append(f"author: {hit}")
            for org in self.organizations:
                if meta.organization and _words(_fold(org), False).search(_fold(meta.organization)):
                    reasons.append(f"organisation: {meta.organization}")
        return reasons
