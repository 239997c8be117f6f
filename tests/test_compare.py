"""zhengce compare: passages per year, changed figures, new and dropped measures."""
import json

import pytest

from zhengce.cli import main
from zhengce.compare import compare, figures
from zhengce.library import index_corpus
from zhengce.index.embed import load_embedder
from zhengce.index.search import Hit
from zhengce.index.store import load_index
from plans import add_plans

from conftest import CORPUS


def hit(text, section="一、学前教育"):
    return Hit(1, 1.0, "c", "d", "t", 2019, section, text, None, None, ())


def test_figures_take_subject_value_and_unit():
    found = figures([hit("提高普惠性学前教育覆盖率至83%以上。基本完成10所新建公办幼儿园建设，建设50个智慧教室、20个录播教室。")])
    assert [(f.subject, f.value, f.unit) for f in found] == [
        ("普惠性学前教育覆盖率", "83", "%"),
        ("新建公办幼儿园建设", "10", "所"),
        ("建设智慧教室", "50", "个"),
        ("录播教室", "20", "个"),
    ]
    assert figures([hit("2019年3月，召开会议。")]) == []  # dates are not targets


@pytest.fixture
def three_years(tmp_path, corpus_copy):
    add_plans(corpus_copy)
    index_dir = tmp_path / "index"
    index_corpus(corpus_copy, index_dir, show_progress=False)
    return index_dir


def test_compare_preschool_across_three_years(three_years):
    index = load_index(three_years)
    result = compare(index, load_embedder(index.model_id), "学前教育")
    assert result.years == (2018, 2019, 2020) and not result.notice
    assert all(p.hits[0].section.endswith("1.学前教育公益普惠") for p in result.passages)
    numbers = {(n.year_before, n.year_after, n.subject, n.before, n.after) for n in result.numbers}
    assert (2018, 2019, "普惠性学前教育覆盖率", "83%", "88%") in numbers
    assert (2019, 2020, "普惠性学前教育覆盖率", "88%", "90%") in numbers
    assert (2018, 2019, "新建公办幼儿园建设", "10所", "12所") in numbers
    measures = {(m.kind, m.year, m.clause) for m in result.measures}
    assert ("new", 2019, "开展学前教育集团化办学试点") in measures
    assert ("new", 2020, "实施农村幼儿园质量提升工程") in measures
    assert ("dropped", 2019, "推行幼儿园教师持证上岗制度") in measures  # in 2019, not in 2020
    # present in both years (same wording): never reported as new or dropped
    assert not any("开展学前教育集团化办学试点" == m.clause and m.year == 2020 for m in result.measures)


def test_compare_two_chosen_years_only(three_years):
    index = load_index(three_years)
    result = compare(index, load_embedder(index.model_id), "学前教育", years=[2020, 2018])
    assert result.years == (2018, 2020)
    assert {(n.before, n.after) for n in result.numbers if n.subject == "普惠性学前教育覆盖率"} == {("83%", "90%")}


def test_one_year_indexed_says_how_to_add_another(tmp_path):
    index_dir = tmp_path / "index"
    index_corpus(CORPUS, index_dir, show_progress=False)
    index = load_index(index_dir)
    result = compare(index, load_embedder(index.model_id), "学前教育")
    assert result.years == (2018,) and result.passages[0].hits and not result.numbers
    assert "only 2018 is indexed" in result.notice and "zhengce add FILE --year" in result.notice


def test_cli_compare_json_and_text(three_years, capsys):
    assert main(["compare", "学前教育", "--years", "2018,2019", "--json", "--index-dir", str(three_years)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["years"] == [2018, 2019] and set(data["passages"]) == {"2018", "2019"}
    assert any(
        n["subject"] == "普惠性学前教育覆盖率" and (n["before"], n["after"], n["year_after"]) == ("83%", "88%", 2019) for n in data["numbers"]
    )
    assert main(["compare", "学前教育", "--years", "2018,2019", "--index-dir", str(three_years)]) == 0
    out = capsys.readouterr().out
    assert "== 2019年 ==" in out and "2018→2019  普惠性学前教育覆盖率: 83% → 88%" in out
    assert "2018→2019  新增 new in 2019: 开展学前教育集团化办学试点" in out


def test_cli_compare_unknown_year_is_one_line(three_years, capsys):
    assert main(["compare", "学前教育", "--years", "2017,2019", "--index-dir", str(three_years)]) == 1
    assert capsys.readouterr().err.strip() == "zhengce: error: no documents from 2017 in the index; years indexed: 2018, 2019, 2020"
    assert main(["compare", "学前教育", "--years", "2018,x", "--index-dir", str(three_years)]) == 1
    assert "--years takes comma-separated years" in capsys.readouterr().err
