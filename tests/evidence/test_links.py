"""Tests of :mod:`extractor.evidence.links`: finding, classifying and choosing links, code status.

Offline and fast: the seed abstracts are read from ``seeds/*.txt`` (every line longer
than 200 characters is an abstract).
"""

from __future__ import annotations

import socket
from collections import Counter

import pytest

from extractor.evidence.links import best_code_link, classify, code_status, find_links
from extractor.schema import Link, LinkKind
from extractor.evidence.text import normalise_url, url_key

from ..conftest import ROOT

SEEDS = ROOT / "seeds"


def seed_abstracts() -> list[str]:
    """Every line longer than 200 characters of the seed files, duplicates included."""
    return [
        line
        for path in sorted(SEEDS.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if len(line) > 200
    ]


@pytest.fixture(scope="module")
def seeds() -> list[tuple[str, list[Link]]]:
    return [(text, find_links(text)) for text in seed_abstracts()]


def urls(text: str) -> list[str]:
    return [link.url for link in find_links(text)]


# --------------------------------------------------------------------------- seeds


def test_seed_counts(seeds: list[tuple[str, list[Link]]]) -> None:
    """608 abstract lines (546 distinct: some papers are listed on several pages).

    The issue's 141 / 130 are substring counts: 141 lines contain "http" and 130 contain
    "github". Real links: 147 lines hold a URL (the 141 with a scheme, all found, plus 6
    written without one: github.com/..., bit.ly/..., 4m.epfl.ch, en.wikipedia.org) and
    110 hold a github.com link; the other 20 "github" lines have *.github.io project
    pages only (18) or the word "GitHub" without any GitHub URL (2: "An associated GitHub
    repository collecting..." and "Use our open-sourced GitHub (https://www.nexa4ai.com/)").
    """
    assert len(seeds) == 608
    assert len({text for text, _ in seeds}) == 546
    with_url = [(t, ls) for t, ls in seeds if ls]
    assert len(with_url) == 147
    assert sum("http" in t.lower() for t, _ in seeds) == 141
    assert all(ls for t, ls in seeds if "http" in t.lower())  # every scheme URL is found
    assert sum("http" not in t.lower() for t, _ in with_url) == 6

    github = [(t, ls) for t, ls in seeds if any(url_key(l.url).startswith("github.com/") for l in ls)]
    assert len(github) == 110
    mentions = [(t, ls) for t, ls in seeds if "github" in t.lower()]
    assert len(mentions) == 130
    io_only = [t for t, ls in mentions if any(".github.io" in l.url for l in ls)
               and not any("github.com" in l.url for l in ls)]
    word_only = [t for t, ls in mentions if not any("github" in l.url for l in ls)]
    assert (len(io_only), len(word_only)) == (18, 2)
    assert len(github) + len(io_only) + len(word_only) == len(mentions)


def test_seed_code_status_and_kinds(seeds: list[tuple[str, list[Link]]]) -> None:
    status = Counter(code_status(t, ls) for t, ls in seeds)
    assert status == {"linked": 113, "promised": 52, "none": 443}
    kinds = Counter(l.kind.value for _, ls in seeds for l in ls)
    assert kinds == {"code": 113, "project_page": 30, "other": 7, "model_weights": 4, "dataset": 1}
    for text, ls in seeds:  # every link found is a substring of its abstract, spaces aside
        flat = "".join(text.split()).lower()
        for link in ls:
            assert url_key(link.url).split("/")[0] in flat


def test_seed_multigrid_code_is_promised(seeds: list[tuple[str, list[Link]]]) -> None:
    text, ls = next((t, ls) for t, ls in seeds if "A Multigrid Method" in t or "multigrid method trains" in t)
    assert ls == [] and code_status(text, ls) == "promised"  # "Code is available online."


def test_find_links_never_uses_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert urls("see github.com/a/b and https://x.org/p.") == ["https://github.com/a/b", "https://x.org/p"]


# --------------------------------------------------------------------------- finding

FIND_CASES = [
    # sentence period, trailing spaces / punctuation (seeds)
    ("The code is available at https://github.com/zhaochen0110/Timo.", ["https://github.com/zhaochen0110/Timo"]),
    ("open-sourced at https://github.com/SewoongLab/PLeaS-Merging .", ["https://github.com/SewoongLab/PLeaS-Merging"]),
    ("Code is available at https://github.com/Newbeeer/pfgmpp", ["https://github.com/Newbeeer/pfgmpp"]),
    ("is available in https://github.com/LZY-the-boys/Twin-Mergin.)", ["https://github.com/LZY-the-boys/Twin-Mergin"]),
    ("(Code is available at: https://github.com/wqyin/SMPLest-X).", ["https://github.com/wqyin/SMPLest-X"]),
    ("graphs (https://github.com/facebookresearch/mowst-gnn).", ["https://github.com/facebookresearch/mowst-gnn"]),
    ("GitHub (https://www.nexa4ai.com/) to try", ["https://www.nexa4ai.com/"]),
    ("policy to be published at https://aka.ms/orca-lm), a 13-billion", ["https://aka.ms/orca-lm"]),
    ("in our website (http://mano.is.tue.mpg.de).", ["http://mano.is.tue.mpg.de"]),
    ("Code is available at: https://x.org/a!", ["https://x.org/a"]),
    ('"https://github.com/a/b", he said', ["https://github.com/a/b"]),
    ("“https://github.com/a/b”", ["https://github.com/a/b"]),
    ("Code: <https://gitlab.com/a/b>", ["https://gitlab.com/a/b"]),
    ("[https://github.com/a/b]", ["https://github.com/a/b"]),
    ("https://en.wikipedia.org/wiki/Foo_(bar).", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
    ("at https://seas.upenn.edu/~nkolot/projects/spin.", ["https://seas.upenn.edu/~nkolot/projects/spin"]),
    ("at https://wzy6642.github.io/I3C.github.io/.", ["https://wzy6642.github.io/I3C.github.io/"]),
    # LaTeX wrappers
    ("for the related sources is at {https://github.com/FudanDISC/SocialAgent}.", ["https://github.com/FudanDISC/SocialAgent"]),
    ("at \\url{https://github.com/a/b}.", ["https://github.com/a/b"]),
    ("see \\href{https://x.org/p}{here}.", ["https://x.org/p"]),
    ("Codes available at https://github.com/harryjo97/RDLM{https://github.com/harryjo97/RDLM}.", ["https://github.com/harryjo97/RDLM"]),
    (
        "available at http://tianrun-chen.github.io/xLSTM-UNet/{http://tianrun-chen.github.io/xLSTM-Unet/}",
        ["http://tianrun-chen.github.io/xLSTM-UNet/"],
    ),
    (
        "available~https://anonymous.4open.science/r/BIB-ICLR2023-Submission/README.md{here.}",
        ["https://anonymous.4open.science/r/BIB-ICLR2023-Submission/README.md"],
    ),
    ("publicly available at~https://github.com/rabeehk/compacter.", ["https://github.com/rabeehk/compacter"]),
    # glued URLs and a colon before the URL
    (
        "at https://github.com/AngusDujw/Diversity-Driven-Synthesis.https://github.com/AngusDujw/Diversity-Driven-Synthesis.",
        ["https://github.com/AngusDujw/Diversity-Driven-Synthesis"],
    ),
    ("repository:https://github.com/wxie9/CARD", ["https://github.com/wxie9/CARD"]),
    ("https://github.com/a/b,https://github.com/c/d", ["https://github.com/a/b", "https://github.com/c/d"]),
    # no scheme
    ("Code is available at github.com/UCSC-REAL/fair-eval.", ["https://github.com/UCSC-REAL/fair-eval"]),
    ("Our code is available at bit.ly/3VA5DoT", ["https://bit.ly/3VA5DoT"]),
    ("are open sourced at 4m.epfl.ch.", ["https://4m.epfl.ch"]),
    ("visit www.example.com now", ["https://www.example.com"]),
    ("(e.g., URLs like en.wikipedia.org) alongside", ["https://en.wikipedia.org"]),
    # tokenised text
    ("implementation of MADation at https: //github.com/gurayozgur/MADation", ["https://github.com/gurayozgur/MADation"]),
    ("https : //github.com/foo/bar", ["https://github.com/foo/bar"]),
    ("https : //github.com/ foo / bar", ["https://github.com/foo/bar"]),
    ("Code is available at : https://github.com/ bdhingra / ga-reader .", ["https://github.com/bdhingra/ga-reader"]),
    ("HTTPS : / / github.com/a/b", ["HTTPS://github.com/a/b"]),
    ("Code is available at: https://github.com/xo28/efficient- NLP-multistage-training", ["https://github.com/xo28/efficient-NLP-multistage-training"]),
    # de-duplication: http/https, www, .git, trailing slash, case
    ("https://github.com/a/b.git and http://www.github.com/A/B/", ["https://github.com/a/b.git"]),
    ("https://github.com/a/b then https://x.org then https://github.com/a/b.", ["https://github.com/a/b", "https://x.org"]),
]

NOT_LINKS = [
    "mail me@github.com",
    "see README.md and train.py",
    "the results.In this paper",  # a missing space is not a domain
    "e.g. Node.js, i.e. 3.5, Fig.3, w.r.t. ResNet-50",
    "speeds up by 4.5x.",
    "the GitHub project corresponding to this survey",
    "Our dataset is available online on HuggingFace",
    "",
]


@pytest.mark.parametrize(("text", "expected"), FIND_CASES)
def test_find_links(text: str, expected: list[str]) -> None:
    assert urls(text) == expected


@pytest.mark.parametrize("text", NOT_LINKS)
def test_find_links_none(text: str) -> None:
    assert urls(text) == []


def test_tokenised_join_is_careful() -> None:
    # A URL ending in "/" followed by a word is not joined with it.
    assert urls("see https://x.org/path/ and more") == ["https://x.org/path/"]
    assert urls("see https://github.com/ and more") == ["https://github.com/"]
    # Slash pieces never swallow the next URL.
    assert urls("https://a.org/x / https://b.org/y") == ["https://a.org/x", "https://b.org/y"]


def test_find_links_keeps_order_and_kinds() -> None:
    text = (
        "with code being available at https://github.com/camlab-ethz/poseidon and pretrained models "
        "and datasets at https://huggingface.host/camlab-ethz."
    )
    assert [(l.url, l.kind) for l in find_links(text)] == [
        ("https://github.com/camlab-ethz/poseidon", LinkKind.code),
        ("https://huggingface.host/camlab-ethz", LinkKind.model_weights),
    ]


# --------------------------------------------------------------------------- kinds

KIND_CASES = [
    ("https://github.com/baaivision/EVE", LinkKind.code),
    ("https://github.com/XRBench", LinkKind.code),
    ("https://github.com/modelscope/data-juicer/blob/main/docs/awesome_llm_data.md", LinkKind.code),
    ("https://gitlab.com/a/b", LinkKind.code),
    ("https://bitbucket.org/paladinanalytics/workspace/projects/OP", LinkKind.code),
    ("https://codeberg.org/a/b", LinkKind.code),
    ("https://sourceforge.net/projects/x", LinkKind.code),
    ("https://anonymous.4open.science/r/XMoE", LinkKind.code),
    ("https://colab.research.google.com/drive/abc", LinkKind.code),
    ("https://github.com", LinkKind.other),
    ("https://weijiawu.github.io/DiffusionMask/", LinkKind.project_page),
    ("https://a.gitlab.io/p", LinkKind.project_page),
    ("https://molmo.allenai.org", LinkKind.project_page),
    ("https://seas.upenn.edu/~nkolot/projects/spin", LinkKind.project_page),
    ("https://huggingface.co/datasets/org/data", LinkKind.dataset),
    ("https://www.kaggle.com/datasets/x/y", LinkKind.dataset),
    ("https://www.kaggle.com/code/x/y", LinkKind.code),
    ("https://zenodo.org/record/123", LinkKind.dataset),
    ("https://doi.org/10.5281/zenodo.6832145", LinkKind.dataset),
    ("https://huggingface.co/NexaAIDev/Octopus-v4", LinkKind.model_weights),
    ("https://huggingface.co/bigscience", LinkKind.model_weights),
    ("https://huggingface.host/apple/OpenELM", LinkKind.model_weights),
    ("https://hf.co/org/model", LinkKind.model_weights),
    ("https://huggingface.co/spaces/org/demo", LinkKind.demo),
    ("https://org-demo.hf.space", LinkKind.demo),
    ("https://abc123.gradio.live", LinkKind.demo),
    ("https://www.youtube.com/watch?v=x", LinkKind.demo),
    ("https://arxiv.org/abs/2301.00001", LinkKind.paper),
    ("https://openreview.net/forum?id=x", LinkKind.paper),
    ("https://aclanthology.org/2023.acl-long.1", LinkKind.paper),
    ("https://doi.org/10.1145/123", LinkKind.paper),
    ("https://huggingface.co/papers/2301.00001", LinkKind.paper),
    ("https://aka.ms/orca-lm", LinkKind.other),
    ("https://bit.ly/3VA5DoT", LinkKind.other),
    ("https://en.wikipedia.org", LinkKind.other),
    ("https://huggingface.host/collections/SurgeGlobal/open-bezoar-6620a", LinkKind.other),
    ("https://console.cloud.google.com/storage/browser/isi-surgtoolloc-2022", LinkKind.other),
]


@pytest.mark.parametrize(("url", "kind"), KIND_CASES)
def test_classify(url: str, kind: LinkKind) -> None:
    assert classify(url) == kind


# --------------------------------------------------------------------------- choosing


def link(url: str) -> Link:
    return Link(url=url, kind=classify(url))


def test_best_code_link() -> None:
    assert best_code_link([]) is None
    assert best_code_link([link("https://a.github.io/p"), link("https://huggingface.co/o/m")]) is None
    assert best_code_link([link("https://github.com/XRBench"), link("https://github.com/a/b")]) == "https://github.com/a/b"
    assert (
        best_code_link([link("https://github.com/org"), link("https://anonymous.4open.science/r/X")])
        == "https://anonymous.4open.science/r/X"
    )
    assert best_code_link([link("https://github.com/a/b"), link("https://gitlab.com/c/d")]) == "https://github.com/a/b"
    assert best_code_link([link("https://github.com/XRBench")]) == "https://github.com/XRBench"


# --------------------------------------------------------------------------- status

PROMISED = [
    "Code is available online.",
    "Code will be released upon acceptance.",
    "Code and models will be released upon acceptance.",
    "Our code and models will be publicly available for further research.",
    "We make our code and models publicly available for research use.",
    "We release our code to facilitate future research into methods for merging models.",
    "To facilitate further research, we will make the code public after the review process.",
    "Our dataset and code will be published soon on Anonymity Link.",
    "We will open-source a 1T model checkpoint, namely Tele-FLM-1T, to advance further research.",
    "The training code and models will be available as open-source.",
    "Code for our framework and experiments has been made publicly available.",
    "All code and models will be open-sourced at https://pyramid-flow.github.io.",  # no code URL
    "Our code is available at bit.ly/3VA5DoT",  # a shortener is not a usable code URL
]

NOT_PROMISED = [
    "We evaluate on MATH.",
    "Open-source models have rapidly improved, with LLaMA-3-70b now competing.",
    "We use publicly available datasets such as ImageNet.",
    "Recently, several datasets have been released for the yet understudied materials science domain.",
    "Oftentimes fine-tuned models are readily available but their training data is not.",
    "The dataset is grouped into bags of samples, where each bag is available only with an aggregate response.",
    "First, we provide evaluation metrics for a notion of compatibility.",
    "However, only the model's weights are provided with most details being undisclosed.",
    "Since training data is typically unavailable for MLaaS models, this paper focuses on extraction.",
]


@pytest.mark.parametrize("text", PROMISED)
def test_code_status_promised(text: str) -> None:
    assert code_status(text, find_links(text)) == "promised"


@pytest.mark.parametrize("text", NOT_PROMISED)
def test_code_status_none(text: str) -> None:
    assert code_status(text, find_links(text)) == "none"


def test_code_status_linked() -> None:
    text = "The code is available at https://github.com/zhaochen0110/Timo."
    assert code_status(text, find_links(text)) == "linked"
    assert code_status("no words about code", [link("https://github.com/a/b")]) == "linked"
    # A project page is not a code link.
    text = "The project website can be found at https://weijiawu.github.io/DiffusionMask/."
    assert code_status(text, find_links(text)) == "none"


# --------------------------------------------------------------------------- normalising


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.GitHub.com/Org/Repo.git/", "https://github.com/Org/Repo"),
        ("github.com/org/repo", "https://github.com/org/repo"),
        ("http://github.com/org/repo/", "http://github.com/org/repo"),
        ("https://github.com/ org / repo", "https://github.com/org/repo"),
        ("https://x.org:443/a", "https://x.org/a"),
        ("https://x.org:8080/a", "https://x.org:8080/a"),
        ("https://x.org/a?b=1#c", "https://x.org/a?b=1#c"),
        ("https://x.org/", "https://x.org"),
    ],
)
def test_normalise_url(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_url_key() -> None:
    assert url_key("http://github.com/Org/Repo/") == url_key("https://www.github.com/org/repo.git")
    assert url_key("https://github.com/a/b") != url_key("https://github.com/a/c")
