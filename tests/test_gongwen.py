"""公文 metadata: title, issuer, date, 文号, type from the document and the page around it; page metadata
and scan residue never become passages. Texts here are our own fictional writing."""
import json

import pytest

from zhengce.eval.metadata import metadata_accuracy
from zhengce.ingest.catalog import make_meta
from zhengce.ingest.chunk import chunk_document
from zhengce.ingest.gongwen import page_fields, read_gongwen, split_orgs
from zhengce.ingest.pipeline import ingest_file

from conftest import REPO

COLLECTION = REPO / "tests" / "collection"
FILES = COLLECTION / "files"

NOTICE = """柳川县人民政府办公室文件
柳政办〔2024〕7号
柳川县人民政府办公室关于印发柳川县2024年教育工作
要点的通知
各乡镇人民政府，县直各单位：
《柳川县2024年教育工作要点》已经县政府研究同意，现印发给你们，请认真贯彻落实。
柳川县人民政府办公室
2024年2月18日
（此件公开发布）
- 1 -
柳川县2024年教育工作要点
一、总体目标
全年新建幼儿园2所，新增学位600个。
二、重点任务
（一）学前教育
扩大普惠性资源。
抄送：县委办公室。
柳川县人民政府办公室2024年2月19日印发"""


def test_page_metadata_lines_become_fields():
    assert page_fields("来源：柳川县教育局　　时间：2024-03-22 23:50　　浏览量：") == {"issuer": "柳川县教育局", "date_published": "2024-03-22 23:50"}
    assert page_fields("|发布机构：|柳川县教育局|成文日期：| 2024-02-20 |") == {"issuer": "柳川县教育局", "date_written": "2024-02-20"}
    assert page_fields("索 引 号：11990/2024-00041") == {}
    assert page_fields("•发文字号") == {}
    assert page_fields("发文字号：柳教〔2024〕3号") == {"doc_number": "柳教〔2024〕3号"}
    assert page_fields("来源于群众的意见要认真办理。") is None  # a sentence, not a field
    assert page_fields("一、总体目标") is None


def test_an_issuing_notice_wraps_the_document():
    doc = read_gongwen(NOTICE)
    assert doc.title == "柳川县2024年教育工作要点"
    assert doc.notice_title == "柳川县人民政府办公室关于印发柳川县2024年教育工作要点的通知"  # two lines joined
    assert doc.doc_number == "柳政办〔2024〕7号" and doc.doc_type == "要点"
    assert doc.issuer == "柳川县人民政府办公室" and doc.date == "2024年2月18日"
    assert "现印发给你们" in doc.notice and "现印发给你们" not in doc.body
    assert doc.body.startswith("一、总体目标")
    assert "抄送" not in doc.body and "印发" not in doc.body.split("\n")[-1]
    assert "- 1 -" not in doc.body and "此件公开发布" not in doc.body


def test_signature_at_the_end_gives_issuers_and_date():
    doc = read_gongwen("柳川县学生资助办法\n第一条为规范资助，制定本办法。\n柳川县教育局柳川县财政局\n2023年9月1日")
    assert doc.issuers == ["柳川县教育局", "柳川县财政局"] and doc.date == "2023年9月1日"
    assert doc.body == "第一条为规范资助，制定本办法。"
    meta = make_meta("doc06.txt", {}, doc)
    assert meta.year == 2023 and meta.issuer == "柳川县教育局" and meta.co_issuers == "柳川县财政局" and meta.doc_type == "办法"


def test_joint_signature_led_by_the_publisher_the_page_names():
    text = "柳川县2023年教育工作要点\n发布机构：柳川县教育局\n一、目标\n办好教育。\n中共柳川县委教育工作委员会\n柳川县教育局\n2023年2月1日"
    assert read_gongwen(text).issuers == ["柳川县教育局", "中共柳川县委教育工作委员会"]


def test_glued_issuers_are_split():
    assert split_orgs("中共柳川县委教育工作委员会柳川县教育局") == ["中共柳川县委教育工作委员会", "柳川县教育局"]
    assert split_orgs("柳川县人力资源和社会保障局") == ["柳川县人力资源和社会保障局"]


def test_traditional_titles_and_dates_of_the_page():
    doc = read_gongwen("青柳縣2021年教育工作意見\n發布日期：2021-04-02\n一、目標\n辦好教育。")
    assert doc.title == "青柳縣2021年教育工作意見" and doc.doc_type == "意见" and doc.date == "2021年4月2日"


def test_catalog_entries_still_override():
    doc = read_gongwen(NOTICE)
    meta = make_meta("x.txt", {"title": "改过的标题", "year": 2023, "issuer": "某局", "doc_number": "某〔2023〕1号"}, doc)
    assert (meta.title, meta.year, meta.issuer, meta.doc_number, meta.co_issuers) == ("改过的标题", 2023, "某局", "某〔2023〕1号", "")


def test_the_bundled_plan_keeps_its_front_matter(document_2018):
    assert document_2018.meta.title == "晋江市2018年教育工作要点" and document_2018.meta.issuer == "晋江市教育局"
    assert document_2018.text.startswith("晋江市2018年教育工作要点\n晋江市教育局\n（2018年3月）\n2018年，全市教育工作")


def test_metadata_of_the_collection_without_a_catalog():
    """The Done-when of 'Real documents in': ≥ 95 % per field on the fixture, file names doc01…doc14."""
    accuracy, mismatches = metadata_accuracy(FILES, COLLECTION / "truth.json")
    print(accuracy, mismatches)
    for field in ("title", "year", "issuer"):
        assert accuracy[field] >= 0.95, (field, mismatches)
    for field in ("date", "doc_number", "doc_type"):
        assert accuracy[field] >= 0.9, (field, mismatches)


@pytest.fixture(scope="module")
def collection_documents():
    return [ingest_file(path, {}) for path in sorted(FILES.iterdir())]


def test_no_chunk_is_page_metadata_scan_residue_or_a_bare_wrapper(collection_documents):
    chunks = [c for d in collection_documents for c in chunk_document(d)]
    assert len(chunks) > 100
    for chunk in chunks:
        assert page_fields(chunk.text) is None, chunk.text
        for junk in ("浏览量", "浏览次数", "索引号", "扫一扫", "- 1 -", "此件公开发布", "现印发给你们", "抄送："):
            assert junk not in chunk.text, (chunk.doc_id, chunk.text[:60])
        assert not chunk.text.startswith(("》", "的通知", "20203"))


def test_the_issuing_notice_is_its_own_section_in_the_reader(collection_documents):
    wrapped = next(d for d in collection_documents if d.meta.notice_title.startswith("石桥县人民政府办公室关于印发"))
    assert wrapped.sections[0].path == ("印发通知",) and "现印发给你们" in wrapped.text
    assert wrapped.meta.title == "石桥县2020年教育工作计划"


def test_truth_file_is_complete():
    truth = json.loads((COLLECTION / "truth.json").read_text(encoding="utf-8"))
    assert sorted(row["file"] for row in truth) == sorted(p.name for p in FILES.iterdir())


def test_a_catalog_issuer_that_confirms_a_signer_keeps_the_co_issuers():
    doc = read_gongwen("柳川县2023年教育工作要点\n一、目标\n办好教育。\n中共柳川县委教育工作委员会\n柳川县教育局\n2023年2月1日")
    meta = make_meta("doc03.html", {"issuer": "柳川县教育局"}, doc)  # what zhengce add wrote into the catalog
    assert (meta.issuer, meta.co_issuers) == ("柳川县教育局", "中共柳川县委教育工作委员会")
