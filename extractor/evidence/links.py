"""Find the URLs of an abstract without the model, and say what each points at. Whether
the paper links, promises or omits its code (:func:`~extractor.evidence.code.code_status`)
is told by :mod:`~extractor.evidence.code`, and importable from here too.

Everything here is deterministic, offline and regex-based (no TLD download, no network):
the model may later *choose* among the links found here, never add one.

Finding (:func:`find_links`)
    * URLs with a scheme (``http://``, ``https://``), also when the scheme is tokenised
      with spaces (``https : //github.com/a/b`` -> ``https://github.com/a/b``).
    * URLs without a scheme when they start with ``www.``, are on a known host
      (``github.com/org/repo``), or have a host whose top-level domain is in a short
      curated list (``4m.epfl.ch``, ``bit.ly/3VA5DoT``). File names (``README.md``,
      ``train.py``) and English words after a missing space (``results.In``) are not
      taken: their suffixes are not in the list, and bare domains need a lowercase TLD.
    * LaTeX wrappers: ``\\url{X}``, ``\\href{X}{text}``, ``{X}`` and ``X{X}`` give ``X``;
      two URLs glued together (``a.https://b``) are split.
    * Trailing sentence punctuation (``.,;:!?``), quotes and unbalanced closing
      brackets/braces are stripped (balanced ``(...)`` inside a path is kept).
    * A URL cut by a tokeniser after a hyphen (``github.com/a/efficient- NLP-x``) is
      joined with the next token when the URL ends in ``-`` and exactly one space follows.
    * Output: the URL as written, with ``https://`` added when it had no scheme;
      de-duplicated, first occurrence kept, by :func:`~extractor.evidence.text.url_key` (the
      normalised URL without the scheme, case-folded: ``http``/``https`` and
      ``Repo``/``repo`` are one link).

Kinds (:func:`classify`), first rule that matches wins
    * ``paper``: arxiv.org, openreview.net, aclanthology.org / aclweb.org/anthology,
      doi.org (except data DOIs below), proceedings/publisher sites (neurips, mlr.press,
      thecvf, ACM DL, IEEE Xplore, Springer, bioRxiv, medRxiv, SSRN, Semantic Scholar),
      ``huggingface.co/papers/...`` and ``paperswithcode.com/paper/...``.
    * ``dataset``: ``huggingface.co/datasets/...``, kaggle.com (not ``/code``), zenodo,
      figshare, Dryad, Dataverse, Mendeley Data, PhysioNet, OpenML, ModelScope datasets,
      and Zenodo/figshare/Dryad DOIs (``10.5281``, ``10.6084``, ``10.5061``).
    * ``demo``: Hugging Face Spaces (``huggingface.co/spaces/...``, ``*.hf.space``),
      gradio links (``*.gradio.live``, ``*.gradio.app``), replicate.com, YouTube/Vimeo.
    * ``code``: GitHub (not ``*.github.io``), gist, raw.githubusercontent, GitLab (not
      ``*.gitlab.io``), Bitbucket, Codeberg, SourceForge, Gitee, ``anonymous.4open.science``,
      PyPI, npm, Colab notebooks, Kaggle ``/code``, Papers with Code repositories.
    * ``model_weights``: any other Hugging Face hub path (``huggingface.co/<org>/<model>``,
      an organisation page ``huggingface.co/<org>``), ModelScope models, Ollama library.
    * ``other``: link shorteners (bit.ly, aka.ms, ibm.biz, goo.gl, tinyurl, t.co ...),
      Wikipedia, the bare hub host, HF docs/blog/collections, cloud storage consoles.
    * ``project_page``: everything else: ``*.github.io``, ``*.gitlab.io``, Google Sites,
      Netlify/Vercel/Pages sites, lab and personal pages, product sites.

Example:
    >>> links = find_links("Code: https : //github.com/a/b. See {https://a.github.io/p/}.")
    >>> [(link.url, link.kind.value) for link in links]
    [('https://github.com/a/b', 'code'), ('https://a.github.io/p/', 'project_page')]
    >>> best_code_link(links)
    'https://github.com/a/b'
    >>> code_status("Code will be released upon acceptance.", [])
    'promised'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from ..schema import Link, LinkKind
from .code import code_status
from .text import lowered, url_key

__all__ = ["best_code_link", "classify", "code_status", "find_links"]

# --------------------------------------------------------------------------- finding

# Characters that never belong to a URL found in prose (LaTeX braces and backslashes
# included, so ``X{X}`` and ``\url{X}`` split by themselves).
_URL_CHARS = r"[^\s<>\"{}|\\^`\[\]\u201c\u201d\u2018\u2019\u00ab\u00bb]"
_SPACED_SCHEME = re.compile(r"\b(https?)\s*:\s*/\s*/\s*", re.IGNORECASE)
_SCHEME_URL = re.compile(rf"https?://{_URL_CHARS}+", re.IGNORECASE)
_GLUED_SCHEME = re.compile(r"(?<=.)(?=https?://)", re.IGNORECASE)
# A tokeniser split: URL ending in "-" then one space then more URL characters.
_HYPHEN_CONTINUATION = re.compile(rf" ({_URL_CHARS}+)")
# Tokenised path pieces: "/ seg", " / seg" ("seg" never starts a new URL).
_SEG = r"(?!https?:|www\.)[A-Za-z0-9_~%+][\w.~%+=-]*"
_TOKENISED_SLASHES = re.compile(rf"(?:[ \t]*/[ \t]*{_SEG})+")
_TOKENISED_AFTER_SLASH = re.compile(rf"[ \t]+{_SEG}((?:[ \t]*/[ \t]*{_SEG})*)")

# Top-level domains accepted for URLs written without a scheme. Deliberately short:
# no file extensions (md, py, sh, rs, js, pl, cc) and no English words (in, it, is, as,
# to, at, be, by, do, me, my, no, so, us) so that prose and file names are not taken.
_TLDS = frozenset(
    """com org net edu gov mil int io ai co app dev info xyz science site tech online page
    cloud ly ch de uk cn jp kr fr nl eu ca au tv ru br es se fi dk ie il sg hk tw nz
    ac""".split()
)
_SCHEMELESS = re.compile(
    r"(?<![\w@./:%+-])"
    r"((?:www\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,10}))"
    rf"((?:[/?#]{_URL_CHARS}*)?)",
    re.IGNORECASE,
)
# What every schemeless URL holds: a dot and two letters (its TLD). Found at the speed of
# a scan for "." (a literal start), where _SCHEMELESS is tried at every position; most
# abstracts have none ("e.g." and "4.5" are not it).
_DOTTED = re.compile(r"\.[a-z]{2}", re.IGNORECASE)

_TRAILING = ".,;:!?'\"*\u2026"
_PAIRS = {")": "(", "]": "[", "}": "{", ">": "<"}


def _strip_trailing(url: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets from the end of *url*."""
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in _PAIRS and url.count(last) > url.count(_PAIRS[last]):
            url = url[:-1]
        else:
            break
    return url


def _host_path(url: str) -> tuple[str, str]:
    """Lowercased host without ``www.`` and the path of *url* (scheme optional)."""
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return "", ""
    if host.startswith("www."):
        host = host[4:]
    return host, parts.path


def _valid_host(host: str) -> bool:
    labels = host.split(".")
    return len(labels) >= 2 and all(labels) and labels[-1].isalpha() and len(labels[-1]) >= 2


def _extend(text: str, url: str, end: int) -> tuple[str, int]:
    """Join the tokenised tail of a URL that ends at ``text[end]``.

    Tokenisers write ``https://github.com/foo/bar`` as ``https://github.com/ foo / bar``
    and cut ``efficient-NLP`` as ``efficient- NLP``. Joined: ``/ seg`` pieces with spaces
    around the slash; after a URL ending in ``/``, a first ``seg`` only when at least
    one more ``/ seg`` follows (so ``https://x.org/ and`` stays as it is); and
    after a URL ending in ``-``, the next token when exactly one space separates them.
    """
    if url.endswith("/"):
        tail = _TOKENISED_AFTER_SLASH.match(text, end)
        if tail and tail.group(1):
            return url + re.sub(r"\s+", "", tail.group()), tail.end()
        return url, end
    if url.endswith("-"):
        cont = _HYPHEN_CONTINUATION.match(text, end)
        if cont and not _SCHEME_URL.match(cont.group(1)):
            url, end = url + cont.group(1), cont.end()
    tail = _TOKENISED_SLASHES.match(text, end)
    if tail and re.search(r"\s", tail.group()):
        return url + re.sub(r"\s+", "", tail.group()), tail.end()
    return url, end


def _candidates(text: str) -> list[tuple[int, str]]:
    """(position, raw URL) pairs, scheme URLs first masked out before schemeless ones."""
    text = unicodedata.normalize("NFC", text)
    found: list[tuple[int, str]] = []
    rest = text
    if "http" in lowered(text):  # every URL with a scheme has it; most abstracts have none
        text = _SPACED_SCHEME.sub(lambda m: m.group(1) + "://", text)
        masked = list(text)
        for match in _SCHEME_URL.finditer(text):
            start = match.start()
            raw, end = _extend(text, match.group(), match.end())
            masked[start:end] = " " * (end - start)
            offset = start
            for piece in _GLUED_SCHEME.split(raw):
                found.append((offset, piece))
                offset += len(piece)
        rest = "".join(masked)
    for match in _SCHEMELESS.finditer(rest) if _DOTTED.search(rest) else ():
        host, tld, path = match.group(1), match.group(2), match.group(3)
        known = _host_path(host)[0] in _SCHEMELESS_HOSTS
        if not (known or host.lower().startswith("www.") or tld in _TLDS):
            continue  # wrong-case or unknown TLD: "results.In", "README.md"
        if not path and not known and not host.lower().startswith("www.") and host[0].isupper():
            continue  # "Node.js"-style names are capitalised; bare domains are not
        raw, _end = _extend(rest, host + path, match.end())
        found.append((match.start(), raw))
    found.sort(key=lambda item: item[0])
    return found


def find_links(text: str) -> list[Link]:
    """Every URL in *text*, in order of appearance, each with its :class:`LinkKind`.

    See the module docstring for the rules.

    Example:
        >>> [l.url for l in find_links("at github.com/UCSC-REAL/fair-eval. And bit.ly/3VA5DoT")]
        ['https://github.com/UCSC-REAL/fair-eval', 'https://bit.ly/3VA5DoT']
    """
    links: list[Link] = []
    seen: set[str] = set()
    for _, raw in _candidates(text):
        url = _strip_trailing(raw)
        if "://" not in url:
            url = "https://" + url
        host, _path = _host_path(url)
        if not _valid_host(host):
            continue
        key = url_key(url)
        if key in seen:
            continue
        seen.add(key)
        links.append(Link(url=url, kind=classify(url)))
    return links


# --------------------------------------------------------------------------- classifying

_HF_HOSTS = frozenset("huggingface.co hf.co huggingface.host hf-mirror.com".split())
_CODE_HOSTS = frozenset(
    """github.com gist.github.com raw.githubusercontent.com gitlab.com bitbucket.org
    codeberg.org sourceforge.net gitee.com anonymous.4open.science pypi.org npmjs.com
    colab.research.google.com git.io""".split()
)
_PAPER_HOSTS = frozenset(
    """arxiv.org export.arxiv.org openreview.net aclanthology.org papers.nips.cc
    proceedings.neurips.cc neurips.cc proceedings.mlr.press openaccess.thecvf.com
    dl.acm.org ieeexplore.ieee.org link.springer.com biorxiv.org medrxiv.org ssrn.com
    papers.ssrn.com semanticscholar.org ojs.aaai.org jmlr.org""".split()
)
_DATASET_HOSTS = frozenset(
    """zenodo.org figshare.com datadryad.org dataverse.harvard.edu data.mendeley.com
    physionet.org openml.org kaggle.com""".split()
)
_DEMO_HOSTS = frozenset("replicate.com youtube.com youtu.be vimeo.com".split())
_OTHER_HOSTS = frozenset(
    """bit.ly aka.ms ibm.biz goo.gl tinyurl.com t.co ow.ly rb.gy wikipedia.org
    console.cloud.google.com storage.googleapis.com drive.google.com docs.google.com""".split()
)
_DATA_DOI_PREFIXES = ("10.5281/", "10.6084/", "10.5061/")
# Hosts taken without a scheme even when their TLD is not in _TLDS.
_SCHEMELESS_HOSTS = _HF_HOSTS | _CODE_HOSTS | _PAPER_HOSTS | _DATASET_HOSTS | {"doi.org"}
_HF_NOT_MODELS = frozenset(
    {"docs", "blog", "collections", "organizations", "tasks", "learn", "models", "pricing",
     "join", "login", "settings", "chat", "posts", "spaces", "datasets", "papers"}
)


def _on(host: str, domains: Iterable[str]) -> bool:
    """True when *host* is one of *domains* or a subdomain of one."""
    return any(host == d or host.endswith("." + d) for d in domains)


def classify(url: str) -> LinkKind:
    """The :class:`LinkKind` of *url* by its host and path (rules in the module docstring).

    Example:
        >>> classify("https://huggingface.co/NexaAIDev/Octopus-v4").value
        'model_weights'
        >>> classify("https://doi.org/10.5281/zenodo.6832145").value
        'dataset'
    """
    host, path = _host_path(url)
    segments = [s for s in path.split("/") if s]
    first = segments[0].lower() if segments else ""

    if host in ("doi.org", "dx.doi.org"):
        doi = path.lstrip("/").lower()
        return LinkKind.dataset if doi.startswith(_DATA_DOI_PREFIXES) else LinkKind.paper
    if host in ("aclweb.org",) and first == "anthology":
        return LinkKind.paper
    if host == "paperswithcode.com":
        return LinkKind.paper if first == "paper" else LinkKind.code
    if host in _HF_HOSTS:
        if first == "papers":
            return LinkKind.paper
        if first == "datasets" and len(segments) > 1:
            return LinkKind.dataset
        if first == "spaces" and len(segments) > 1:
            return LinkKind.demo
        if segments and first not in _HF_NOT_MODELS:
            return LinkKind.model_weights
        return LinkKind.other
    if host.endswith(".hf.space") or _on(host, ("gradio.live", "gradio.app")):
        return LinkKind.demo
    if host == "kaggle.com" and first == "code":
        return LinkKind.code
    if host == "modelscope.cn":
        if first == "datasets":
            return LinkKind.dataset
        return LinkKind.model_weights if first == "models" else LinkKind.project_page
    if host == "ollama.com" and first == "library":
        return LinkKind.model_weights
    if _on(host, _PAPER_HOSTS):
        return LinkKind.paper
    if _on(host, _DATASET_HOSTS):
        return LinkKind.dataset
    if _on(host, _DEMO_HOSTS):
        return LinkKind.demo
    if host in _CODE_HOSTS:
        return LinkKind.code if segments else LinkKind.other
    if _on(host, _OTHER_HOSTS):
        return LinkKind.other
    return LinkKind.project_page


# --------------------------------------------------------------------------- choosing

_REPO_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "gitee.com"})


def _code_rank(link: Link) -> int:
    """0 for a repository, 1 for another code URL with a path, 2 for an org/user page."""
    host, path = _host_path(link.url)
    segments = [s for s in path.split("/") if s]
    if host in _REPO_HOSTS:
        return 0 if len(segments) >= 2 else 2
    return 1 if segments else 2


def best_code_link(links: Sequence[Link]) -> str | None:
    """The URL of the best code link in *links*, or ``None`` when there is none.

    A repository (``github.com/org/repo``) beats another code URL with a path
    (``anonymous.4open.science/r/X``), which beats an organisation page
    (``github.com/org``); ties go to the first in the abstract.

    Example:
        >>> best_code_link([Link(url="https://github.com/XRBench", kind=LinkKind.code),
        ...                 Link(url="https://github.com/a/b", kind=LinkKind.code)])
        'https://github.com/a/b'
    """
    code = [(_code_rank(link), i, link.url) for i, link in enumerate(links) if link.kind == LinkKind.code]
    return min(code)[2] if code else None
