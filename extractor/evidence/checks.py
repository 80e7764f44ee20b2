"""The correctness pass: does a value answer its question, whatever proposed it?

Grounding (:mod:`~extractor.evidence.grounding`) checks that a value occurs in the
abstract; these checks ask whether it is right for its field. Each returns None for a
value it finds nothing wrong with, else the reason, in a few words a reader of the debug
view understands. They are deterministic and apply alike to the rules' values and the
model's, so a configured endpoint is held to the same definitions:

* **task** (:func:`task_problem`): a phrase that stands alone (it ends where a noun
  phrase ends), never a function word, never the whole title, never a vague phrase
  ("downstream tasks", "real-world applications"); one word only when it is a term of
  art ("summarization", "segmentation");
* **method** (:func:`method_problem`): a whole, specific phrase, not the title, not a
  purpose clause ("to evaluate ..."), at most 14 words;
* **method name** (:func:`name_problem`): never a term of the field ("LLMs", "MoE"), and
  named where the paper names its own work (the title's head or a sentence where it
  proposes something), never only where it cites prior work;
* **claimed gain** (:func:`gain_problem`): a metric saying what the number measures, no
  sign taken from a range's dash, a dataset and a baseline found in its own clause.

Example:
    >>> task_problem("their", "A Title", "abstract"), task_problem("summarization", "A Title", "abstract")
    ('a function word, not a task', None)
    >>> task_problem("Efficient Fine-Tuning", "Efficient Fine-Tuning", "We study efficient fine-tuning.")
    'the whole title, not the task'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..schema import ClaimedGain
from .names import acronym_long_form, is_namey, naming_sentences, own_names, plural_own, title_head
from .phrases import GENERIC_HEADS, is_generic
from .voice import proposal_object
from .words import FILLERS, ends_whole, is_field_term, is_function_word, word_classes

__all__ = ["gain_problem", "method_problem", "name_problem", "names_a_task", "names_a_task_done_in", "task_like",
           "task_problem"]

# Words that make a task phrase vague: it says where a method is used, not what it solves.
_VAGUE = frozenset(
    """downstream various diverse many multiple several wide broad range variety real-world practical applications
    application settings setting scenarios scenario domains domain use uses purposes purpose cases case fields field
    areas area problems problem tasks task goals goal needs performance capabilities capability abilities ability
    results quality efficiency effectiveness success behaviour behavior""".split()
)
_TERM_OF_ART = re.compile(
    r"(?:tion|sion|ing|ment|sis|ance|ence|ization|isation|ity|ics|ogy|ism)$|"
    r"(?:detection|recognition|segmentation|translation|parsing|retrieval|answering|generation|classification|"
    r"estimation|tracking|labeling|labelling|inference|reasoning|comprehension|summarization|prediction|"
    r"forecasting|captioning|grounding|alignment|planning|control|navigation|editing|search|ranking|matching|recall|"
    r"modell?ing|learning|merging|pruning|routing|sampling|scaling|design|discovery|repair|transfer|"
    r"dilemma|problem|challenge|bottleneck|trade-?off|gap)$",
    re.I,
)
_SIGNED = re.compile(r"^[\-−]")
# Acronyms that name tasks; any other lone acronym ("CLIP") names a model.
_TASK_ACRONYMS = frozenset("ASR NER QA VQA MT NMT NLI OCR SRL RE TTS ASQA KBQA ODQA RAG NLG NLU IR MRC WSD POS".split())
# Words that say there is a problem without saying which: never a task alone.
_PROBLEM_WORD = re.compile(r"(?:dilemma|problem|challenge|bottleneck|trade-?off|gap|issue)s?", re.I)


def _norm(text: str) -> str:
    # "Towards Characterizing X" is the title "Characterizing X" with a hope in front
    return re.sub(r"^(?:(?:the|a|an|towards?|on)\s+)+", "", " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split()))


def _is_title(value: str, title: str) -> bool:
    """True when ``value`` is the whole title (the title without its name head, as in
    "DeepWalk: Online Learning of Social Representations", may well be the task)."""
    if not title:
        return False
    return _norm(value) == _norm(title)


def task_like(phrase: str) -> bool:
    """True when ``phrase`` names an activity or a problem (see :func:`task_problem`).

    Example:
        >>> task_like("end-to-end weather forecasting"), task_like("Large Model Zoo")
        (True, False)
    """
    return bool(phrase.split()) and _task_like(phrase.split())


# Words with the ending of a term of art that name no task ("a fundamental question").
_NOT_TASKS = frozenset(
    """question function attention section condition position notion portion motivation intuition observation
    contribution solution direction population foundation mention option version situation configuration
    implementation application applications institution tradition ambition emotion ration station nation
    foundation foundations something thing nothing everything anything""".split()
)
# A title's slogan: what it promises, or that it looks again at a method ("Revisiting X"), not
# what problem it addresses.
_SLOGAN = re.compile(r"^(?:empowering|unveiling|unleashing|unlocking|democratizing|revolutionizing|supercharging|"
                     r"harnessing|pushing\s+the\s+limits?|revisiting|rethinking)\b", re.I)  # fmt: skip
# The acronym of a kind of model, which no task ends on: "LLM", "MLLM", "GNN", "MoE".
_MODEL_ACRONYM = re.compile(r"(?:M?LLM|[VP]?LM|GNN|CNN|RNN|MoE|ViT|DNN|SSM)")
_HEAD_ENDS = frozenset("of at in on for with from under over across via using by without to between among like such".split())


def _head(words: list[str]) -> str:
    """The head of a phrase: its last word before a preposition ("merging" in "model
    merging at scale"), without a plural's "s"."""
    stop = next((i for i, w in enumerate(words) if i and w.casefold() in _HEAD_ENDS), len(words))
    head = re.sub(r"\W+$", "", words[stop - 1]) if words else ""
    return head if head.endswith(("ss", "sis", "us")) else head.removesuffix("s")  # "synthesis" is no plural


# The heads of the names the field gives its tasks: "object detection", "AMR parsing",
# "density estimation". Not "learning", "training" or "design": those name how, as often as what.
_TASK_HEAD = re.compile(
    r"(?:detection|recognition|segmentation|translation|parsing|retrieval|answering|generation|classification|"
    r"estimation|tracking|labell?ing|inference|reasoning|comprehension|summari[sz]ation|prediction|forecasting|"
    r"captioning|alignment|matching|modell?ing|extraction|locali[sz]ation|tagging|reconstruction|synthesis|"
    r"completion|verification|identification|resolution|disambiguation|linking|recommendation|ranking|"
    r"understanding|merging|compression|quantization|restoration|denoising|inpainting|editing|navigation|planning|"
    r"tuning)",
    re.I,
)


def names_a_task(phrase: str) -> bool:
    """Whether ``phrase`` is shaped like the name of a task: a noun phrase (not a clause
    opening on a verb) whose head is one of the field's task nouns.

    Example:
        >>> names_a_task("3D human pose estimation (HPE)"), names_a_task("jointly predicting all predicates")
        (True, False)
    """
    words = re.sub(r"\s*\([^)]*\)$", "", phrase).split()
    if any(w.casefold() in _VAGUE for w in words):
        return False  # "different vision tasks including image classification": several, none said
    if not words or words[0].casefold().endswith("ing") and not _TASK_HEAD.fullmatch(words[0]):
        return False  # "training deep energy models": what is done, in the words of a method
    return _TASK_HEAD.fullmatch(_head(words)) is not None


def names_a_task_done_in(phrase: str) -> bool:
    """Whether ``phrase`` names a task and then the setting it is done in ("Contextual
    Sarcasm Detection in Online Discussion Forums", "Dense Human Pose Estimation In The Wild").

    Example:
        >>> names_a_task_done_in("Sarcasm Detection in Online Forums"), names_a_task_done_in("Sarcasm Detection")
        (True, False)
    """
    parts = _SETTING_AT.split(phrase, maxsplit=1)
    return len(parts) == 2 and names_a_task(parts[0])


# The preposition that opens the setting a task is done in.
_SETTING_AT = re.compile(r"\s+(?:in|on|from|under|across|at)\s+", re.I)


def _task_like(words: list[str]) -> bool:
    """A task names an activity or a problem: its head (the last word before a
    preposition: "merging" in "model merging at scale") is a term of art ("detection",
    "forecasting", "summarization"), or it opens on one ("Upcycling MoE Models")."""
    head = _head(words)

    def activity(word: str) -> bool:
        word = word.strip(".,;:")
        classes = word_classes(word)
        return len(word) > 5 and word.endswith("ing") and (not classes or "VERB" in classes)

    # "Upcycling MoE Models", "Efficiently Training Video Models", "Efficient Fine-Tuning of Large Models"
    opens_on_activity = activity(words[0]) or any(activity(w) for w in words[1:3] if "-" in w or words[0].endswith("ly"))
    if head.casefold() in _NOT_TASKS or _MODEL_ACRONYM.fullmatch(head):
        return opens_on_activity  # "Modular LLMs": a kind of model, not a problem
    return bool(_TERM_OF_ART.search(head) or head.isupper() or opens_on_activity)


_URL = re.compile(r"://|\bwww\.|\b[\w-]+\.(?:com|org|net|io|ai|dev|app|example)\b/?", re.I)


# A dash between words joins two clauses: "applying deep learning on tabular data -- highlighting".
_DASHED = re.compile(r"\s(?:--|—|–)\s")
# A thing proposed that is a problem: "federated reconnaissance, a new class of learning problems".
_A_PROBLEM = re.compile(r"[^,]*,\s+(?:a|an)\s+(?:[\w-]+\s+){0,4}(?:problems?|tasks?|settings?|challenges?|paradigms?)\b")
# Where the name of a thing proposed ends: "Meta Flow Matching (MFM), which ...".
_THING_ENDS = re.compile(r"\s*(?:$|[(,.;:]|(?:which|that|to|as|for|and)\b)")


def _names_the_method(task: str, title: str, abstract: str, proposing: Sequence[str]) -> bool:
    """Whether ``task`` is the name the paper gives its own method, or the long form of the
    name its title opens on ("PROSE: Predicting Operators and Symbolic Expressions ...")."""
    head = title_head(title)
    words = task.split()
    opens = " ".join(title.partition(":")[2].split()).startswith(task)  # the subtitle opens on it: its long form
    if head and " " not in head and opens and len(words) > 1 and acronym_long_form(words, head) == task:
        # "PROSE: Predicting Operators and Symbolic Expressions" names the method; but "CASCADE:
        # Contextual Sarcasm Detection in Online Discussion Forums" names a task and where it is
        # done, whatever the letters spell
        return not names_a_task_done_in(task)
    bare = task.casefold()
    return any(re.sub(r"\s*\([^)]*\)$", "", n.value).casefold() == bare
               for n in own_names(title, abstract, proposing) if n.rule != "title_name")


def task_problem(task: str, title: str, abstract: str, proposing: Sequence[str] = ()) -> str | None:
    """Why ``task`` does not name the problem a paper addresses, or None. ``proposing``
    holds the abstract's proposal sentences: what the paper proposes is its method, not
    its task ("Meta Flow Matching" in "we propose Meta Flow Matching (MFM)")."""
    words = task.split()
    if not words or len(task.strip()) < 3:
        return "empty"
    if _URL.search(task):
        return "a URL, not a task"
    if all(is_function_word(w) for w in words):
        return "a function word, not a task"
    if _is_title(task, title):
        return "the whole title, not the task"
    if "?" in task:
        return "a question, not a task"
    if _SLOGAN.match(task):
        return "a slogan, not a task"  # "Unveiling the Potential of Small Language Models", "Empowering X"
    if re.search(r"\smeets?\s", task, re.I):
        return "two things put together, not a task"  # "Mixture-of-Experts Meets Instruction Tuning"
    if is_field_term(task):
        return "a whole field, not this paper's problem"
    if _DASHED.search(task):
        return "glued: it runs on into another clause"
    if _names_the_method(task, title, abstract, proposing):
        return "the name of what the paper proposes, not the problem it addresses"
    bare = re.sub(r"^(?:an?|the)\s+", "", task, flags=re.I).casefold()
    for sentence in proposing:
        thing = re.sub(r"^(?:an?|the|our)\s+", "", proposal_object(sentence) or "", flags=re.I).casefold()
        # the thing itself, not "a cold start recommendation model" (a model for the task)
        if thing.startswith(bare) and _THING_ENDS.match(thing, len(bare)) and not _A_PROBLEM.match(thing, len(bare)):
            return "what the paper proposes, not the problem it addresses"
    if len(words) == 1:
        word = words[0].strip(".,;:")
        if word.casefold() in FILLERS or word.casefold() in _VAGUE:
            return "a vague word, not a task"
        classes = word_classes(word)
        if _PROBLEM_WORD.fullmatch(word) or not (word in _TASK_ACRONYMS or _TERM_OF_ART.search(word) and (
                not classes or "NOUN" in classes)):  # fmt: skip
            return "one word that is not a term of art"
    if not ends_whole(task):
        return "cut: it does not end where a phrase ends"
    if all(w.casefold().strip(".,;:") in _VAGUE or is_function_word(w) or w.casefold() in FILLERS for w in words):
        return "vague: it says where, not what"
    if not _task_like(words):
        return "names a thing, not a problem or an activity"
    if len(words) > 12:
        return "a clause, not a task"
    return None


# A method phrase that points back to what it does not say: "addresses these challenges".
_METHOD_LEANS = re.compile(r"\b(?:these|those|aforementioned|above-mentioned)\b|\bthe\s+above\b|"
                           r"\bthis\s+(?!paper\b|work\b|study\b|article\b)[a-z]|"
                           r"\bfor\s+(?:the|our)\s+(?:task|problem)s?\s*$", re.I)  # fmt: skip
# What a paper reports, not what it proposes: "results on image super-resolution ...".
_A_FINDING = re.compile(r"^(?:(?:some|new|first|preliminary|experimental|empirical|extensive|state\s?-\s?of\s?-\s?the"
                        r"\s?-\s?art|strong|competitive|promising|improved|better)\s+)?(?:results?|experiments|findings|"
                        r"observations)\b",
                        re.I)  # fmt: skip
# A method that only restates the task: "solution to the problem of paraphrase identification",
# "task of generation-based extraction (GEIC)".
_ONLY_THE_TASK = re.compile(r"^(?:(?:[\w-]+\s+){0,2}(?:solution|approach|method|model)\s+(?:to|for)\s+(?:the\s+)?"
                            r"(?:problem|task)s?\s+of|(?:the\s+)?(?:task|problem)s?\s+of)\b|"
                            # "deep learning architecture to address the natural language inference (NLI) task"
                            r"^(?:[\w-]+\s+){0,3}(?:architecture|model|method|approach|framework|system|solution)\s+"
                            r"to\s+(?:address|solve|tackle|handle)\s+(?:the\s+)?[^,;]{0,80}\b(?:task|problem)s?$",
                            re.I)  # fmt: skip
# A result told in the method's own clause: "an alternative network that outperforms FlowNet2 on ...".
_RESULT_CLAUSE = re.compile(r"\b(?:that|which)\s+(?:\w+\s+)?(?:outperforms?|surpass(?:es)?|beats?)\b", re.I)
# A list begun after a dash and cut after its first item: "two new architectures — one based on LSTMs".
_DASH_LIST = re.compile(r"(?:\s[—–-]{1,2}\s|—)(?:one|the\s+first|first)\b(?!.*\b(?:other|second|another)\b)", re.I)
# A relative clause opened and cut after a word or two: "tools for ensuring that quantiles",
# "an LSTM approach to X where the task".
_CLAUSE_STUB = re.compile(r"\b(?:that|which|where|whereby|wherein|whose|who)\s+(?:(?:the|a|an|its|their|our|each|every)\s+)?"
                          r"[\w-]+$", re.I)  # fmt: skip
# A method glued to the next clause of its sentence: "a mechanism for X and derive the optimal
# bag size", "a methodology for M and test four domains".
_GLUED_CLAUSE = re.compile(r"\band\s+(?:then\s+)?(?:derive|test|show|evaluate|demonstrate|propose|provide|conduct|find|"
                           r"analy[sz]e|prove|introduce|present|release|establish|study|investigate|apply|use)\b",
                           re.I)  # fmt: skip
# A vague method that counts its parts and stops there: "a method that encompasses two principal
# stages" (not "an NER cascade approach comprising three steps", which says what it is).
_UNNAMED_PARTS = re.compile(r"(?:\b(?:that|which)\s+(?:\w+\s+)?|\b(?:comprising|consisting\s+of|with)\s+|^)(?:two|three|four|five|several|multiple|a\s+few)\s+(?:[\w-]+\s+){0,2}?(?:stages|innovations|"
                            r"components|steps|modules|parts|phases|strategies|techniques|ideas|mechanisms|"
                            r"contributions|metrics|interventions|approaches|methods|principles|variants|tricks|improvements|"
                            r"extensions)\s*$", re.I)  # fmt: skip
# What a paper shows of its work is not the work: "the versatility of X by applying it to Y".
_A_QUALITY = re.compile(r"^(?:the\s+)?(?:effectiveness|efficacy|versatility|superiority|feasibility|importance|potential|"
                        r"benefits?|advantages?|robustness|generality|generali[sz]ability|utility|usefulness|value|"
                        r"power|promise)\s+of\b", re.I)  # fmt: skip


def _kind_only(text: str) -> bool:
    """True when ``text`` names only a kind of thing ("learning system", "a new approach"):
    at most two content words ending on a generic head, none of them a name."""
    content = [w.strip(".,;:") for w in text.split() if not is_function_word(w) and w.casefold().strip(".,;:") not in FILLERS]
    return 0 < len(content) <= 2 and content[-1].casefold() in GENERIC_HEADS and not any(
        w[:1].isupper() or is_namey(w) for w in content)  # fmt: skip


def method_problem(method: str, title: str, abstract: str) -> str | None:
    """Why ``method`` does not say what a paper proposes, or None."""
    words = method.split()
    if not words or len(method.strip()) < 3:
        return "empty"
    if words[0].casefold() == "to":
        return "a purpose, not a thing proposed"
    if words[0].casefold() in ("what", "how", "why", "when", "which", "who") or method.rstrip().endswith("?"):
        return "a question, not a method"
    if _URL.search(method) or re.search(r"\bgithub\b|\bcode\b.*\bavailable\b", method, re.I):
        return "a release note, not a method"
    if _is_title(method, title):
        return "the whole title, not the method"
    if is_generic(method):
        return "generic: it names no specific method"
    if len(words) == 1 and not is_namey(words[0]):
        return "one common word, not a method"
    if _METHOD_LEANS.search(method):
        return "it leans on what came before and does not say it"
    if _GLUED_CLAUSE.search(method):
        return "glued to the next clause of its sentence"
    if (parts := _UNNAMED_PARTS.search(method)) is not None and (not method[: parts.start()].strip()
                                                                  or _kind_only(method[: parts.start()])):  # fmt: skip
        return "it counts its parts and does not say them"
    if _A_QUALITY.match(method):
        return "a quality the paper shows of its work, not the work"
    if _A_FINDING.match(method):
        return "a result the paper reports, not what it proposes"
    if _ONLY_THE_TASK.match(method):
        return "it restates the task, not how the paper does it"
    if _CLAUSE_STUB.search(method):
        return "cut: its clause stops after a word or two"
    if _RESULT_CLAUSE.search(method):
        return "a result glued to the method"
    if _DASH_LIST.search(method):
        return "cut: a list after a dash stops at its first item"
    if _kind_only(method):
        return "too vague: a kind of thing, not which one"
    if not ends_whole(method) and not method.rstrip().endswith(")"):
        return "cut: it does not end where a phrase ends"
    if len(words) > 18:  # a thing with what describes it, up to noun_phrase's 18 words, is whole
        return "a clause, not a method"
    return None


def name_problem(name: str, title: str, proposing: list[str], abstract: str = "") -> str | None:
    """Why ``name`` is not the name a paper gives its own contribution, or None.
    ``proposing`` are the abstract's sentences where it proposes something; a sentence of
    ``abstract`` where the paper gives a name to what it introduces ("we ... introduce a new
    method, dubbed LiSe") is such a place too."""
    core = re.sub(r"\s*\([^)]*\)$", "", name).strip()
    acronym = name[len(core) :].strip(" ()")
    if not core:
        return "empty"
    if _URL.search(name):
        return "a URL, not a name"
    if is_field_term(core) or (acronym and is_field_term(acronym) and not plural_own(core, acronym)):
        return "a term of the field, not this paper's name"
    if is_generic(core) or all(is_function_word(w) for w in core.split()):
        return "a generic phrase, not a name"
    if acronym in _TASK_ACRONYMS or core in _TASK_ACRONYMS:
        return "a task, not a name"  # "natural language inference (NLI)"
    own_places = [title_head(title) or "", *proposing, *naming_sentences(abstract)]

    def named_in(place: str) -> bool:
        return any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", place) for n in (core, acronym) if n)

    # the title opens on it, whole: "Wide Residual Networks" for "we call them wide residual networks (WRNs)"
    front = re.split(r":|\s+(?:for|in|with|via|using|on|from|of)\s+", " ".join(title.split()), maxsplit=1)[0]
    if len(core.split()) > 1 and _norm(front) == _norm(core):
        return None
    if not any(named_in(place) for place in own_places):
        return "not named where the paper names its own work"
    return None


def gain_problem(gain: ClaimedGain, abstract: str) -> str | None:
    """Why a claimed gain would mislead a reader, or None."""
    if any(_URL.search(v or "") for v in (gain.metric, gain.dataset, gain.baseline)):
        return "a URL where a metric, dataset or baseline should be"
    if not gain.metric.strip():
        return "no metric: its clause does not say what the number measures"
    if _SIGNED.match(gain.value.strip()):
        start = abstract.find(gain.value.strip())
        if start > 0 and re.search(r"[\d%x×]\s?$", abstract[:start]):
            return "a minus sign taken from a range's dash"
    evidence = gain.evidence.casefold()
    if gain.dataset and gain.dataset.casefold() not in evidence:
        return "its dataset is not named in its clause"
    if gain.baseline and gain.baseline.casefold() not in evidence:
        return "its baseline is not named in its clause"
    return None
