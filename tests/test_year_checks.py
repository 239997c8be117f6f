"""Years people give must be years a policy document can have; what a document does not say reads 未注明."""
import datetime as dt

import pytest

from plans import write_text
from zhengce.app.web import Shelf, card_html, document_rows, reader_html
from zhengce.cli import main
from zhengce.errors import ZhengceError
from zhengce.index.search import Hit
from zhengce.ingest.catalog import check_year
from zhengce.ingest.pipeline import ingest_file

NEXT_YEAR = dt.date.today().year + 1
# fictional (虚构测试数据): no title line, so no year and no issuer can be inferred
UNDATED = ["一、学前教育", "新建公办幼儿园3所，新增学位900个，普惠性幼儿园覆盖率达到80%以上。", "二、义务教育", "完善积分入学制度。"]


def test_check_year_takes_1949_to_next_year():
    assert check_year(1949, "x") == 1949 and check_year(NEXT_YEAR, "x") == NEXT_YEAR and check_year("2018", "x") == 2018
    for bad in (1948, NEXT_YEAR + 1, 3000, True, "二〇一八", 2018.0):
        with pytest.raises(ZhengceError, match=rf"^plan.txt: year .* is not between 1949 and {NEXT_YEAR}; "):
            check_year(bad, "plan.txt")


def test_add_with_an_impossible_year_is_one_line_and_adds_nothing(tmp_path, corpus_copy, capsys):
    plan = write_text(tmp_path / "plan.txt", UNDATED)
    code = main(["add", str(plan), "--year", "3000", "--corpus", str(corpus_copy), "--index-dir", str(tmp_path / "index")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err == (
        f"zhengce: error: --year for plan.txt: year 3000 is not between 1949 and {NEXT_YEAR}; "
        "correct it, or leave it out to have the year inferred"
    )
    assert not (corpus_copy / "plan.txt").exists() and not (tmp_path / "index").exists()


def test_a_catalog_year_out_of_range_names_the_file(tmp_path, corpus_copy, capsys):
    catalog = corpus_copy / "catalog.toml"
    catalog.write_text(catalog.read_text("utf-8").replace("year = 2018", "year = 3000"), encoding="utf-8")
    assert main(["index", "--corpus", str(corpus_copy), "--index-dir", str(tmp_path / "index"), "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "catalog.toml: 晋江2018年教育工作要点.txt: year 3000 is not between 1949 and" in err[0]


def test_an_inferred_year_out_of_range_is_not_used(tmp_path):
    document = ingest_file(write_text(tmp_path / "某县2099年教育工作要点.txt", ["某县2099年教育工作要点", *UNDATED]), {})
    assert document.meta.year is None


def test_unknown_year_and_issuer_read_未注明_in_the_cli(tmp_path, corpus_copy, capsys):
    write_text(corpus_copy / "undated.txt", UNDATED)
    args = ["--corpus", str(corpus_copy), "--index-dir", str(tmp_path / "index")]
    assert main(["index", *args, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["search", "普惠性幼儿园覆盖率", "--doc", "undated", *args]) == 0
    out = capsys.readouterr().out
    assert "《undated》 年份未注明" in out and "年份未知" not in out
    assert main(["info", *args]) == 0
    out = capsys.readouterr().out
    assert "- undated: 《undated》 年份未注明 发文机关未注明 (" in out and "未注明: 1" in out and "None" not in out


def test_unknown_year_and_issuer_read_未注明_on_the_web_page():
    hit = Hit(rank=1, score=0.5, chunk_id="c1", doc_id="undated", title="undated", year=None, section="一、学前教育",
              text="新建公办幼儿园3所。", dense_score=0.8, bm25_score=None, matched=())
    document = {"doc_id": "undated", "title": "undated", "year": None, "issuer": "", "date": "", "chunk_count": 1}
    shelf = Shelf([document], {("undated", "一、学前教育"): [hit.text]}, {"undated": ["一、学前教育"]})
    assert '<span class="zc-year">年份未注明</span>' in card_html(hit, (), shelf, 1)
    assert "<p>年份未注明 · 发文机关未注明 · 1 个段落</p>" in reader_html("undated", shelf)
    assert document_rows([document]) == [["undated", "未注明", "未注明", "未注明", "—", "—", 1, "undated"]]
    assert document_rows([{**document, "year": 2018, "issuer": "某县教育局"}])[0][1:3] == [2018, "某县教育局"]
    for page in (card_html(hit, (), shelf, 1), reader_html("undated", shelf)):
        assert "年份未知" not in page and "None" not in page
