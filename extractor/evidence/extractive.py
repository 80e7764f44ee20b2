"""The extractive summary: the abstract's own sentence that says what the paper does.

When the model's summary fails the gate or the faithfulness check
(:mod:`~extractor.evidence.summaries`), and always without a model, the record's summary
is a sentence of the abstract. Which one decides whether it is right: blind readers marked
background ("The industry is rich in cases ..."), side details ("we also introduce a
module ...") and sentences that lean on the one before ("... addresses both challenges")
as wrong or cut. So :func:`extractive_summary` takes, in this order:

1. the sentence that introduces the paper's own name (when it has one);
2. a contribution sentence ("we propose / introduce / present / study ...");
3. a sentence where the paper speaks of its own work at the start ("In this work, we
   consider ...", "Our method ...");
4. a finding (a number, "outperforms", "improves");

never a release note, a hope, a question, a negated claim or a sentence without a verb;
a sentence that points back ("this issue", "these two tasks", "both challenges") only
when nothing else is there. The sentence is made whole: a lead-in that points back is
dropped, a long one closed at a clause boundary where what is left still has its verb.
When the name's sentence says no more than the title ("We propose AEF-OCL."), the next
sentence, when it goes on about the name, is added.

Example:
    >>> extractive_summary("Video models are slow. We propose a multigrid method that trains them 4.5x faster.")
    'We propose a multigrid method that trains them 4.5x faster.'
"""

from __future__ import annotations

import re

from .summaries import MAX_WORDS, MIN_WORDS, REPEATS_TITLE, has_link, summary_problem
from .text import CLOSERS, sentences
from .voice import CONTRIBUTION, OWN_VOICE, is_finding
from .words import ends_whole, word_classes

__all__ = ["MAX_EXTRACTIVE_WORDS", "extractive_summary"]

#: An extractive summary is cut at a clause boundary to at most this many words.
MAX_EXTRACTIVE_WORDS = 40

_CONNECTIVE = re.compile(
    r"^(?:furthermore|moreover|additionally|in\s+addition|besides|specifically|therefore|thus|hence|finally|however|"
    r"in\s+fact|yet|still|indeed|likewise|similarly|nevertheless|nonetheless|unfortunately|"
    r"to\s+this\s+end|to\s+address\s+(?:this|these)(?:\s+\w+)?|in\s+this\s+(?:paper|work|study)|here|first|then)"
    r",?\s+(?=[a-z])",
    re.I,
)
_CLAUSE_BREAK = re.compile(r"[,;:](?=\s)|\s[-–—]\s|\s(?=(?:which|while|where|whereas|and\s+(?:we|it|show))\b)")

# A leading clause that points back or frames ("To mitigate this issue, we propose ...",
# "Motivated by these findings, we ...", "In this paper, we ..."): dropped when the paper's
# own "we" / "our" / "this paper" follows, so the sentence reads alone.
_LEAD_IN = re.compile(
    r"^(?:(?:to\s+(?:address|mitigate|tackle|overcome|solve|alleviate|resolve|handle|bridge|fill|close|remedy|"
    r"this\s+end|that\s+end|fix)|motivated\s+by|inspired\s+by|driven\s+by|following|building\s+(?:on|upon)|based\s+on|"
    r"given|guided\s+by|"
    r"in\s+response|towards?\s+this|with\s+this|for\s+this|in\s+this\s+(?:paper|work|study|report|article)|"
    r"here|specifically|therefore|thus|hence|further(?:more)?|moreover|additionally|in\s+addition|besides|finally|"
    r"first|then|however|instead|accordingly|consequently|concretely|in\s+particular|as\s+such|to\s+\w+|aiming|"
    r"in\s+order\s+to)"
    r"(?:[^,;:]{0,160},\s+){1,2}(?:in\s+this\s+(?:paper|work|study|report|article)\s+)?)"
    r"(?=(?:we|our|this\s+(?:paper|work|study|report))\b)",
    re.I,
)
# The same purpose written without its comma: "To alleviate this problem we propose ...",
# "In order to better understand this behaviour we introduce ...".
_BARE_LEAD_IN = re.compile(
    r"^(?:in\s+order\s+)?to\s+(?:address|mitigate|tackle|overcome|solve|alleviate|resolve|handle|bridge|fill|close|"
    r"remedy|fix|(?:better\s+)?understand|this\s+end|that\s+end)\b[^,;:.]{0,100}?\s+(?=we\s)",
    re.I,
)
# An ordinal before the means the sentence goes on with: "First, by teaching CNNs to be
# invariant, we obtain ...": the ordinal goes, the means stays (it says how).
_ORDINAL_BEFORE_MEANS = re.compile(r"^(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|finally|moreover|furthermore|"
                                   r"additionally|in\s+addition|specifically),\s+(?=by\s)", re.I)  # fmt: skip
# A purpose that points back: "... to address this issue", "to mitigate these challenges", "to
# solve the problems".
_BACK_PURPOSE = re.compile(
    r",?\s+(?:in\s+order\s+)?to\s+(?:address|mitigate|tackle|overcome|solve|alleviate|resolve|handle|bridge|fill|"
    r"close|remedy|fix)\s+(?:(?:this|these|those|such|the\s+(?:above|aforementioned))(?:\s+[\w-]+){1,2}(?=[,.;]|\s)|"
    r"the\s+(?:problems?|issues?|challenges?|limitations?)(?=\s*[,.;]))",
    re.I,
)
# What may close a sentence early and leave it whole: a trailing relative or participial
# clause ("..., which ...", "..., enabling ...") or a list after a colon.
_TRAILING = re.compile(
    r",\s+(?:which|where|while|whereas|enabling|allowing|achieving|thereby|thus|leading|resulting|making|yielding|"
    r"ranging|spanning|from|"
    r"and\s+(?:we|it|show|demonstrate|achieve)|including|such\s+as|e\.g\.|i\.e\.)\b|:\s|"
    r"\s+\((?![A-Za-z][\w\-+.]*\))",  # never before an acronym's brackets: "language model (LM) evaluation"
    re.I,
)
_DANGLING = re.compile(r"^(?:this|these|those|it|its|they|their|such|both|the\s+(?:above|latter|former))\b(?!\s+(?:paper|work|study|report|article)\b)", re.I)
# Release notes and pointers are not what a paper does.
_RELEASE = re.compile(r"\b(?:code|data|models?|weights|checkpoints|dataset|benchmark|demo)\b[^.]{0,60}(?:\b(?:is|are|be|been|made)\s+"
                      r"(?:\w+\s+){0,2}available|\bavailable\s+(?:at|from|online|on|via|for|to)\b|\b(?:released?|"
                      r"open[- ]sourced?|publicly|github|https?://))|https?://|github\.com|"
                      r"\bwe\s+(?:also\s+)?(?:release|open[- ]source)\s+(?:an?|the|our)\s+(?:[\w-]+\s+){0,2}"
                      r"(?:feature\s+extractor|code|implementation|toolkit|library|models?|weights|checkpoints)\b",
                      re.I)  # fmt: skip
MAX_WHOLE_WORDS = 45


# Any short lead-in before the paper's own "we" ("In light of this, we ...", "Second, we ..."),
# never the means it says how by ("By teaching CNNs to be invariant, we obtain ...").
_ANY_LEAD_IN = re.compile(r"^(?![^,]*\bwe\b)[^,;:]{2,90},\s+(?:here,?\s+)?(?=we\b)", re.I)
_MEANS = re.compile(r"^by\s+\w+ing\b", re.I)
# "Then we build X": the step of a story told before.
_THEN_WE = re.compile(r"^(?:then|next|finally|first|second|third|lastly)\s+(?=we\b)", re.I)
# "We further propose", "We then show": the adverb points back to a sentence not shown.
_WE_ADVERB = re.compile(r"^(we)\s+(?:also|further|then|additionally|finally|first|next|instead|now|subsequently|"
                        r"moreover|thus|therefore|hence)\s+", re.I)  # fmt: skip
# A sentence that leans on another: "this challenge", "these two tasks", "both challenges",
# "the above", "the latter".
_BACK_REFERENCE = re.compile(
    r"\b(?:this|such|the\s+above|the\s+aforementioned)\s+(?:[\w-]+\s+)?(?:challenges?|issues?|problems?|"
    r"questions?|limitations?|gaps?|constraints?|observations?|findings?|insights?|shortcomings?|drawbacks?|"
    r"difficult(?:y|ies)|needs?|results?|phenomen(?:on|a)|goals?|ideas?|motivation|end|methods?|approach(?:es)?|"
    r"settings?|scenarios?|tasks?|context|trade-?off|bottleneck|paradigm|direction|regard|vein|purpose|aim|"
    r"technique|framework|model|strategy|challenge|line\s+of\s+(?:research|work)|philosophy|perspective|principle|"
    r"intuition)\b"
    r"|\b(?:these|those)\s+(?:[\w-]+\s+)?[\w-]+s\b"
    r"|\bboth\s+(?:of\s+)?(?:the|these|them)?\s*(?:[\w-]+\s+)?(?:challenges|issues|problems|tasks|limitations|"
    r"aspects|goals|settings|objectives|directions|approaches|methods|types|kinds|cases|datasets|benchmarks|domains|"
    r"languages|models)\b(?!\s+and\b)"
    r"|\bthe\s+(?:two|three|four|former|latter)\b"
    # "We test this using ...", "we show this for ...": a pronoun for what came before
    r"|^(?:we|it|they)\s+(?:\w+\s+)?\w+\s+(?:this|these|it|them)\s+(?:using|by|with|on|in|for|through|via|across|"
    r"empirically|experimentally|theoretically)\b",
    re.I,
)
# Hopes, visions and calls are not what a paper does.
_HOPE = re.compile(r"\bwe\s+(?:\w+\s+)?(?:hope|believe|envision|anticipate|expect|call\s+for|encourage|invite|"
                   r"discuss\s+(?:future|open)|outline\s+future|conclude)\b|"
                   r"\b(?:baselines?|foundation)\s+for\s+future\s+(?:research|work|studies)\b", re.I)  # fmt: skip


# "We do not propose a new model ...": what the paper does not do.
_NEGATED = re.compile(r"\b(?:we|this\s+(?:paper|work))\s+(?:do|does|did)\s+not\b|\bwe\s+don't\b", re.I)
_FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|can|could|will|would|may|might|must|should|do|does|did)\b", re.I)


# The verb after the paper's "we": "we introduce", "we further adapt".
_WE_VERB = re.compile(r"\bwe\s+(?:(?:[a-z]+ly|also|further|then|first|now|have|had|has|been)\s+)*([a-z]+)\b", re.I)
_COGNITION = frozenset("recognize recognise note notice observe realize realise believe argue posit hypothesize "
                       "hypothesise think feel know acknowledge are were aim seek want can could may might "
                       "must should would need".split())  # fmt: skip
# What a paper says it thinks, notices or could do is not what it does: "we recognize the
# potential of ...", "we might be in a situation where ...".
# The paper's own voice at the start of a sentence, once a lead-in is dropped.
_OPENS_OWN = re.compile(r"^(?:(?:in\s+this\s+(?:paper|work|study|report|article)|here),?\s+)?"
                        r"(?:we|our|this\s+(?:paper|work|study|report|article))\b", re.I)  # fmt: skip
# An item of a list, out of its list: "(ii) Notable improvements are seen ...".
_LIST_ITEM = re.compile(r"^\(?(?:[ivx]+|\d{1,2}|[a-h])\)\s")


def _has_verb(sentence: str) -> bool:
    """Whether ``sentence`` has a finite verb ("Given any pairing of models." has none)."""
    if _FINITE.search(sentence):
        return True
    for m in _WE_VERB.finditer(sentence):
        if "VERB" in word_classes(m.group(1).casefold()):
            return True
    for word in re.findall(r"[a-z]+(?:s|ed)\b", sentence):
        if "VERB" in word_classes(word):
            return True
    return False


# A list's first item without its second: "1) represents X" with no "2)" after it.
_FIRST_ITEM_ONLY = r"\s\(?(?:1|i|a)\)\s(?!.*\s\(?(?:2|ii|b)\)\s)"
# A cut that leaves a list opened and not closed, or only announced ("... are mainly threefold").
_OPEN_LIST = re.compile(rf"{_FIRST_ITEM_ONLY}|\b(?:two|three|four|five)fold$", re.I)
# A list begun inside a clause ("a model that 1) represents X") whose next item went to the
# next sentence; a list after a colon ("four observations: (i) ...") reads as its first item.
_CUT_LIST = re.compile(rf"(?<![:;]){_FIRST_ITEM_ONLY}", re.I)
# A contribution announced as twofold that gives only its first part: "The contribution of this
# work is two-fold: First, we analyze ..." with no "Second" after it.
_ANNOUNCED_ONLY_FIRST = re.compile(r"\b(?:two|three|four|five)-?fold\b(?!.*\b(?:second(?:ly)?|\(?(?:2|ii|b)\)))", re.I)


def _whole(sentence: str, limit: int = MAX_WHOLE_WORDS) -> str | None:
    """``sentence`` as a whole sentence of at most ``limit`` words: a pointing lead-in and
    a pointing purpose dropped, a trailing clause or list closed off with a full stop;
    None when it cannot be made short enough without cutting it mid-clause."""
    text = _ORDINAL_BEFORE_MEANS.sub("", sentence, count=1)
    text = _LEAD_IN.sub("", text, count=1) if text == sentence else text
    text = _BARE_LEAD_IN.sub("", text, count=1)
    text = text if _MEANS.match(text) else _ANY_LEAD_IN.sub("", text, count=1)
    text = _THEN_WE.sub("", text, count=1)
    text = _WE_ADVERB.sub(r"\1 ", text, count=1)
    text = re.sub(r"\s{2,}", " ", _BACK_PURPOSE.sub("", text))
    text = text[0].upper() + text[1:] if text else text
    if _ANNOUNCED_ONLY_FIRST.search(text):
        return None
    if len(text.split()) <= limit and not _CUT_LIST.search(text):
        return text
    for m in _TRAILING.finditer(text):
        head = text[: m.start()].rstrip(" ,;:")
        complement = head.rsplit(" that ", 1)[-1] if " that " in head else head
        if _OPEN_LIST.search(head):
            continue  # "a model that 1) represents X" or "... are mainly threefold": the list is cut off
        if MIN_WORDS <= len(head.split()) <= limit and ends_whole(head.split()[-1]) and _has_verb(complement):
            return head + "."  # not "We show that in the infinite width limit.": its clause has no verb
    return None


def _opening(sentence: str) -> str:
    """``sentence`` without a lead-in before the paper's own voice."""
    return _ANY_LEAD_IN.sub("", _BARE_LEAD_IN.sub("", _LEAD_IN.sub("", sentence, count=1), count=1), count=1)


def _leans(sentence: str) -> bool:
    """Whether ``sentence`` leans on one before it ("it", "this issue", "both challenges")."""
    opening = _opening(sentence)
    return _DANGLING.match(opening) is not None or _BACK_REFERENCE.search(opening) is not None


def _tier(s: str) -> float | None:
    """Where sentence ``s`` stands as a summary (see :func:`_candidates`): 0 for what the
    paper proposes or studies, 1 for what it says of its own work, 1.5 for the problem it
    says it studies, 1.75 for a baseline it builds before its own work, 2 for a finding, 3
    for any other sentence in its voice, None for one that never is a summary."""
    if _RELEASE.search(s) or _HOPE.search(s) or _NEGATED.search(s) or _LIST_ITEM.match(s):
        return None
    if s.rstrip(CLOSERS).endswith("?"):
        return None
    if not _has_verb(s):
        return None
    verb = _WE_VERB.match(_opening(s))
    thinks = verb is not None and verb.group(1).casefold() in _COGNITION
    if _STATES_TASK.match(_opening(s)):
        return 1.5  # "In this paper we study the problem of X": after what the paper does, before findings
    if CONTRIBUTION.search(s) and not thinks:
        return 1.75 if _A_BASELINE.search(_opening(s)) else 0  # "We first present a strong baseline"
    if _OPENS_OWN.match(_opening(s)) and not thinks:
        return 1
    if is_finding(s) and not _BACKGROUND.match(s):
        return 2
    return 3 if OWN_VOICE.search(s) else None


# A sentence that opens on what others did: "In recent years, state-of-the-art performance has
# been achieved using ..." is background, though it reads like a finding.
_BACKGROUND = re.compile(r"^(?:in\s+recent\s+years|recently|over\s+the\s+(?:past|last)|traditionally|previous\s+"
                         r"(?:work|studies|methods)|prior\s+(?:work|studies)|existing\s+(?:work|methods|approaches))\b",
                         re.I)  # fmt: skip


def _candidates(sents: list[str]) -> dict[int, float]:
    """The positions of the abstract's sentences in the order a summary would take them:
    what the paper proposes or studies, then what it says of its own work at the start
    of a sentence ("In this work, we consider ...", "Our method ..."), then its findings,
    then any other sentence in its voice; within each, those that lean on another last.
    What the paper thinks or could do ("we recognize ...", "we might ...") is not what it
    does: such a sentence only counts as one in its voice. Each with its tier (:func:`_tier`)."""
    tiers = {i: t for i, s in enumerate(sents) if (t := _tier(s)) is not None}
    return {i: tiers[i] for i in sorted(tiers, key=lambda i: (tiers[i], _leans(sents[i])))}


def _with_context(sents: list[str], i: int, whole: str, title: str, abstract: str, name: str | None) -> str | None:
    """The summary of sentence ``i`` with the sentence it needs: the one before, when it
    leans on it ("We introduce N-HiTS, which addresses both challenges ..."), or the one
    after, when ``i`` only names the paper's work and the next goes on about it ("We
    propose AEF-OCL." + "The AEF-OCL leverages ..."). None when there is no such sentence,
    the pair is too long, or it fails the gate."""
    if _leans(sents[i]):
        if i == 0 or _leans(sents[i - 1]) or _RELEASE.search(sents[i - 1]):
            return None
        pair = f"{_without_connective(sents[i - 1])} {whole}"
    else:
        after = sents[i + 1] if i + 1 < len(sents) else ""
        acronym = re.search(r"\(([^)]*)\)$", name or "")
        names = [re.escape(n) for n in (name, _core(name), acronym and acronym.group(1)) if n]
        about = rf"^(?:the\s+)?(?:{'|'.join(names)})\b|^(?:it|our\s+(?:method|model|framework|approach|system))\b"
        if not names or not re.match(about, after, re.I) or _RELEASE.search(after):
            return None
        pair = f"{whole} {after}"
    if len(pair.split()) > MAX_WORDS or summary_problem(pair, title, abstract) is not None:
        return None
    return pair


# A sentence about the paper's thing that does not say what it is: "Our proposed encoder is ...".
_OUR_THING = re.compile(r"^our\s+(?:proposed\s+|new\s+)?[\w-]+\s+(?:is|are|has|have|can)\b", re.I)
# A baseline the paper builds before its own work: "We first present a strong generative baseline ...".
_A_BASELINE = re.compile(r"^we\s+(?:\w+\s+)?(?:propose|introduce|present|develop|build)\s+(?:an?|the)\s+"
                         r"(?:[\w-]+\s+){0,3}baselines?\b", re.I)  # fmt: skip
# A sentence that only states the problem: "we study the problem of answering cloze-style questions",
# "we focus on the challenging task of real-time semantic segmentation".
_STATES_TASK = re.compile(r"^(?:(?:in\s+this\s+(?:paper|work|study)|here),?\s+)?(?:we|this\s+(?:paper|work))\s+"
                          r"(?:\w+\s+)?(?:study|studies|consider|considers|address|addresses|tackle|tackles|investigate|"
                          r"investigates|focus\s+on|focuses\s+on)\s+the\s+(?:\w+\s+)?(?:problem|task)\s+of\b(?!.*\band\s+(?:then\s+)?(?:propose|"
                          r"introduce|present|develop)\b)", re.I)  # fmt: skip
# A sentence that studies the paper's named work ("We investigate ResNeXt on an ImageNet-5K
# set") is an experiment on it, not what introduces it.
_INVESTIGATES = re.compile(r"^we\s+(?:further\s+|also\s+|then\s+)?(?:investigate|study|analy[sz]e|evaluate|test)\b", re.I)


def _tries(order: list[int], sents: list[str]) -> list[tuple[int, int, bool]]:
    """The sentences to try, each with the words it may keep whole and whether it must
    stand alone: every candidate at :data:`MAX_WHOLE_WORDS`, then at :data:`MAX_WORDS`;
    but the first contribution sentence also at its longer length, alone, before the
    candidates after it, so a long sentence that says what the paper is ("We propose soft
    prompt tuning for augmenting DR (SPTAR): ...") is not passed over for a side detail
    ("We design a filter ...")."""
    tries = [(i, MAX_WHOLE_WORDS, False) for i in order]
    if order and CONTRIBUTION.search(sents[order[0]]):
        tries.insert(1, (order[0], MAX_WORDS, True))
    return tries + [(i, MAX_WORDS, False) for i in order]


def _core(name: str | None) -> str:
    """A name without its acronym: "Analytic Exemplar-Free OCL (AEF-OCL)" -> "Analytic Exemplar-Free OCL"."""
    return re.sub(r"\s*\([^)]*\)$", "", name or "")


def extractive_summary(abstract: str, title: str = "", name: str | None = None) -> str:
    """A summary taken from the abstract: its contribution sentence ("we propose /
    introduce / present ...", "this paper studies ..."), else a sentence in the paper's own
    voice, else a finding; never background, motivation or a release note when one of
    those is there. With the paper's own ``name``, the contribution sentence that
    introduces it comes first. The sentence is whole (see :func:`_whole`): no cut, no lead-in that
    points back. The first candidate that passes :func:`summary_problem` wins; when none
    does, the first sentence that does, whole or cut at a clause boundary."""
    sents = [" ".join(s.split()) for s in sentences(abstract)] or [" ".join(abstract.split())]
    tiers = _candidates(sents)
    order = list(tiers)
    core = _core(name)
    if core:  # the sentence that introduces the paper's own name says what the paper is about
        order.sort(key=lambda i: not (core in sents[i] and CONTRIBUTION.search(sents[i])
                                      and not _INVESTIGATES.match(_opening(sents[i]))))
    restated = None  # the proposal sentence that only restates the title: better than a finding
    for i, limit, alone in _tries(order, sents):  # a whole sentence, longer if need be, before any cut one
        whole = _whole(sents[i], limit)
        if whole is None:
            continue
        if restated is not None and (tiers[i] >= 2 or _OUR_THING.match(whole)):
            return restated  # "Our proposed encoder is ...": what it is, the restated title says better
        problem = summary_problem(whole, title, abstract)
        if problem is None and not _leans(sents[i]):
            return whole
        if alone:
            continue
        # A sentence that leans on the one before, or names the paper's work and no more:
        # with the sentence it needs, when they fit.
        if _leans(sents[i]) or (core and core in sents[i]):
            paired = _with_context(sents, i, whole, title, abstract, name)
            if paired is not None:
                return paired
        if problem == REPEATS_TITLE and restated is None and not _leans(sents[i]) and tiers[i] == 0:
            restated = whole
    if restated is not None:
        return restated
    for i in order:  # a sentence that leans, alone, before anything cut
        whole = _whole(sents[i], MAX_WORDS)
        if whole is not None and summary_problem(whole, title, abstract) is None:
            return whole
    plain = [s for s in sents if not has_link(s)] or sents  # never a link in a summary
    for sentence in plain:
        whole = _whole(sentence, MAX_WORDS) or _cut(_without_connective(sentence))
        if summary_problem(whole, title, abstract) is None:
            return whole
    return _cut(" ".join(plain[:2]))


def _cut(sentence: str, limit: int = MAX_EXTRACTIVE_WORDS) -> str:
    """``sentence`` whole when short enough, else cut at the last clause boundary that
    keeps at most ``limit`` words (at ``limit`` words when there is none): the last resort
    of :func:`extractive_summary`."""
    words = sentence.split()
    if len(words) <= limit:
        return sentence
    head = " ".join(words[:limit])
    cuts = [m.start() for m in _CLAUSE_BREAK.finditer(head) if len(head[: m.start()].split()) >= MIN_WORDS]
    head = head[: cuts[-1]] if cuts else head
    return head.rstrip(" ,;:-–—") + " …"


def _without_connective(sentence: str) -> str:
    """``sentence`` without a leading discourse connective ("Furthermore, we ..." ->
    "We ..."), which reads badly out of its paragraph."""
    match = _CONNECTIVE.match(sentence)
    if match is None or len(sentence) == match.end():
        return sentence
    rest = sentence[match.end() :]
    return rest[0].upper() + rest[1:]


