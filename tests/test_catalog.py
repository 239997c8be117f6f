import pytest

from zhengce.ingest.catalog import CatalogError, read_catalog
from zhengce.ingest.pipeline import ingest_corpus


def test_catalog_metadata_for_the_2018_plan(document_2018):
    meta = document_2018.meta
    assert (meta.title, meta.issuer, meta.date, meta.year) == ("晋江市2018年教育工作要点", "晋江市教育局", "2018年3月", 2018)
    assert "DOC" in meta.original_format and meta.source


def test_uncatalogued_documents_get_inferred_metadata(tmp_path):
    (tmp_path / "plan.txt").write_text(
        "晋江市2019年教育工作要点\n晋江市教育局\n（2019年3月）\n一、总体要求\n1.坚持立德树人。这是虚构的测试数据，用于检查推断。\n",
        encoding="utf-8",
    )
    (tmp_path / "2020年某区教育通知.txt").write_text("各学校：这是虚构的测试数据。请做好开学准备工作，确保安全。", encoding="utf-8")
    documents, problems = ingest_corpus(tmp_path)
    assert not problems
    by_id = {d.meta.doc_id: d.meta for d in documents}
    assert by_id["plan"].title == "晋江市2019年教育工作要点"
    assert (by_id["plan"].year, by_id["plan"].issuer, by_id["plan"].date) == (2019, "晋江市教育局", "2019年3月")
    assert by_id["2020年某区教育通知"].year == 2020


def test_a_misspelt_catalog_key_is_an_error(tmp_path):
    (tmp_path / "catalog.toml").write_text('[[document]]\nfile = "a.txt"\ntitel = "x"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="titel"):
        read_catalog(tmp_path)


def test_unreadable_files_are_reported_and_the_rest_ingested(corpus_copy):
    (corpus_copy / "empty.txt").write_bytes(b"")
    (corpus_copy / "junk.txt").write_bytes(bytes(range(256)) * 20)
    documents, problems = ingest_corpus(corpus_copy)
    assert [d.meta.doc_id for d in documents] == ["晋江2018年教育工作要点"]
    reasons = {p.file: p.reason for p in problems}
    assert "empty" in reasons["empty.txt"] and "junk.txt" in reasons
