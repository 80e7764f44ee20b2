"""The name a paper gives its own contribution: whole, with its acronym, never a term of the field.

A reader takes ``method_name`` as "what this paper calls its method". So a name is taken
only where the paper names its own work, and only whole:

* the head of a ``Name: description`` title ("OCD: Learning to Overfit ..."), one to
  three words of which one looks like a name;
* in a sentence where the paper proposes something ("we propose / introduce / present
  ..."): a name right after the verb ("we present Eureka, an open-source framework"), a
  name set after what it names ("a novel architecture, SemiDenseNet, which ..."), a
  name after "called / named / dubbed / termed / referred to as", or a phrase whose
  acronym is defined right after it ("Nested Low-Rank Adaptation (NoRA)");
* a name the title opens on, whole ("Wide Residual Networks" for "we call the resulting
  structures wide residual networks (WRNs)"); an all-caps title's spaced hyphen joins one
  word ("BI - DIRECTIONAL ATTENTION FLOW" names nothing before its hyphen);
* a name is given with its long form when the abstract defines it: the title's "NoRA"
  becomes "Nested Low-Rank Adaptation (NoRA)". The long form is found by the
  Schwartz-Hearst rule: the shortest run of words before the brackets whose letters
  hold the acronym's, in order, the first at a word's start (Schwartz and Hearst, PSB
  2003).

An acronym defined in any other sentence (background: "Large language models (LLMs)
have ...") is prior work or the field, never the paper's name, and a term of the field
(:func:`~extractor.evidence.words.is_field_term`: "LLMs", "MoE", "GNNs") never is either.

Example:
    >>> own_names("NoRA: Nested Low-Rank Adaptation for Efficient Fine-Tuning",
    ...           "LLMs are large. We introduce Nested Low-Rank Adaptation (NoRA), a novel approach.")[0]
    NameFound(value='Nested Low-Rank Adaptation (NoRA)', rule='title_name')
    >>> [n.value for n in own_names("", "We present Qwen2.5, a series of large language models (LLMs).")]
    ['Qwen2.5']
    >>> own_names("A Study of Scaling", "Large language models (LLMs) scale. We study them.")
    []
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .text import QUOTES, sentences
from .voice import proposal_object, proposing_sentences
from .words import is_field_term, is_function_word

__all__ = ["NameFound", "acronym_long_form", "called_name", "defined_acronyms", "is_namey", "naming_sentences", "own_names",
           "plural_own", "title_head"]

# A token that looks like a name: inner capitals or digits ("DeepWalk", "GPT-4", "EVE", "Qwen2.5").
_NAMEY = re.compile(r"^(?:[A-Z][\w\-+.]*[A-Z0-9]|[A-Z][a-z]+[A-Z][\w\-+.]*|[A-Za-z]+[\-]?\d[\w\-+.]*|[A-Z]{2,}[\w\-+.]*|"
                    r"\d+[A-Z]+[a-z][\w\-+.]*)$")  # fmt: skip
# "Visual - Text" as tokenised text spaces a hyphen; "3DMatch" opens on its digit
_NAME_TOKEN = r"(?:[A-Z]|\d+[A-Z]+(?=[a-z]))[\w+]*(?:(?:[\-.–]|\s[-–]\s)[\w+]+)*"  # "RNN Encoder – Decoder" too
_CALLED = re.compile(
    rf"\b(?:called|named|dubbed|termed|coined|referred\s+to\s+as|denoted\s+(?:as|by)|"
    rf"(?<=\b[Ww]e\s)call(?:\s+(?:it|them|our\s+\w+|this\s+\w+))?)\s+[\"“']?"  # "which we call Sparse Access Memory (SAM)"
    # a lower-case word only inside a name its brackets close ("Self-Play fIne-tuNing (SPIN)", "Mixture of Experts
    # (MoE)"), within three words: never a clause that runs on ("PFGM++ that unifies ... Models (PFGM)")
    rf"((?:{_NAME_TOKEN})(?:\s+(?:{_NAME_TOKEN}|[a-z][\w\-]*(?=(?:\s+[\w\-]+){{0,2}}\s*\())){{0,5}}"
    rf"(?:\s*\([^()]{{1,40}}\))?)",
)
_AFTER_VERB = re.compile(
    rf"^[\"“']?((?:{_NAME_TOKEN})(?:\s+(?:{_NAME_TOKEN}|\d+(?:\.\d+)?)){{0,2}})[\"”']?\s*"
    rf"(?:,|\(|:|\.\s|\.$|\s(?:which|that|as|a|an|to|for|with|in)\b)"
)
# A name written in capitals word by word right after the proposal verb, where the sentence
# ends or describes it: "we introduce Random Erasing, a new data augmentation method", "we
# present Ruminating Reader.", "we introduce the Recursive Neural Tensor Network." Never one
# with its acronym in brackets: the acronym rule reads that.
_TITLED = re.compile(r"^((?:[A-Z][a-z][\w\-]*)(?:\s+(?:of|for|and)\s+[A-Z][\w\-]*|\s+[A-Z][\w\-]*){1,4})"
                     r"\s*(?:\.\s|\.$|,|:|$|\s(?:for|which|that|to|with|as|an?)\b)")  # fmt: skip
# A name set after what it names, in the proposal: "we propose a novel architecture,
# SemiDenseNet, which connects ...".
_APPOSITIVE = re.compile(rf"^(?:[\w\-]+\s+){{0,6}}[\w\-]+,\s+(?:the\s+)?((?:{_NAME_TOKEN})(?:\s+(?:{_NAME_TOKEN})){{0,2}})"
                         rf"\s*(?:,|\(|\.\s|\.$|$|\s(?:which|that)\b)")  # fmt: skip
# "our proposed LiSe method", "our EWA": the paper's own word for its work.
_OUR_NAME = re.compile(rf"\bour\s+(?:proposed\s+|new\s+|novel\s+)?((?:{_NAME_TOKEN}))(?=\s+(?:method|model|framework|approach|"
                       rf"system|algorithm|architecture|pipeline|technique)\b|\s*[,.]|\s+(?:achieves|outperforms|improves|"
                       rf"reaches|reduces)\b)")  # fmt: skip
# A name and its acronym given with "or": "Expert-Specialized Fine-Tuning, or ESFT, which ...".
_OR_ACRONYM = re.compile(rf"^((?:{_NAME_TOKEN})(?:\s+(?:{_NAME_TOKEN})){{0,5}}),?\s+or\s+([A-Z][\w\-]*[A-Z][\w\-]*)\b")
_PARENS = re.compile(r"\(\s*([A-Za-z][\w\-+.]*[A-Za-z0-9+]?)\s*\)")
# The paper's own voice: "we ...", "our ...", "this paper ...".
_OWN_VOICE = re.compile(r"\b(?:we|our|this\s+(?:paper|work))\b", re.I)
# A name that is the subject of a result: "PopulationLM reproduces ...", "S4D achieves 85% ...".
_SUBJECT_NAME = re.compile(rf"^(?:(?:Finally|Moreover|Furthermore|Notably|Specifically|Empirically|Overall|In\s+addition),\s+)?"
                           rf"((?:{_NAME_TOKEN}))\s+(?:achieves|outperforms|improves|reduces|surpasses|attains|yields|"
                           rf"enables|matches|reaches|sets|establishes|consistently|significantly|also|further|can)\b")  # fmt: skip
_MODEL_FAMILY = re.compile(r"^(?:Llama|LLaMA|GPT|Mistral|Mixtral|Qwen|Gemma|Phi|Claude|PaLM|BERT|RoBERTa|T5|ViT|ResNet|OPT|"
                           r"Pythia|Falcon|Vicuna|Alpaca|DeepSeek|OLMo|BLOOM|CLIP|SAM|DINO|Gemini|Transformers?)\b")  # fmt: skip


@dataclass(frozen=True)
class NameFound:
    """A name the paper gives its own work, and the rule that found it."""

    value: str
    rule: str


def called_name(text: str) -> str | None:
    """The name ``text`` gives when it opens on "called / named / dubbed / termed ...", with
    its bracketed acronym or long form, or None.

    Example:
        >>> called_name("called Self-Play fIne-tuNing (SPIN), which starts from a model")
        'Self-Play fIne-tuNing (SPIN)'
    """
    m = _CALLED.match(text)
    return m.group(1) if m is not None else None


def is_namey(token: str) -> bool:
    """True when ``token`` looks like a name: inner capitals or digits ("DeepWalk",
    "GPT-4", "Qwen2.5"), or all capitals ("EVE")."""
    return bool(_NAMEY.match(token.strip(".,;:")))


# A title that opens on a name set off by a comma and an article, or by a dash.
_NAME_COMMA = re.compile(r"^([^\s,:]+(?:\s+[^\s,:]+){0,2}?)(?:,\s+(?=(?:an?|the)\s)|\s+[-–—]{1,2}\s+)(.+)$")


def title_head(title: str) -> str | None:
    """The name a ``Name: description`` title opens on, or None.

    Example:
        >>> title_head("OCD: Learning to Overfit"), title_head("A Survey: Scaling"), title_head("LLMs: a study")
        ('OCD', None, None)
        >>> title_head("MeLM, a generative pretrained language modeling framework")
        'MeLM'
        >>> title_head("BI - DIRECTIONAL ATTENTION FLOW FOR MACHINE COMPREHENSION") is None  # one hyphenated word
        True
    """
    title = " ".join(title.split())
    if title.upper() == title:
        title = re.sub(r"(?<=\w)\s+-\s+(?=\w)", "-", title)  # "BI - DIRECTIONAL ATTENTION FLOW": a tokenised hyphen
    head, colon, tail = title.partition(":")
    if not colon and (m := _NAME_COMMA.match(title)) is not None:
        if not any(is_namey(w) for w in m.group(1).split()):
            return None  # "Hello, the world": only a word that looks like a name is set off as one
        head, colon, tail = m.group(1), ":", m.group(2)  # "MeLM, a generative ...", "PLeaS -- Merging Models ..."
    if not colon or not tail.strip():
        return None
    head = re.sub(r"\s+-\s+|(?<=\w)-\s+(?=\w)", "-", head).strip(" .,-")  # tokenised titles: "Self - Attention", "DR- BiLSTM"
    words = head.split()
    if not words or len(words) > 3 or is_field_term(head):
        return None
    if any(is_field_term(w) for w in words) or any(w.casefold() in ("vs", "vs.", "versus", "and", "or") for w in words):
        return None  # "Multi-Modal Generative AI", "Parameters vs FLOPs": the field, or a contrast, not a name
    if len(words) == 1:
        return head if head[0].isupper() and not is_function_word(head) else None
    if any(is_namey(w) for w in words) and not all(is_function_word(w) or w.islower() for w in words[1:]):
        return head
    if re.fullmatch(r"[A-Z][\w\-]*\s+\d+(?:\.\d+)?", head):
        return head  # "Orca 2"
    return None


def acronym_long_form(words: Sequence[str], acronym: str) -> str | None:
    """The long form of ``acronym`` among the ``words`` just before its brackets, or None
    (the Schwartz-Hearst rule; see the module docstring).

    Example:
        >>> acronym_long_form("we propose the Structured State Space sequence model".split(), "S4")
        >>> acronym_long_form("we introduce Nested Low-Rank Adaptation".split(), "NoRA")
        'Nested Low-Rank Adaptation'
    """
    letters = [c.casefold() for c in acronym if c.isalnum()]
    if len(letters) < 2 or not acronym[0].isalpha():
        return None
    window = list(words[-min(len(letters) + 5, 2 * len(letters)) :])
    text = " ".join(window)
    i, j = len(letters) - 1, len(text) - 1
    while i >= 0:
        c = letters[i]
        while j >= 0 and (text[j].casefold() != c or (i == 0 and j > 0 and text[j - 1].isalnum())):
            j -= 1
        if j < 0:
            return None
        i, j = i - 1, j - 1
    start = text.rfind(" ", 0, j + 1) + 1
    long_form = text[start:].strip(" ,;:" + QUOTES)
    before = text[:start].split()
    # Each letter its own word where the words allow: "substochastic successor representation (SSR)",
    # not "successor representation", whose "s" the rule above finds twice in "successor".
    while (before and len(long_form.split()) < len(letters) and before[-1][:1].casefold() == letters[0]
           and not is_function_word(before[-1]) and before[-1].isalpha()):  # fmt: skip
        long_form = f"{before.pop()} {long_form}"
    first = long_form.split()[0] if long_form else ""
    if not long_form or is_function_word(first) or len(long_form.split()) > len(letters) + 3:
        return None
    return long_form


def defined_acronyms(sentence: str) -> list[tuple[str, str]]:
    """``(long form, acronym)`` for each acronym ``sentence`` defines in brackets.

    Example:
        >>> defined_acronyms("We use large language models (LLMs) and a retriever (R).")
        [('large language models', 'LLMs')]
    """
    found = []
    for m in _PARENS.finditer(sentence):
        acronym = m.group(1)
        if sum(c.isupper() for c in acronym) < 2:
            continue
        long_form = acronym_long_form(sentence[: m.start()].split(), acronym)
        if long_form:
            found.append((long_form, acronym))
    return found


def _named_object(sentence: str, long_form: str) -> bool:
    """True unless ``long_form`` stands in a prepositional phrase ("a model for Computer
    Aided Design (CAD)": the domain, not what the paper names)."""
    at = sentence.find(long_form)
    before = sentence[:at].split()[-1:] if at > 0 else []
    return not (before and is_function_word(before[0]) and before[0].casefold() not in ("the", "a", "an", "our"))


def _with_long_form(name: str, definitions: dict[str, str]) -> str:
    """``name`` with its long form when the abstract defines it ("NoRA" -> "Nested
    Low-Rank Adaptation (NoRA)"); a long form given alone gets its acronym."""
    if name in definitions:
        return f"{definitions[name]} ({name})"
    for acronym, long_form in definitions.items():
        if long_form.casefold() == name.casefold():
            return f"{long_form} ({acronym})"
    return name


_PLURAL = re.compile(r"^[A-Za-z\-]*[A-Z]{2,}s$")


def plural_own(core: str, acronym: str) -> bool:
    """Whether ``acronym`` is a plural the paper defines for its own family of models from
    the long form ``core`` ("Attention Guided Graph Convolutional Networks (AGGCNs)"),
    which a plural acronym alone ("PTMs", "GNNs") never says: the long form spells it and
    is no term of the field.

    Example:
        >>> plural_own("Attention Guided Graph Convolutional Networks", "AGGCNs"), plural_own("", "PTMs")
        (True, False)
    """
    return (bool(core) and _PLURAL.match(acronym) is not None and " " in core and not is_field_term(core)
            and not is_field_term(acronym[:-1]) and acronym_long_form(core.split(), acronym) == core)  # fmt: skip


def _acronym_rule(acronym: str) -> str:
    """The rule an acronym defined next to the proposal is measured as: a plural one
    ("AGGCNs") on its own, the others as ``proposed_acronym``."""
    return "proposed_plural" if _PLURAL.match(acronym) else "proposed_acronym"


def _own(name: str) -> bool:
    core = re.sub(r"\s*\([^)]*\)$", "", name).strip()
    acronym = name[len(core) :].strip(" ()")
    if acronym and is_field_term(acronym) and not plural_own(core, acronym):
        return False
    return bool(core) and not is_field_term(core)


# A proposal verb anywhere in a sentence: "we are among the first to X and introduce a new method, dubbed Y".
_PROPOSAL_VERB = re.compile(r"\b(?:propose|introduce|present|develop|design|devise)s?\b", re.I)


# "Our models, named ResNeXt, ...": the paper's own work given a name.
_OUR_CALLED = re.compile(r"\bour\s+(?:\w+\s+){0,3}?\w+,?\s+(?:called|named|dubbed|termed)\b", re.I)
# "An Online Instance Matching (OIM) loss function is proposed": a proposal in the passive.
_PASSIVE_PROPOSAL = re.compile(r"\b(?:is|are)\s+(?:\w+\s+)?(?:proposed|introduced|presented|developed)\b", re.I)


@lru_cache(maxsize=64)
def naming_sentences(abstract: str) -> tuple[str, ...]:
    """The sentences where the paper, in its own voice, proposes something and gives it a
    name ("... and introduce a new method, dubbed LiDAR-2D Self-paced Learning (LiSe)").

    Example:
        >>> naming_sentences("LiDAR is sparse. We are the first to fuse it with images and introduce a method, dubbed LiSe.")
        ('We are the first to fuse it with images and introduce a method, dubbed LiSe.',)
    """
    return tuple(s for s in sentences(abstract)
                 if (_OWN_VOICE.search(s) and _CALLED.search(s) and (_PROPOSAL_VERB.search(s) or _OUR_CALLED.search(s)))
                 or (_PASSIVE_PROPOSAL.search(s) and _PARENS.search(s)))  # fmt: skip


def own_names(title: str, abstract: str, proposing: Sequence[str] | None = None) -> list[NameFound]:
    """The names the paper gives its own work, best first (see the module docstring).
    ``proposing`` are the abstract's sentences where it proposes something (found here
    when not given). Read once per paper: the rules and the checks of its task ask alike."""
    found = _own_names(title, abstract, tuple(proposing_sentences(abstract) if proposing is None else proposing))
    return list(found)


@lru_cache(maxsize=64)
def _own_names(title: str, abstract: str, proposing: tuple[str, ...]) -> tuple[NameFound, ...]:
    definitions: dict[str, str] = {}
    for sentence in [*proposing, *(s for s in sentences(abstract) if _OWN_VOICE.search(s) or _PASSIVE_PROPOSAL.search(s))]:
        for long_form, acronym in defined_acronyms(sentence):
            if _named_object(sentence, long_form):
                definitions.setdefault(acronym, long_form)
    found: list[NameFound] = []

    def add(name: str | None, rule: str) -> None:
        if not name:
            return
        name = _with_long_form(name.strip(" .,;:\"'“”"), definitions)
        if _own(name) and name.casefold() not in {f.value.casefold() for f in found}:
            found.append(NameFound(name, rule))

    add(title_head(title), "title_name")
    own_voice = [s for s in sentences(abstract) if _OWN_VOICE.search(s)]
    for sentence in dict.fromkeys([*proposing, *own_voice]):
        if (m := _CALLED.search(sentence)) is not None:
            add(m.group(1), "called")  # "our method, named Model Zoo"
        if (obj := proposal_object(sentence)) is not None:
            after = re.sub(r"^(?:the|a|an)\s+", "", obj)
            if (n := _OR_ACRONYM.match(after)) is not None and acronym_long_form(n.group(1).split(), n.group(2)):
                add(n.group(0), "proposed_acronym")  # "Expert-Specialized Fine-Tuning, or ESFT": both, as written
            if (n := _AFTER_VERB.match(after)) is not None and any(is_namey(w) for w in n.group(1).split()):
                add(n.group(1), "proposed_name")
            elif (n := _TITLED.match(after)) is not None and not is_field_term(n.group(1)):
                add(n.group(1), "proposed_titled")  # "we introduce the Recursive Neural Tensor Network."
            elif (n := _APPOSITIVE.match(after)) is not None and any(is_namey(w) for w in n.group(1).split()):
                add(n.group(1), "proposed_appositive")  # "we propose a novel architecture, SemiDenseNet, which ..."
            for long_form, acronym in defined_acronyms(obj):  # "we propose Energy-based ... Model (EDLM)":
                if after.startswith(long_form) and definitions.get(acronym) == long_form:  # before a later sentence's name
                    add(acronym, _acronym_rule(acronym))
    for acronym, long_form in definitions.items():
        add(acronym, _acronym_rule(acronym))
    if not found:
        for m in _OUR_NAME.finditer(abstract):
            if is_namey(m.group(1)) and len(m.group(1)) > 2 and not abstract[m.end(1) : m.end(1) + 1] == ".":
                add(m.group(1), "our_name")
                break
    if not found:
        for sentence in sentences(abstract)[1:]:
            m = _SUBJECT_NAME.match(sentence)
            if m is not None and is_namey(m.group(1)) and not _MODEL_FAMILY.match(m.group(1)):
                add(m.group(1), "subject_name")  # "S4D achieves 85% on ...": the paper speaking of its own
                break
    return tuple(found)
