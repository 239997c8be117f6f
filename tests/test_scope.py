"""Right document, right year, right place — on the collection fixture (14 fictional documents), with the
fake embedder: named years and places are preferred, missing ones refused, answers quote one document,
compare stays within a series, and eval runs a test set without a dev half."""
import json

import pytest

from zhengce import Library
from zhengce.eval.compare_eval import compare_accuracy
from zhengce.eval.run import run_eval
from zhengce.index.scope import Scope, lacking, named_document, not_above, prefer_scope, question_scope, same_level, without_places
from zhengce.index.search import Hit
from zhengce.cli import main

from conftest import REPO

COLLECTION = REPO / "tests" / "collection"
PLACES = frozenset({"临澜市", "石桥县", "青禾县", "东川省"})


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    import fakes

    fakes.install()
    return Library.open(corpus=COLLECTION / "files", index=tmp_path_factory.mktemp("collection") / "index", model=fakes.FAKE_MODEL_ID)


def test_places_and_years_a_question_names():
    scope = question_scope("石桥县2020年新增学前教育学位多少个", {2019, 2020}, PLACES)
    assert scope.places == {"石桥县"} and scope.years == {2020} and not scope.unknown_places
    assert question_scope("青禾縣的學前教育", {2020}, PLACES).places == {"青禾县"}  # traditional
    assert question_scope("How many places did Qinghe county add?", {2020}, PLACES).places == {"青禾县"}  # pinyin
    assert question_scope("临澜的课后服务", {2021}, PLACES).places == {"临澜市"}  # without 市
    other = question_scope("2016年泉州市幼儿园计划招生多少人", {2019}, PLACES)
    assert other.unknown_places == ("泉州市",) and other.unknown_years == (2016,)
    for generic in ("哪些学校要创建省一级达标学校", "全市新建几所幼儿园", "多少个市级实训基地", "今年本市教育想在省里先做到什么程度"):
        assert question_scope(generic, {2019}, PLACES).unknown_places == (), generic
    assert question_scope("2016年8月31日前出生的孩子", {2016}, PLACES).years == set()  # a date, not a document's year
    assert without_places("石桥县一共有多少所学校", {"石桥县"}) == "一共有多少所学校"


def hit(doc_id: str, year: int, title: str, text: str) -> Hit:
    return Hit(1, 1.0, "c", doc_id, title, year, "一、", text, 0.9, 1.0, ())


def test_what_the_collection_lacks_is_named(collection):
    index = collection.index
    plan_2019 = hit("doc01", 2019, "临澜市2019年教育工作要点", "新增学前教育学位3600个。")
    assert lacking("南川市2022年教育工作要点", index, [plan_2019]) == ["收录的文件中没有南川市的文件"]
    assert lacking("临澜市2020年新增多少义务教育学位", index, [plan_2019]) == ["收录的文件中没有临澜市2020年的文件"]
    assert "不是石桥县的文件" in lacking("石桥县新增学前教育学位", index, [plan_2019])[0]
    assert lacking("临澜市2019年新增学前教育学位", index, [plan_2019]) == []
    # a year the question names that only the passage mentions is no reason to refuse
    notice = hit("doc08", 2022, "临澜市教育局关于做好2022年义务教育招生入学工作的通知", "招收2016年8月31日前出生的儿童。")
    assert lacking("2016年出生的孩子什么时候上学", index, [notice]) == []



def test_a_named_document_kind_the_collection_has_only_for_other_years_is_lacking(collection):
    index = collection.index
    assert named_document("临澜市2022年教育工作要点的总体目标是什么", index.places) == "教育工作要点"
    assert named_document("临澜市计划新增多少学位", index.places) == ""  # 计划 as a verb names no document
    plan_2021 = hit("doc02", 2021, "临澜市2021年教育工作要点", "总体目标：办好人民满意的教育。")
    notice_2022 = hit("doc08", 2022, "临澜市教育局关于做好2022年义务教育招生入学工作的通知", "总体要求：依法招生。")
    # 临澜市 has 2022 documents, but its 教育工作要点 are of 2019, 2021 and 2023
    assert lacking("临澜市2022年教育工作要点的总体目标是什么", index, [notice_2022, plan_2021]) == [
        "收录的文件中没有临澜市2022年的教育工作要点"]
    assert lacking("临澜市2021年教育工作要点的总体目标是什么", index, [plan_2021]) == []


def test_another_years_document_of_the_place_that_speaks_of_the_year_answers(collection):
    # no 临澜市 document is of 2020, but the 2021 plan's review of 2020 is
    review = hit("doc07", 2021, "临澜市“十四五”教育事业发展规划", "2020年学前三年毛入园率达到95%。")
    assert lacking("临澜市2020年学前三年毛入园率是多少", collection.index, [review]) == []
    assert lacking("临澜市2020年教育工作要点新增多少义务教育学位", collection.index, [review]) == [
        "收录的文件中没有临澜市2020年的教育工作要点"]


def test_a_same_level_places_document_does_not_answer_for_the_named_place(collection):
    assert same_level("石桥县", "青禾县") and not same_level("石桥县", "临澜市") and not same_level("东川省", "临澜市")
    # a county's documents do not answer for the city either; the province's may apply to the city
    assert not_above("石桥县", "青禾县") and not_above("石桥县", "临澜市") and not not_above("东川省", "临澜市")
    assert not not_above("临澜市", "临澜市") and not not_above("某地", "临澜市")
    index = collection.index
    own = Hit(1, 1.0, "c1", "doc09", "石桥县人民政府关于推进学前教育普惠发展的实施意见", 2022, "一、", "城乡居民共同参与。", 0.889, 1.0, ())
    sibling = Hit(1, 1.0, "c2", "doc13", "青禾县2022年城乡居民基本医疗保险工作实施方案", 2022, "一、", "个人缴费标准。", 0.942, 5.0, ())
    reasons = lacking("石桥县城乡居民医保个人缴费标准", index, [own], outside=[sibling], place_margin=0.035)
    assert reasons and "石桥县的文件中没有相关内容" in reasons[0] and "青禾县" in reasons[0]
    close = Hit(1, 1.0, "c2", "doc13", sibling.title, 2022, "一、", "个人缴费标准。", 0.91, 5.0, ())
    assert lacking("石桥县城乡居民医保个人缴费标准", index, [own], outside=[close], place_margin=0.035) == []
    # a province's document may apply to the county: not a mismatch
    province = Hit(1, 1.0, "c3", "doc06", "东川省学生资助资金管理办法", 2021, "一、", "资助标准。", 0.95, 5.0, ())
    assert lacking("石桥县城乡居民医保个人缴费标准", index, [own], outside=[province], place_margin=0.035) == []

def test_a_named_place_and_year_are_preferred(collection):
    for query, docs in (("石桥县学前教育学位", {"doc04", "doc09"}), ("临澜市2021年新增学前教育学位", {"doc02", "doc07", "doc14"})):
        assert collection.search(query, k=3)[0].doc_id in docs, query


def test_an_answer_quotes_one_document_and_refuses_what_is_missing(collection):
    answer = collection.ask("临澜市2021年新增学前教育学位多少个")
    assert answer.answerable and {c.hit.doc_id for c in answer.citations} == {"doc02"}
    refused = collection.ask("临澜市2020年教育工作要点新增多少义务教育学位")
    assert not refused.answerable and "临澜市2020年" in refused.reason and refused.possibly_related


def test_compare_stays_within_a_series(collection):
    result = collection.compare("新增学前教育学位")
    assert result.series == "临澜市教育局·要点" and result.years == (2019, 2021, 2023)
    assert any((n.before, n.after) == ("3600个", "4500个") for n in result.numbers)
    assert all(h.doc_id in {"doc01", "doc02", "doc03"} for p in result.passages for h in p.hits)
    score = compare_accuracy(collection, COLLECTION / "changes.json")
    assert score.cross_series == 0 and score.recall >= 0.8, score.missed
    with pytest.raises(Exception, match="no series"):
        collection.compare("学前教育", series="某县·要点")


def test_eval_of_a_test_set_without_a_dev_half(collection, tmp_path, capsys):
    rows = [json.loads(line) for line in (REPO / "eval" / "testset_collection.jsonl").read_text(encoding="utf-8").splitlines()]
    heldout = tmp_path / "mine.jsonl"
    heldout.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows if r["split"] == "heldout")[:20000].rsplit("\n", 1)[0], encoding="utf-8")
    summary, results, _ = run_eval(heldout, COLLECTION / "files", ["hybrid"], index_dir=collection.index_dir)
    assert "dev" not in summary["hybrid"] and summary["hybrid"]["heldout"]["all"]["n"] > 10
    assert all(r.wrong_document is not None for r in results if r.answerable)
    code = main(["eval", "--testset", str(heldout), "--corpus", str(COLLECTION / "files"), "--index-dir", str(collection.index_dir),
                 "--modes", "hybrid", "--out", str(tmp_path / "report")])
    out = capsys.readouterr().out
    assert code == 0 and "hybrid — heldout" in out and "hybrid — dev" not in out and "wrong_doc" in out


def test_the_compare_tab_lets_people_choose_the_series(collection):
    from gradio_client import Client

    from webkit import launch_compare_tab

    demo, url = launch_compare_tab(collection)
    try:
        client = Client(url, verbose=False)
        page, data = client.predict("新增学前教育学位", ["2019", "2021", "2023"], 3, "临澜市教育局·要点", api_name="/compare")
        assert data["series"] == "临澜市教育局·要点" and "对比的系列：临澜市教育局·要点" in page
        with pytest.raises(Exception, match="not in the list of choices"):  # only indexed series can be chosen
            client.predict("新增学前教育学位", ["2019", "2021"], 3, "某县·计划", api_name="/compare")
    finally:
        demo.close()


def test_a_passage_setting_another_years_target_gives_way_to_the_named_years_own():
    # rows 0 and 1 are both from 2021 documents; row 0 (a five-year plan) sets its figure for 2025
    texts = ["到2025年建成省级高水平中职学校3所。", "中等职业学校招生6800人。", "2019年新增学位3600个。"]
    ranked = [(0, 0.9), (1, 0.8), (2, 0.7)]
    order = prefer_scope(ranked, [2021, 2021, 2019], [frozenset()] * 3, Scope(years=frozenset({2021})), 3, texts.__getitem__)
    assert [row for row, _ in order] == [1, 0, 2]
    # a question about 2025 keeps it first
    order = prefer_scope(ranked, [2021, 2021, 2019], [frozenset()] * 3, Scope(years=frozenset({2025})), 3, texts.__getitem__)
    assert order[0][0] == 0
