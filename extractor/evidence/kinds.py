"""What kind of contribution a paper makes, from the cue words of its title and abstract.

:func:`contribution_of` answers one of the :class:`~extractor.schema.Contribution` kinds
with the cue that found it (``survey_cue``, ``dataset_cue``, ``system_cue``,
``theory_cue``, ``study_cue``, ``proposal_cue``, ``title_form_cue``, ``analysis_cue``):
the cue is what :mod:`extractor.evidence.precision` measures and the record's
``found_by`` names. The order of the checks is the order of trust: a title that says
"A Survey" outweighs a sentence that proposes something.

Each kind's patterns are :class:`~extractor.evidence.text.Cue`: a sentence without any of
a cue's words is not searched.
"""

from __future__ import annotations

import re

from ..schema import Contribution
from .text import Cue, Proposal, lowered, sentences
from .voice import proposal_object

__all__ = ["contribution_of"]

# Each kind's cue words (see text.Cue): "data" stands for dataset and data set, "test"
# for test bed, "tool" for toolkit, "bound" for the upper, lower and regret bounds.
_SURVEY = Cue(
    r"\b(?:this|our|we)\s+(?:\w+\s+){0,3}(?:survey|review|overview|tutorial)\b|\b(?:a|comprehensive|systematic)\s+"
    r"(?:\w+\s+){0,2}(?:survey|review|overview)\b(?!\s+(?:sentences?|texts?|data|sites?|scores?|ratings?|"
    r"comments?|documents?|helpfulness|platforms?|articles?)\b)|^(?:a\s+)?(?:survey|review|overview)\b|"
    r"\bproblems,\s+methods,?\s+and\s+opportunities\b|\b(?:survey|review)\s*$|^(?:an?\s+)?(?:introduction|primer)\s+"
    r"(?:to|on)\b",
    ("survey", "review", "overview", "tutorial", "problems", "introduction", "primer"), flags=re.I)  # fmt: skip
_DATASET = Cue(
    r"\b(?:we|this\s+paper|this\s+work)\s+(?:\w+\s+){0,2}(?:introduce|present|propose|release|construct|build|"
    r"collect|create|curate)s?\s+(?:\w+[\s,-]+){0,6}?(?:dataset|data\s+set|benchmark|corpus|test\s?bed|suite|"
    r"leaderboard|arena)s?\b|\b(?:benchmark|dataset|corpus)\b[^.]{0,40}$",
    ("data", "benchmark", "corpus", "test", "suite", "leaderboard", "arena"), flags=re.I)  # fmt: skip
# A title that says it is a dataset: "BEDLAM: A Synthetic Dataset of Bodies ...".
_DATASET_TITLE = Cue(r"\b(?:an?|the)\s+(?:[\w()-]+\s+){0,6}(?:dataset|benchmark|corpus|test\s?bed|suite)s?\b|"
                     r"^(?:constructing|building|creating|collecting)\s+(?:[\w-]+\s+){0,3}(?:datasets?|benchmarks?|"
                     r"corpora)\b", ("data", "benchmark", "corpus", "corpora", "test", "suite"), flags=re.I)  # fmt: skip
_SYSTEM = Cue(
    r"\b(?:open[- ]source|publicly\s+available)\s+(?:\w+\s+){0,2}(?:toolkit|library|platform|system|tool|"
    r"package|framework|software|engine)\b|\b(?:toolkit|(?:python|software|open-source)\s+(?:library|package)|"
    r"library\s+for)\b|\bproduction[- ](?:level|grade|ready)\s+(?:\w+\s+){0,2}(?:system|library|framework|"
    r"implementation)\b",
    ("tool", "library", "platform", "system", "package", "framework", "software", "engine", "production"), flags=re.I)  # fmt: skip
_THEORY = Cue(
    r"\bwe\s+(?:\w+\s+)?(?:prove|derive)\b|\b(?:theorem(?!\s+prov)|upper\s+bound|lower\s+bound|convergence\s+rate|"
    r"sample\s+complexity|regret\s+bound)s?\b",
    ("prove", "derive", "theorem", "bound", "convergence", "complexity"), flags=re.I)  # fmt: skip
# A title that says it is theory: "Theoretical Foundations of ...", "A Solvable Model of ...".
_THEORY_TITLE = Cue(r"\btheor(?:y|etical)\b(?!\s+prov)|\bPAC(?:-Bayes\w*)?\s+(?:generali[sz]ation|learn\w*|bounds?)\b|\bsolvable\b|\bprovabl[ey]\b|\bclosed[- ]form\b|\bminimax\b|"
                    r"\bnon-asymptotic\b|\bgeneralization\s+bounds?\b",
                    ("theor", "solvable", "provabl", "closed", "minimax", "asymptotic", "bound", "pac"), flags=re.I)  # fmt: skip
# A title that names what the paper brings and what for ("Residual EBMs for Text Generation",
# "Data Augmentation via Invariance-Constrained Learning"): a method, when nothing says study.
_TITLE_FORM = re.compile(r"\s(?:for|via|using|with|by\s+\w+ing|through)\s", re.I)
_ANALYSIS = Cue(
    r"\b(?:we|this\s+paper|this\s+work)\s+(?:\w+\s+)?(?:study|analy[sz]e|investigate|examine|evaluate|measure|"
    r"characteri[sz]e|explore|probe|ask|find|show\s+that|reveal|revisit|benchmark)s?\b|\bempirical\s+study\b",
    ("study", "analy", "investigate", "examine", "evaluate", "measure", "characteri", "explore", "probe", "ask", "find",
     "show", "reveal", "revisit", "benchmark"),
    flags=re.I,
)  # fmt: skip
# An empirical study says so in its title ("An Empirical Study of ...", "Understanding ...",
# "How Far is ...", "Scaling Laws for ...", "Lessons for ...") or in what it presents ("we
# present a systematic study of ...").
_STUDY_TITLE = Cue(
    r"^(?:an?\s+)?(?:empirical|systematic|comprehensive|large-scale|preliminary|controlled)\s+(?:study|analysis|"
    r"investigation|evaluation|comparison)|^(?:analy[sz]ing|understanding|characteri[sz]ing|investigating|examining|"
    r"evaluating|revisiting|demystifying|rethinking|probing|measuring|comparing|exploring|quantifying|benchmarking|"
    r"dissecting|unveiling|uncovering|interpreting|unraveling|unravelling|questioning|assessing|auditing|surveying|"
    r"stress-testing)\b|\b(?:demystified|revisited|explained)\b|^on\s+the\b|^in\s+defen[cs]e\s+of\b|"
    r"^(?:what|how|why|when|which)\b|^(?:do|does|can|is|are|should)\b.*\?|:\s*an?\s+(?:\w+\s+)?(?:study|analysis|"
    r"investigation|evaluation|perspective)\b|\bscaling\s+laws?\b|\blessons\s+(?:for|from|learned)\b|"
    r"^the\s+(?:pitfalls|limitations|perils|dangers|role|effects?|impact)\s+of\b|\b(?:empirical\s+)?insights\s+"
    r"(?:into|from|on)\b|\bprovides\s+empirical\s+insights\b",
    ("empirical", "systematic", "comprehensive", "large", "preliminary", "controlled", "analy", "understanding",
     "characteri", "investigat", "examining", "evaluat", "revisiting", "demystifying", "rethinking", "probing",
     "measuring", "comparing", "exploring", "quantifying", "benchmarking", "dissecting", "unveiling", "uncovering",
     "interpreting", "unravel", "questioning", "assessing", "auditing", "surveying", "stress", "demystified",
     "revisited", "explained", "on", "in", "what", "how", "why", "when", "which", "do", "can", "is", "are", "should",
     "study", "investigation", "perspective", "scaling", "lessons", "the", "insights"),
    flags=re.I,
)  # fmt: skip
_STUDY_SUBTITLE = re.compile(r"[:?]\s*an?\s+(?:\w+\s+)?(?:study|analysis|investigation)\s*$|,\s*empirically\s*$", re.I)
_STUDY_QUESTION = re.compile(r"(?:what|how|why|when|which)\s+(?:matters|works|helps|drives|makes)\b", re.I)
_STUDY_OBJECT = re.compile(
    r"^(?:an?|the|our)?\s*(?:\w+\s+){0,3}?(?:study|analysis|investigation|evaluation|comparison|examination|"
    r"assessment|exploration)\b",
    re.I,
)
# What only a theory paper says of its results: "in closed form", "analytic formulae", "necessary
# and sufficient conditions".
_DERIVED = Cue(r"\bclosed[- ]form\b|\banalytic(?:al)?\s+(?:formulae|formulas|expressions?|solutions?)\b|"
               r"\bnecessary\s+and\s+sufficient\b|\bwe\s+(?:\w+\s+)?prove\b|\btheorems?\b",
               ("closed", "analytic", "necessary", "prove", "theorem"), flags=re.I)  # fmt: skip
# A title that says it brings a method: "A New General Training Scheme for ...".
_METHOD_TITLE = re.compile(r"\b(?:a|an)\s+(?:new|novel|simple|general|unified|efficient|scalable)\s+(?:[\w-]+\s+){0,3}"
                           r"(?:method|approach|framework|scheme|algorithm|model|architecture|paradigm|recipe)\b", re.I)  # fmt: skip


def contribution_of(title: str, abstract: str, proposing: list[str], *, named: bool = False) -> Proposal | None:
    """The kind of contribution the cues of title and abstract show, or None.

    In this order: a survey (its title or its own words say so: "A Survey", "this
    review"); a dataset or benchmark ("A Synthetic Dataset of ...", "we release a
    benchmark"); a system or tool; a study, whose title or proposal says it is one ("An
    Empirical Study of ...", "Understanding ...", "Scaling Laws for ...", "we present a
    systematic analysis of ...") unless it names what it proposes (``named``); a theory
    paper; a ``method`` when it proposes something or its title names its own method;
    else an ``analysis`` when it only studies, measures or evaluates. ``proposing`` holds
    the abstract's proposal sentences ("we propose / introduce / present ...").

    Example:
        >>> text = "We introduce MMLU-Pro, a benchmark ..."
        >>> contribution_of("MMLU-Pro: A Harder Benchmark", text, [text]).value
        'dataset_or_benchmark'
        >>> contribution_of("Autoregressive Models in Vision: A Survey", "We review them.", []).value
        'survey'
    """
    head = " ".join([title, *proposing[:2]])
    title_low, head_low, low = lowered(title), lowered(head), lowered(abstract)
    opening = sentences(abstract)[:1]
    if _SURVEY.search(title, title_low) or _SURVEY.search(head, head_low) or (
        not proposing and _SURVEY.search(abstract, low)) or (opening and _SURVEY.search(opening[0])
    ):  # fmt: skip
        return Proposal(Contribution.survey.value, "survey_cue")
    if _DATASET_TITLE.search(title, title_low) or _DATASET.search(head, head_low):
        return Proposal(Contribution.dataset_or_benchmark.value, "dataset_cue")
    if _SYSTEM.search(title, title_low) or _SYSTEM.search(head, head_low):
        return Proposal(Contribution.system_or_tool.value, "system_cue")
    if _THEORY_TITLE.search(title, title_low):
        return Proposal(Contribution.theory.value, "theory_cue")
    objects = [o for s in proposing[:2] if (o := proposal_object(s)) is not None]
    question = title.rstrip().endswith("?") or "?" in title.partition(":")[0]
    subtitle = title.partition(":")[2].strip()
    # "Can LLMs Learn by Teaching? A Preliminary Study", "LLaVADI: What Matters For ...": a subtitle that says study
    said = _STUDY_SUBTITLE.search(title) or (subtitle and _STUDY_QUESTION.match(subtitle))
    study = said or (_STUDY_TITLE.search(title, title_low) and not (question and proposing))
    # what it presents first says what it is: "a residual learning framework ..." before "analysis on CIFAR-10"
    if said or (not named or not proposing) and (study or (objects and _STUDY_OBJECT.match(objects[0]))):
        if _DERIVED.search(abstract, low):
            return Proposal(Contribution.theory.value, "theory_cue")  # a study that derives in closed form is theory
        return Proposal(Contribution.analysis.value, "study_cue")  # an empirical study is not a method
    if _THEORY.search(title, title_low) or (not proposing and _THEORY.search(abstract, low)):
        return Proposal(Contribution.theory.value, "theory_cue")
    if proposing or named or _METHOD_TITLE.search(title):
        return Proposal(Contribution.method.value, "proposal_cue")
    if _TITLE_FORM.search(title.partition(":")[2] or title):
        return Proposal(Contribution.method.value, "title_form_cue")
    if _ANALYSIS.search(abstract, low):
        return Proposal(Contribution.analysis.value, "analysis_cue")
    return None
