"""CJK bigram tokens (STACK.md §4): exact substring search for 2+ Chinese characters with a plain word index."""
from __future__ import annotations

import re
import unicodedata

_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[A-Za-z0-9]+")


def _runs(text: str) -> list[str]:
    return _RUNS.findall(unicodedata.normalize("NFKC", text or ""))


UNIGRAM_PREFIX = "z"  # "z鑫": a one-character token; can never equal a bigram (2 CJK) or an ASCII word (no CJK)
# "区3208" / "业26": a region or industry code prefix. Names never yield a token mixing CJK and digits (runs are
# split into CJK runs and ASCII words), so these cannot collide with name tokens either.
REGION_PREFIX, INDUSTRY_PREFIX = "区", "业"
# Between two CJK runs of bigrams ("工鑫鑫(鑫能", or a name and a former name): without it the last bigram of one
# run and the first of the next sit at adjacent positions and the phrase "鑫鑫 鑫能" would match "鑫鑫能", which is
# in neither. A lone CJK character is a token no query produces (one-character queries use unigram tokens).
RUN_BREAK = "丨"
REGION_LENGTHS, INDUSTRY_LENGTHS = (2, 4, 6), (2, 3, 4)


def unigram_token(char: str) -> str:
    return UNIGRAM_PREFIX + char


def region_token(prefix: str) -> str:
    return REGION_PREFIX + prefix


def industry_token(prefix: str) -> str:
    return INDUSTRY_PREFIX + prefix


def bigram_doc(text: str, region_code: str = "", industry_code: str = "") -> str:
    """Document tokens: every CJK bigram (single CJK characters stand alone) and lower-cased ASCII words, then
    one unigram token per distinct CJK character, then the region and industry code prefixes, after everything
    else so that no phrase of bigrams can run into them. The unigrams let a one-character query use the index
    instead of scanning every name; the code prefixes let a name search with a region or industry filter be
    answered by intersecting index lists instead of reading every name match's row."""
    tokens: list[str] = []
    chars: dict[str, None] = {}
    after_bigrams = False
    for run in _runs(text):
        if run.isascii() or len(run) == 1:
            tokens.append(run.lower())
            after_bigrams = False
        else:
            if after_bigrams:
                tokens.append(RUN_BREAK)
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
            after_bigrams = True
        if not run.isascii():
            chars.update(dict.fromkeys(run))
    tokens.extend(unigram_token(c) for c in chars)
    tokens.extend(region_token(region_code[:n]) for n in REGION_LENGTHS if len(region_code) >= n)
    tokens.extend(industry_token(industry_code[:n]) for n in INDUSTRY_LENGTHS if len(industry_code) >= n)
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
