"""The 年度对比 tab: rendering (pure) and the tab's API in a tiny Blocks that holds only this tab."""
import pytest

from zhengce.compare import Comparison, YearPassages, compare
from zhengce.library import Library, index_corpus
from zhengce.app.web_compare import comparison_html
from zhengce.index.embed import load_embedder
from zhengce.index.search import Hit
from zhengce.index.store import load_index
from plans import add_plans
from webkit import launch_compare_tab

from conftest import CORPUS


@pytest.fixture
def three_years(tmp_path, corpus_copy):
    index_dir = tmp_path / "index"
    index_corpus(add_plans(corpus_copy), index_dir, show_progress=False)
    return Library.open(corpus_copy, index_dir, build=False)


def test_years_side_by_side_with_changes_highlighted(three_years):
    index, embedder = three_years.index, three_years.embedder
    page = comparison_html(compare(index, embedder, "学前教育"))
    assert [page.index(f'data-year="{y}"') for y in (2018, 2019, 2020)] == sorted(page.index(f'data-year="{y}"') for y in (2018, 2019, 2020))
    assert "--zc-cols:3" in page
    assert 'class="zc-changed" title="普惠性学前教育覆盖率: 83%（2018）→ 88%（2019）">提高普惠性学前教育覆盖率至88%以上</span>' in page
    assert '<span class="zc-new" title="2020年新增（2019年相关段落中没有）">实施农村幼儿园质量提升工程</span>' in page
    assert '<span class="zc-old">83%</span> → <span class="zc-up">88%</span>' in page  # the summary
    assert "变化摘要" in page


def test_passage_text_is_escaped():
    hit = Hit(1, 1.0, "c", "d", "<b>标题</b>", 2019, "一、<i>节</i>", "覆盖率<script>alert(1)</script>达到88%。", None, None, ())
    page = comparison_html(Comparison("<x>", (2019,), (YearPassages(2019, (hit,)),), notice="only 2019 <y>"))
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>标题" not in page and "only 2019 &lt;y&gt;" in page


def test_tab_api_in_a_blocks_with_only_this_tab(three_years):
    from gradio_client import Client

    demo, url = launch_compare_tab(three_years)
    try:
        client = Client(url, verbose=False)
        page, data = client.predict("学前教育", ["2018", "2019"], 3, api_name="/compare")
        assert data["years"] == [2018, 2019]
        assert any((n["before"], n["after"]) == ("83%", "88%") for n in data["numbers"])
        assert "2018年" in page and "2019年" in page and "zc-changed" in page
        page, data = client.predict("  ", ["2018", "2019"], 3, api_name="/compare")
        assert data == {"error": "empty topic; e.g. zhengce compare 学前教育"} and "zc-cmp-notice" in page
        page, data = client.predict("学前教育", ["2020"], 2, api_name="/compare")
        assert data["years"] == [2020] and "one year chosen" in data["notice"] and len(data["passages"]["2020"]) == 2
    finally:
        demo.close()


def test_tab_with_one_year_explains_how_to_add_another(tmp_path):
    index_dir = tmp_path / "index"
    index_corpus(CORPUS, index_dir, show_progress=False)
    index = load_index(index_dir)
    page = comparison_html(compare(index, load_embedder(index.model_id), "学前教育"))
    assert "only 2018 is indexed" in page and "zhengce add FILE --year YEAR" in page and 'data-year="2018"' in page
