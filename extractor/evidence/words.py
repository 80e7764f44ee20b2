"""What a word is: the small English vocabulary the rules and the checks share.

A value a reader sees must stand alone: a phrase that ends on "in", "novel" or
"ensuring" is cut, a task that is "their" or "most" is not a task, and "LLMs" is a term
of the field, not the name of anyone's method. These tests need to know a word's kind
without a parser:

* **Function words** (:data:`FUNCTION_WORDS`): the closed classes of English
  (determiners, pronouns, prepositions, conjunctions, auxiliaries, modals) and the
  commonest adverbs and quantifiers of abstracts. A phrase never ends on one.
* **Fillers** (:data:`FILLERS`): the praise and framing words abstracts put before what
  they name ("a novel, simple and effective approach").
* **Parts of speech** (:func:`word_classes`): the lexicon of ``lemminflect`` (English
  words with the parts of speech their forms can take), for the words the closed classes
  do not hold: "ensuring" and "associated" can only be verbs, so a phrase ending on them
  is cut; "segmentation" is a noun.
* **Terms of the field** (:func:`is_field_term`): the names of model families, tasks and
  areas every abstract of the field uses ("LLMs", "MoE", "GNNs", "NLP", "Transformer"),
  which are never the name a paper gives its own contribution.

Example:
    >>> is_field_term("LLMs"), is_field_term("Mixture-of-Experts"), is_field_term("SlowFast")
    (True, True, False)
    >>> ends_whole("tools for ensuring"), ends_whole("dynamic model in"), ends_whole("dynamic model")
    (False, False, True)
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import marshal
import os
import re
from functools import cache, lru_cache
from pathlib import Path

__all__ = [
    "FIELD_TERMS",
    "FILLERS",
    "FUNCTION_WORDS",
    "ends_whole",
    "is_field_term",
    "is_function_word",
    "is_nounish",
    "word_classes",
]

FUNCTION_WORDS = frozenset(
    """a an the this that these those such each every either neither both all any some no none another other others
    few many much more most less least several various own same certain enough
    i me my mine we us our ours you your yours he him his she her hers it its they them their theirs one ones oneself
    itself themselves ourselves who whom whose which what whatever whichever whoever where when whence why how whether
    wherein whereby whereas while whilst
    of in on at by for with without within from to into onto over under above below across along among amongst around
    about after before behind beside besides between beyond despite during except inside like near off out outside
    past per since than through throughout toward towards upon via versus vs against amid
    and or but nor so yet if then else unless because although though as once until till lest
    is are was were be been being am do does did doing done have has had having
    can could may might must shall should will would ought
    not also only just even still already very too quite rather almost often always never sometimes usually
    here there thus hence therefore however moreover furthermore further indeed instead again well mostly
    e.g. i.e. etc cf et al""".split()
)

FILLERS = frozenset(
    """new novel simple general generic unified principled effective efficient alternative first different various
    innovative powerful robust scalable lightweight flexible comprehensive systematic practical straightforward
    elegant intuitive versatile promising improved enhanced advanced better stronger fast faster strong
    key main major certain specific particular two three four five several multiple single
    proposed present presented current existing standard""".split()
)

# Families, tasks and areas of the field, lower-cased, singular: a name that is one of
# these (or its plural, or the acronym of one) names everyone's work, not this paper's.
FIELD_TERMS = frozenset(
    """llm llms lm lms mllm mllms vlm vlms lvlm lvlms slm slms plm plms ptm ptms mlm moe smoe nlp nlu nlg cv ml ai agi
    dl rl rlhf dpo ppo sft icl cot rag qa vqa asr tts mt nmt ocr ner gnn gcn gan vae cnn rnn lstm gru mlp dnn snn
    vit bert gpt t5 llama transformer transformers diffusion ddpm nerf sam clip lora peft kd nas hpo sgd adam gd
    mcts mdp pomdp kg kgs api apis gpu gpus tpu cpu iot ir llm-based sr super-resolution bn batch-normalization wer cer
    crf hmm rbm ebm ssm ppl fm dae ssl eeg ecg fmri mri mil convnet svm bilstm bi-lstm seq2seq dqn
    convolutional-network convolutional-networks convolutional-neural-network convolutional-neural-networks
    recurrent-neural-network recurrent-neural-networks
    large-language-model large-language-models language-model language-models mixture-of-experts
    mixture-of-expert diffusion-model diffusion-models vision-language-model vision-language-models
    neural-network neural-networks deep-learning machine-learning reinforcement-learning
    foundation-model foundation-models graph-neural-network graph-neural-networks""".split()
)

_PLURAL_ACRONYM = re.compile(r"^[A-Z]{2,}s$")


def is_function_word(word: str) -> bool:
    """True for a word of the closed classes (see :data:`FUNCTION_WORDS`)."""
    return word.casefold().strip(".,;:") in FUNCTION_WORDS


# The lexicon's categories, by the one letter kept per word ("adj" and "adv" would clash).
_CLASSES = {"noun": "N", "verb": "V", "adj": "A", "adv": "D", "aux": "X"}


def _lexicon_file() -> Path:
    """lemminflect's lexicon (word, part of speech, lemmas), found without importing the
    package (which would import numpy): only its data is used."""
    return Path(str(importlib.metadata.distribution("lemminflect").locate_file("lemminflect/resources/lemma_lu.csv.gz")))


def _cache_file(source: Path) -> Path | None:
    folder = os.environ.get("EXTRACTOR_CACHE_DIR")
    if not folder:
        import platformdirs

        folder = platformdirs.user_cache_dir("extractor")
    stamp = hashlib.blake2b(f"{source}:{source.stat().st_size}:{source.stat().st_mtime_ns}".encode(), digest_size=6)
    return Path(folder) / f"word-classes-{stamp.hexdigest()}.marshal"


@cache
def _lexicon() -> dict[str, str]:
    """Each word of the lexicon and the initials of its parts of speech ("NV": noun and
    verb). Parsed once from the lexicon (a few tenths of a second), then kept beside the
    answer cache as a ``marshal`` file that loads in a few milliseconds; any failure of that
    file only costs the parse."""
    source = _lexicon_file()
    cached = _cache_file(source)
    try:
        if cached is not None and cached.is_file():
            return marshal.loads(cached.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        pass
    found: dict[str, str] = {}
    for line in gzip.decompress(source.read_bytes()).decode("utf-8").splitlines():
        word, category, _ = line.split(",", 2)
        initial = _CLASSES.get(category, "")
        if not initial:
            continue
        if initial not in found.get(word, ""):
            found[word] = found.get(word, "") + initial
    try:
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(found))
            os.replace(tmp, cached)
    except OSError:
        pass
    return found


@lru_cache(maxsize=16384)
def word_classes(word: str) -> frozenset[str]:
    """The parts of speech (``NOUN``, ``VERB``, ``ADJ``, ``ADV``, ``AUX``) an English word
    can take, from ``lemminflect``'s lexicon; empty for a word it does not know (names,
    acronyms, rare terms)."""
    initials = _lexicon().get(word.casefold(), "")
    return frozenset(_CLASS_OF[i] for i in initials)


_CLASS_OF = {"N": "NOUN", "V": "VERB", "A": "ADJ", "D": "ADV", "X": "AUX"}


def is_nounish(word: str) -> bool:
    """True when ``word`` can end a noun phrase: a noun, a name, an acronym or a word the
    lexicon does not know (a term of art), but not a function word, a verb form that is
    no noun ("ensuring", "associated") or an adjective that is no noun ("efficient")."""
    core = word.strip(".,;:()[]\"'")
    if not core or is_function_word(core):
        return False
    if core[0].isupper() or any(c.isdigit() for c in core):
        return True
    if "-" in core:  # "state-of-the-art", "pre-train": the last part decides
        last = core.rsplit("-", 1)[1]
        classes = word_classes(last)
        return not last or not classes or "NOUN" in classes or "ADJ" in classes
    classes = word_classes(core)
    return not classes or "NOUN" in classes or "PROPN" in classes


def ends_whole(phrase: str) -> bool:
    """True when ``phrase`` ends where a noun phrase can end (see :func:`is_nounish`). A
    word in "-ing" ends one after a noun or an adjective ("graph mining", "semantic
    parsing"), not after a preposition ("tools for ensuring").

    Example:
        >>> ends_whole("taxonomy of the challenges and benefits associated"), ends_whole("novel")
        (False, False)
        >>> ends_whole("graph mining"), ends_whole("tools for ensuring")
        (True, False)
    """
    words = phrase.split()
    if not words or words[-1].casefold() in FILLERS:
        return False
    last = words[-1].strip(".,;:()[]\"'")
    if last.endswith("ing") and len(words) > 1 and not is_function_word(words[-2]) and not is_function_word(last):
        return True
    return is_nounish(words[-1])


def _term_key(name: str) -> str:
    key = re.sub(r"\s+", "-", name.strip().casefold())
    return key


def is_field_term(name: str) -> bool:
    """True when ``name`` is a term of the field rather than a name of one paper's own:
    one of :data:`FIELD_TERMS` (a plural or hyphenated form too), or a plural acronym
    ("PTMs", "GNNs": a family of models, never one method).

    Example:
        >>> is_field_term("Large Language Models"), is_field_term("VLMs"), is_field_term("Qwen2.5")
        (True, True, False)
    """
    key = _term_key(name)
    if key in FIELD_TERMS or key.rstrip("s") in FIELD_TERMS:
        return True
    return bool(_PLURAL_ACRONYM.match(name.strip()))
