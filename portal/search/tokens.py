"""CJK bigram tokens (STACK.md §4): exact substring search for 2+ Chinese characters with a plain word index."""
from __future__ import annotations

import re
import unicodedata

_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[A-Za-z0-9]+")


def _runs(text: str) -> list[str]:
    return _RUNS.findall(unicodedata.normalize("NFKC", text or ""))


UNIGRAM_PREFIX = "z"  # "z鑫": a one-character token; can never equal a bigram (2 CJK) or an ASCII word (no CJK)


def unigram_token(char: str) -> str:
    return UNIGRAM_PREFIX + char


def bigram_doc(text: str) -> str:
    """Document tokens: every CJK bigram (single CJK characters stand alone) and lower-cased ASCII words, then
    one unigram token per distinct CJK character, after everything else so that no phrase of bigrams can run
    into them. The unigrams let a one-character query use the index instead of scanning every name."""
    tokens: list[str] = []
    chars: dict[str, None] = {}
    for run in _runs(text):
        if run.isascii() or len(run) == 1:
            tokens.append(run.lower())
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        if not run.isascii():
            chars.update(dict.fromkeys(run))
    tokens.extend(unigram_token(c) for c in chars)
    return " ".join(tokens)


def query_phrases(text: str) -> list[list[str]]:
    """The query as phrases of tokens, one phrase per run: '华能化工' → [['华能', '能化', '化工']], '鑫' → [['z鑫']].

    A phrase of overlapping bigrams matches exactly the documents containing the run as a substring; a lone CJK
    character matches through its unigram token (the character anywhere in the name or a former name).
    """
    phrases = []
    for run in _runs(text):
        if run.isascii():
            phrases.append([run.lower()])
        elif len(run) >= 2:
            phrases.append([run[i : i + 2] for i in range(len(run) - 1)])
        else:
            phrases.append([unigram_token(run)])
    return phrases


def normalise_query(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()
