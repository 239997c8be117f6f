"""Year-aware retrieval: a named year is preferred; otherwise one year does not fill the top k."""
import pytest

from zhengce.library import index_corpus
from zhengce.index.embed import load_embedder
from zhengce.index.search import search
from zhengce.index.store import load_index
from zhengce.index.scope import prefer_scope, question_scope
from zhengce.index.years import diversify_years
from plans import add_plans


def query_years(query, known):
    return set(question_scope(query, known, frozenset()).years)


def test_query_years():
    assert query_years("2019年智慧教室建设目标", {2018, 2019}) == {2019}
    assert query_years("2019和2020年的学前教育", [2018, 2019, 2020]) == {2019, 2020}
    assert query_years("2017年的目标", {2018, 2019}) == set()  # not indexed: nothing to prefer
    assert query_years("新增学位20190个，覆盖率2019%", {2019}) == set()
    assert query_years("2016年8月31日前出生的孩子", {2016}) == set()  # a date, not a document's year
    assert question_scope("2017年的目标", {2018}, frozenset()).unknown_years == (2017,)


# rows 0..5 of years A A A A B B, ranked in row order with falling scores
YEARS = [2018, 2018, 2018, 2018, 2019, 2019]
RANKED = [(row, 1.0 - row / 10) for row in range(6)]


def test_prefer_years_moves_the_named_year_first_keeping_order():
    scope = question_scope("2019年", {2018, 2019}, frozenset())
    assert [r for r, _ in prefer_scope(RANKED, YEARS, [frozenset()] * 6, scope, 4)] == [4, 5, 0, 1]


def test_diversify_caps_one_year_at_60_percent_of_k():
    # k=5: cap ceil(0.6*5)=3, so rows 0,1,2 of 2018, then 2019's rows 4,5 before 2018's row 3
    assert [r for r, _ in diversify_years(RANKED, YEARS, 5)] == [0, 1, 2, 4, 5]
    # k=2: cap ceil(0.6*2)=2, so a single year may still fill a top 2
    assert [r for r, _ in diversify_years(RANKED, YEARS, 2)] == [0, 1]
    # k=3: cap 2 → 0, 1, then 4
    assert [r for r, _ in diversify_years(RANKED, YEARS, 3)] == [0, 1, 4]


def test_diversify_fills_with_waiting_passages_when_other_years_run_out():
    years = [2018, 2018, 2018, 2018, 2019]
    ranked = [(row, 1.0) for row in range(5)]
    assert [r for r, _ in diversify_years(ranked, years, 5)] == [0, 1, 2, 4, 3]
    assert [r for r, _ in diversify_years(ranked[:4], years, 3)] == [0, 1, 2]  # one year only: unchanged


@pytest.fixture
def three_years(tmp_path, corpus_copy):
    add_plans(corpus_copy)
    index_dir = tmp_path / "index"
    index_corpus(corpus_copy, index_dir, show_progress=False)
    return load_index(index_dir), load_embedder("fake:hash-384")


@pytest.mark.parametrize("mode", ["bm25", "hybrid"])
def test_a_question_naming_a_year_gets_that_year_first(three_years, mode):
    index, embedder = three_years
    hits = search(index, embedder, "2019年智慧教室建设目标", k=3, mode=mode)
    assert hits[0].year == 2019 and "80个智慧教室" in hits[0].text
    hits = search(index, embedder, "2020年智慧教室", k=3, mode=mode)
    assert hits[0].year == 2020 and "100个智慧教室" in hits[0].text


def test_no_year_named_mixes_years(three_years):
    index, embedder = three_years
    hits = search(index, embedder, "智慧教室 学前教育 覆盖率", k=5, mode="bm25")
    years = [h.year for h in hits]
    assert max(years.count(y) for y in set(years)) <= 3 and len(set(years)) >= 2, years


def test_year_filter_still_restricts(three_years):
    index, embedder = three_years
    assert {h.year for h in search(index, embedder, "智慧教室", k=5, mode="bm25", years={2020})} == {2020}


def test_without_years():
    from zhengce.index.years import without_years

    assert without_years("2019年智慧教室建设目标") == "智慧教室建设目标"
    assert without_years("2019年度的学前教育") == "学前教育"
    assert without_years("2019年") == "2019年"
