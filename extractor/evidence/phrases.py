"""Noun phrases cut where they end: the span after "we propose", "for" or "the task of".

A value the reader sees must stand alone. :func:`noun_phrase` reads the words that open a
text and stops where the phrase ends:

* at punctuation (``, ; : . ! ?``) and at a bracket, except an acronym defined right
  after the phrase (``Structured State Space sequence model (S4)`` keeps ``(S4)``);
* at a relative or subordinate clause (``that``, ``which``, ``in which``, ``where``,
  ``while``...), a finite verb (``is``, ``can``, ``has``...), a means (``by``, ``using``,
  ``via``, ``through``, ``based on``, ``with``), a purpose (``to`` + a verb, ``in order to``)
  and ``as`` / ``along with``;
* at ``for`` unless what comes before it is only a generic head ("a framework for X" goes
  on: "framework" alone says nothing).

A thing proposed (``describe``) keeps what describes it: its relative clause, means or
purpose ("a learning system that can leverage a small amount of real-world data"), and the
name it is called by ("a fine-tuning method called Self-Play fIne-tuNing (SPIN)"); a
description that runs on past 18 words has no whole phrase.

Leading articles and fillers are dropped ("a novel, simple framework" -> "framework"), and
a phrase that still ends on a word that cannot end a noun phrase (a preposition, a verb
form such as "ensuring" or "associated", an adjective) is trimmed back to its last noun.
What is left must hold a specific word (not only "method", "framework", "approach"...) and
at most ``max_words`` words, else there is no phrase: a value is whole or it is not shown.

Example:
    >>> noun_phrase("a dynamic model in which the weights are conditioned on x")
    'dynamic model'
    >>> noun_phrase("a novel, two-stage solution.")
    'two-stage solution'
    >>> noun_phrase("an open-source framework for standardizing evaluations of large foundation models beyond scores")
    'open-source framework for standardizing evaluations of large foundation models'
    >>> noun_phrase("tools for ensuring that models are safe") is None
    True
    >>> noun_phrase("a simple yet effective method called Reinforced Fine-Tuning (ReFT), which", describe=True)
    'method called Reinforced Fine-Tuning (ReFT)'
"""

from __future__ import annotations

import re

from .names import called_name
from .text import QUOTES
from .words import FILLERS, ends_whole, is_function_word, is_nounish, word_classes

__all__ = ["GENERIC_HEADS", "is_generic", "noun_phrase", "strip_leading"]

#: Heads that say nothing alone: "a new method" is not an answer to "what does it propose".
GENERIC_HEADS = frozenset(
    """method methods approach approaches model models framework frameworks technique techniques algorithm
    algorithms system systems paper work study problem problems task tasks way ways solution solutions
    architecture architectures network networks strategy strategies mechanism mechanisms scheme schemes idea ideas
    results result analysis pipeline pipelines procedure procedures tool tools variant variants family families
    class classes concept concepts version versions set sets series design designs formulation module modules
    paradigm paradigms recipe recipes objective objectives term terms one ones benchmark benchmarks dataset datasets
    corpus corpora suite suites collection question questions issue issues challenge challenges contribution
    contributions idea ideas aspect aspects insight insights direction directions""".split()
)

# Words that open what follows a noun phrase, lower-cased (checked on whole tokens).
_CLAUSE = frozenset(
    """that which who whom whose where when whereby wherein while whereas because since although though if unless
    so thus hence i.e. e.g. is are was were be been being has have had do does did can could may might will would
    should shall must by using via through with without as leveraging utilizing exploiting employing
    achieving yielding resulting enabling allowing reaching outperforming improving called named dubbed termed
    coined""".split()
)
_PREPOSITIONS = frozenset(
    """in on at by for with from to into onto of over under above below between across among amongst within through
    throughout beyond beside besides despite during after before behind toward towards against upon via without
    around along""".split()
)
_TWO_WORD_STOPS = frozenset({("based", "on"), ("along", "with"), ("together", "with"), ("in", "order"), ("such", "as"),
                             ("as", "well"), ("in", "addition"), ("and", "then"), ("and", "we"), ("and", "show"),
                             ("and", "demonstrate"), ("and", "it"), ("and", "its"), ("and", "their"), ("and", "our"),
                             ("compared", "to"), ("compared", "with"), ("due", "to"), ("according", "to")})  # fmt: skip
# Stops that come in the middle of a relative clause: cut there, its description is cut.
_MID_CLAUSE = frozenset({("such", "as"), ("based", "on"), ("according", "to"), ("due", "to"), ("compared", "to"),
                         ("compared", "with")})  # fmt: skip
_END_PUNCT = re.compile(r"[,;:.!?]+[\"'”’)\]]*$")
_ACRONYM = re.compile(r"^\(([A-Z][\w\-+.]*[A-Z0-9][\w\-+]*s?)\)[,;:.]?$")
_OPENERS = "\"'“‘"
_LEADING = frozenset({"a", "an", "the", "our", "this", "these", "its", "their", "both", "some", "novel", "new", "proposed"})


def _head_after(token: str) -> bool:
    """Whether ``token``, right after an acronym's brackets, goes on with the noun the
    phrase is about ("(MoE) language model", "(CNN) architecture"): a lower-case noun that
    is no verb and no function word."""
    word = token.strip(",.;:")
    return (word == token and word.isalpha() and word.islower() and not is_function_word(word)
            and "NOUN" in word_classes(word) and not _verb_only(word))  # fmt: skip


def _verb_only(word: str) -> bool:
    classes = word_classes(word)
    return "VERB" in classes and not ({"NOUN", "PROPN"} & classes)


# Praise that says nothing about what a thing is; "unified", "residual", "progressive" do and stay.
_EVALUATIVE = frozenset("novel new simple effective efficient powerful elegant innovative promising".split())


def strip_leading(words: list[str]) -> list[str]:
    """``words`` without leading articles, determiners and praise ("a novel, simple", "a
    simple but effective")."""
    i = 0
    while i < len(words):
        w = words[i].casefold().rstrip(",")
        if (w in _LEADING or (w in _EVALUATIVE and i + 1 < len(words))
                or (w in ("yet", "and", "but") and i and i + 1 < len(words))):  # "a simple but novel X"  # fmt: skip
            i += 1
            continue
        break
    return words[i:]


def is_generic(phrase: str) -> bool:
    """True when every word of ``phrase`` is a generic head, a filler or a function word
    ("a new framework", "novel approaches")."""
    words = [w.casefold().strip(".,;:") for w in phrase.split()]
    return all(w in GENERIC_HEADS or w in FILLERS or is_function_word(w) for w in words)


def _tokens(text: str) -> list[str]:
    return text.replace("\u00a0", " ").split()


def _trimmed(words: list[str]) -> list[str]:
    """``words`` cut back to their last word that can end a noun phrase ("benefits
    associated" -> "benefits"; "tools for" -> "tools")."""
    words = list(words)
    while words and not ends_whole(" ".join(words[-2:])) and not _ACRONYM.match(words[-1]):
        words.pop()
    return words


# Words a noun phrase never opens on: prepositions, conjunctions, sentence adverbs.
_NOT_OPENING = frozenset(
    """upon on in at of to from with by for into onto over under about across through between among but and or yet
    so specifically namely particularly especially also further furthermore moreover additionally here there then
    thus hence which that whose how what why when where whether""".split()
)
# Words that open what describes a thing proposed: its relative clause, its means, its purpose.
_DESCRIBES = frozenset("""that which where whereby wherein whose for to using via with by through based leveraging
    utilizing exploiting employing combining integrating centered grounded built designed""".split())
# What gives a thing proposed its name: "a fine-tuning method called Self-Play fIne-tuNing (SPIN)".
_NAMING = frozenset("called named dubbed termed coined".split())
_RELATIVE_PRONOUNS = frozenset("that which who".split())
# What ends a description: the main clause's verbs and subordinators, not the relative clause's.
_MAIN_VERBS = frozenset(
    "is are was were can could will would should may might must has have had while whereas because although".split()
)


def noun_phrase(text: str, max_words: int = 10, *, describe: bool = False) -> str | None:
    """The noun phrase that opens ``text``, cut where it ends (see the module docstring),
    or None when there is no whole, specific phrase of at most ``max_words`` words.

    With ``describe``, a phrase goes on into what describes it, its relative clause, its
    means or its purpose ("a dynamic model in which the weights are conditioned on an input
    sample", "a training-free strategy that utilizes unchosen experts during inference"), up
    to the next punctuation or main verb and 18 words, trimmed back at a preposition when
    longer: "a dynamic model" alone tells a reader little."""
    tokens = _tokens(text)
    if len(tokens) > 1 and tokens[0].casefold() == "to" and _verb_only(tokens[1].strip(",.;:")):
        return None  # "propose to evaluate ...": a purpose, not a thing
    if tokens and tokens[0].islower() and not tokens[0].endswith("ing") and _verb_only(tokens[0].strip(",.;:")):
        return None  # "we propose extend ...": a clause, not a thing
    if tokens and tokens[0].casefold() in _NOT_OPENING:
        return None  # "upon these ideas", "but effective", "specifically the 1.2B variants": not a thing
    out: list[str] = []
    relative = False
    inside: list[str] | None = None  # the phrase up to an acronym it went on past, if it did
    for i, token in enumerate(tokens):
        if not token.strip(QUOTES):
            continue  # a quote mark alone, as tokenised text has it: "autoencoder ’ ’ ( AAE )"
        low = token.casefold().strip(_OPENERS)
        if token.startswith("("):
            if out and (m := _ACRONYM.match(token)) is not None:
                out.append(f"({m.group(1)})")
                if not relative and token.endswith(")") and i + 1 < len(tokens) and _head_after(tokens[i + 1]):
                    inside = list(out)
                    continue  # "a bilingual Mixture of Experts (MoE) language model": the acronym sits inside
            if not relative:
                break
            continue
        if describe and out and low in _NAMING and len(strip_leading(out)) <= 6:
            if (name := called_name(" ".join(tokens[i:]))) is not None:
                out.extend([token, *name.split()])  # "a method called X (ACR)": the name says which method
            break
        if describe and not relative and out and low in _DESCRIBES and len(strip_leading(out)) <= 6:
            relative, max_words = True, 18  # "a dynamic model in which the weights are conditioned on the input"
            out.append(token.strip(_OPENERS))
            continue
        if out and low in _CLAUSE and not (relative and low not in _MAIN_VERBS):
            if not (relative and out[-1].casefold() in _RELATIVE_PRONOUNS):
                break  # the main clause goes on; but in "a system that can leverage X", "can" is the relative's
        nxt = tokens[i + 1].casefold().strip(",.;:") if i + 1 < len(tokens) else ""
        if out and (low, nxt) in _TWO_WORD_STOPS:
            if relative and (low, nxt) in _MID_CLAUSE:
                return None  # "a method that transfers X such as Y to Z": the clause goes on past the stop
            break
        if out and low == "to" and nxt and _verb_only(nxt) and not relative:
            break
        if out and low == "for" and not is_generic(out[-1]) and not relative:
            break  # "X for Y": X is the thing, Y its purpose; but "a framework for Y" goes on
        if out and low in _PREPOSITIONS and nxt in ("which", "whom", "whose"):
            break
        punct = _END_PUNCT.search(token)
        word = token[: punct.start()] if punct else token
        word = word.strip(_OPENERS)
        if word:
            out.append(word)
        if punct:
            if strip_leading(out) or not word:
                break
            out = []  # "a novel, two-stage solution": the comma closed only fillers
        if len(out) > max_words + 4:
            if inside is None:
                return None
            out, relative = inside, False  # what it was before going on past its acronym
            break
    words = _trimmed(strip_leading(out))
    if len(words) > max_words and relative and inside is not None:
        words, relative = _trimmed(strip_leading(inside)), False
    if len(words) > max_words and relative:
        return None  # a description that runs on past its words is cut wherever it is cut: not shown
    if len(words) > max_words:  # drop trailing prepositional phrases until it fits
        cuts = [i for i, w in enumerate(words[: max_words + 1]) if i and w.casefold() in _PREPOSITIONS - {"of"}]
        words = _trimmed(words[: cuts[-1]]) if cuts else []
    if not words:
        return None
    phrase = " ".join(words).strip(" -–'\"")
    if len(phrase) < 3 or is_generic(phrase) or not any(is_nounish(w) for w in words):
        return None
    return phrase
