"""Property: for names made of awkward parts (repeated characters, Latin letters and digits, full-width forms,
brackets), a query of Chinese characters finds exactly the names that contain it as a substring — the
database's answer (FTS5 bigrams on SQLite, tsvector phrases on PostgreSQL, LIKE for one character) equals
Python's `in` on the NFKC-normalised name."""
import random
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.search.queries import SearchParams, search_enterprises
from tests.factories import make_enterprise

CJK = "化工华能鑫鑫有限公司"
OTHER = ["A", "b", "3", "Ｍ", "２", "（", "）", "(", "-", "·"]


def make_corpus(n: int, seed: int = 2026) -> list[str]:
    """Deterministic awkward names: runs of a small Chinese alphabet (so repeats and shared bigrams abound)
    between Latin letters, digits, full-width forms and brackets."""
    rng, corpus = random.Random(seed), set()
    while len(corpus) < n:
        parts = []
        for _ in range(rng.randint(1, 5)):
            if rng.random() < 0.6:
                parts.append("".join(rng.choice(CJK) for _ in range(rng.randint(1, 5))))
            else:
                parts.append(rng.choice(OTHER))
        name = "".join(parts)
        if any(c in CJK for c in name):
            corpus.add(name)
    return sorted(corpus)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def test_chinese_queries_have_exact_substring_semantics(app, db):
    corpus = make_corpus(40)
    for name in corpus:
        make_enterprise(name)
    db.session.commit()

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(query=st.one_of(st.text(alphabet=CJK, min_size=1, max_size=4),
                           st.sampled_from(corpus).flatmap(
                               lambda n: st.integers(0, len(n) - 1).flatmap(
                                   lambda i: st.integers(i + 1, len(n)).map(lambda j: n[i:j])))))
    def check(query):
        query = "".join(c for c in query if c in CJK)
        if not query:
            return
        with app.test_request_context("/"):
            result = search_enterprises(SearchParams(q=query, per_page=1000))
        expected = sorted(n for n in corpus if query in nfkc(n))
        assert sorted(e.name for e in result.items) == expected, query
        assert result.total == len(expected)

    check()
