"""CJK bigram tokens (STACK.md §4): exact substring search for 2+ Chinese characters with a plain word index."""
from __future__ import annotations

import re
import unicodedata

_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[A-Za-z0-9]+")


def _runs(text: str) -> list[str]:
    return _RUNS.findall(unicodedata.normalize("NFKC", text or ""))


def bigram_doc(text: str) -> str:
    """Document tokens: every CJK bigram (single CJK characters stand alone) and lower-cased ASCII words."""
    tokens: list[str] = []
    for run in _runs(text):
        if run.isascii() or len(run) == 1:
            tokens.append(run.lower())
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return " ".join(tokens)


def query_phrases(text: str) -> list[list[str]]:
    """The query as phrases of tokens, one phrase per run: '华能化工' → [['华能', '能化', '化工']].

    A phrase of overlapping bigrams matches exactly the documents containing the run as a substring. Single CJK
    characters cannot be matched through bigrams; callers fall back to LIKE for those (see needs_like).
    """
    phrases = []
    for run in _runs(text):
        if run.isascii():
            phrases.append([run.lower()])
        elif len(run) >= 2:
            phrases.append([run[i : i + 2] for i in range(len(run) - 1)])
    return phrases


def needs_like(text: str) -> bool:
    """True when the query has a lone CJK character, which bigram tokens cannot find."""
    return any(len(run) == 1 and not run.isascii() for run in _runs(text))


def normalise_query(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()
