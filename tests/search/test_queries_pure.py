"""Pure tests of query classification and FTS expression building (no database)."""
import pytest

from portal.errors import DomainError
from portal.search import queries
from portal.search.highlight import highlight
from portal.search.tokens import bigram_doc, query_phrases
from tests.factories import make_uscc


@pytest.fixture
def req(app):
    """Messages are translated, so the checks that raise need a request (for the locale)."""
    with app.test_request_context("/"):
        yield


@pytest.mark.parametrize("text, phrases", [
    ("华能化工", [["华能", "能化", "化工"]]),
    ("华华化工", [["华华", "华化", "化工"]]),
    ("3M中国", [["3m"], ["中国"]]),
    ("ＡＢＣ化工", [["abc"], ["化工"]]),
    ('"化工" AND NEAR(华能', [["化工"], ["and"], ["near"], ["华能"]]),
    ("化工*", [["化工"]]),
    ("-化工", [["化工"]]),
    ("化", [["z化"]]),
])
def test_query_phrases_keep_only_cjk_runs_and_ascii_words(text, phrases):
    assert query_phrases(text) == phrases


@pytest.mark.parametrize("text, expected", [
    ("华能化工", '"华能 能化 化工"'),
    ('"化工" AND NEAR(华能', '"化工" "and" "near" "华能"'),
    ("3M中国", '"3m" "中国"'),
    ('a"b', '"a" "b"'),
])
def test_fts_expression_has_one_quoted_phrase_per_run_and_no_user_syntax(text, expected):
    assert queries.fts_match_expression(query_phrases(text)) == expected


def test_fts_expression_doubles_quotes_even_though_tokens_never_hold_them():
    assert queries.fts_match_expression([['x"y']]) == '"x""y"'


def test_repeated_characters_make_a_phrase_that_needs_the_whole_run():
    doc = bigram_doc("华华化工有限公司").split()
    assert doc[:3] == ["华华", "华化", "化工"]
    assert query_phrases("华华华") == [["华华", "华华"]]


@pytest.mark.parametrize("text, phrases", [("化", [["z化"]]), ("化 工厂", [["z化"], ["工厂"]]), ("化工", [["化工"]]),
                                            ("a 化", [["a"], ["z化"]])])
def test_lone_cjk_characters_become_unigram_phrases(text, phrases):
    assert query_phrases(text) == phrases


def test_documents_end_with_one_unigram_per_distinct_character():
    doc = bigram_doc("华华化工 3M").split()
    assert doc == ["华华", "华化", "化工", "3m", "z华", "z化", "z工"]


def test_a_run_break_separates_two_runs_of_bigrams_only():
    assert bigram_doc("工鑫鑫(鑫能").split()[:4] == ["工鑫", "鑫鑫", "丨", "鑫能"]
    assert bigram_doc("华能 3M 化工").split()[:3] == ["华能", "3m", "化工"]  # a word already stands between
    assert "丨" not in {t for phrase in query_phrases("丨 工鑫鑫丨鑫能") for t in phrase}  # no query can type it


@pytest.mark.parametrize("raw, prefix", [("32", "32"), ("3208", "3208"), ("320826", "320826"),
                                         ("320000", "32"), ("320800", "3208"), ("", "")])
def test_region_codes_become_prefixes(raw, prefix):
    assert queries.region_prefix(raw) == prefix


@pytest.mark.parametrize("raw", ["3", "32a", "32080", "3208261", "'; drop"])
def test_bad_region_is_refused_with_the_field_named(req, raw):
    with pytest.raises(DomainError) as exc:
        queries.region_prefix(raw)
    assert exc.value.field == "region"


def test_classify_recognises_a_credit_code_even_with_spaces_and_full_width(req):
    code = make_uscc(5)
    spaced = " ".join([code[:6], code[6:12], code[12:]]).lower()
    assert queries.classify_query(spaced) == ("uscc", code)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert queries.classify_query(full_width) == ("uscc", code)


def test_classify_names_the_expected_check_character(req):
    code = make_uscc(6)
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    with pytest.raises(DomainError) as exc:
        queries.classify_query(wrong)
    assert f"“{code[17]}”" in exc.value.message
    assert exc.value.field == "q"


def test_classify_recognises_a_permit_number(req):
    code = make_uscc(7) + "001P"
    assert queries.classify_query(code.lower()) == ("permit", code)


@pytest.mark.parametrize("text", ["华能化工", "3M", "ABCDEFGHJKLMNPQRTU", "化"])
def test_classify_treats_other_text_as_a_name(req, text):
    assert queries.classify_query(text)[0] == "name"


@pytest.mark.parametrize("text", ['"', "*", "- ( )", "NEAR(" [4:]])
def test_a_query_with_nothing_searchable_is_refused(req, text):
    with pytest.raises(DomainError) as exc:
        queries.classify_query(text)
    assert exc.value.field == "q"


def test_cursor_round_trips():
    token = queries.encode_cursor(queries._Cursor("name", True, ["华能化工", 12]))
    cursor = queries.decode_cursor(token, "name")
    assert (cursor.forward, cursor.key) == (True, ["华能化工", 12])


@pytest.mark.parametrize("token", ["", "!!!", "bm90IGpzb24", "e30", "W10",
                                   queries.encode_cursor(queries._Cursor("relevance", True, [4, 1])),
                                   "eyJ2IjoxLCJzIjoibmFtZSIsImQiOiJhIiwiayI6W3RydWUsMV19", "x" * 2000])
def test_bad_cursors_are_refused_with_a_clear_message(req, token):
    with pytest.raises(DomainError) as exc:
        queries.decode_cursor(token, "name")
    assert exc.value.field == "cursor"
    assert "first page" in exc.value.message or "第一页" in exc.value.message


def test_highlight_escapes_html_and_marks_every_match():
    html = str(highlight("<script>华能化工</script>化工厂", "化工"))
    assert html == "&lt;script&gt;华能<mark>化工</mark>&lt;/script&gt;<mark>化工</mark>厂"


def test_highlight_matches_latin_words_case_insensitively_and_prefers_longer_runs():
    assert str(highlight("3m中国有限公司", "3M 中国有限")) == "<mark>3m</mark><mark>中国有限</mark>公司"


def test_highlight_of_a_query_with_markup_cannot_inject_markup():
    assert str(highlight("A&B", "<b>")) == "A&amp;<mark>B</mark>"
