"""Every supported format reads into the same sections; bad files get a one-line reason."""
import shutil

import pytest

from zhengce.ingest.load import LoadError, read_document_text
from zhengce.ingest.pipeline import ingest_corpus, ingest_file
from plans import (
    PLAN_2019, PLAN_2020, TABLE_2019, write_docx, write_html, write_pdf, write_scanned_pdf, write_text,
    write_zip_bomb_docx,
)

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the header of Word 97-2003 and WPS files
PRESCHOOL_2019 = "二、强化统筹推动，促进各类教育协调发展 > 1.学前教育公益普惠"


def sections_of(path):
    document = ingest_file(path, {})
    return document, {s.path_text: s.body for s in document.sections}


@pytest.mark.parametrize(
    "name, write",
    [
        ("plan.txt", lambda p: write_text(p, PLAN_2019)),
        ("plan-bom.txt", lambda p: p.write_bytes(b"\xef\xbb\xbf" + "\n".join(PLAN_2019).encode("utf-8"))),
        ("plan-gbk.txt", lambda p: write_text(p, PLAN_2019, "gbk")),
        ("plan-gb18030.md", lambda p: write_text(p, PLAN_2019, "gb18030")),
        ("plan.docx", lambda p: write_docx(p, PLAN_2019, TABLE_2019)),
        ("plan.pdf", lambda p: write_pdf(p, PLAN_2019)),
        ("plan.html", lambda p: write_html(p, PLAN_2019, table=TABLE_2019)),
        ("plan-gbk.htm", lambda p: write_html(p, PLAN_2019, "gbk")),
    ],
)
def test_each_format_gives_the_same_structure_and_metadata(tmp_path, name, write):
    path = tmp_path / name
    write(path)
    document, sections = sections_of(path)
    assert document.meta.title == "晋江市2019年教育工作要点"
    assert (document.meta.year, document.meta.issuer, document.meta.date) == (2019, "晋江市教育局", "2019年3月")
    assert sections[PRESCHOOL_2019].startswith("完善学前教育保障机制，提高普惠性学前教育覆盖率至88%以上。")
    assert "一、优化资源配置，夯实教育发展基础 > 1.加快推进教育信息化建设" in sections
    for boilerplate in ("无障碍", "机构概况", "当前的位置", "浏览次数", "分享到", "打印本页", "相关链接", "ICP", "公网安备"):
        assert boilerplate not in document.text  # the HTML page's navigation, links and footer are dropped


def test_docx_tables_are_text(tmp_path):
    text = read_document_text(write_docx(tmp_path / "t.docx", PLAN_2019, TABLE_2019))
    assert "智慧教室建设 | 2019年12月" in text.splitlines()


def test_html_tables_are_text(tmp_path):
    text = read_document_text(write_html(tmp_path / "t.html", PLAN_2019, table=TABLE_2019))
    assert any("智慧教室建设" in line and "2019年12月" in line for line in text.splitlines())


def test_pdf_wrapped_lines_are_joined(tmp_path):
    # the 学前教育 paragraph is 56 characters, drawn as two lines of at most 30
    text = read_document_text(write_pdf(tmp_path / "p.pdf", PLAN_2020, width=30))
    assert "普惠性学前教育覆盖率达到90%以上。新建公办幼儿园15所。开展学前教育集团化办学试点，实施农村幼儿园质量提升工程。" in text.splitlines()


def test_pdf_without_paragraph_gaps_keeps_headings_on_their_own_lines(tmp_path):
    document, sections = sections_of(write_pdf(tmp_path / "晋江市2020年教育工作要点.pdf", PLAN_2020, width=30, gap=0))
    assert sections["二、强化统筹推动，促进各类教育协调发展 > 1.学前教育公益普惠"].startswith("普惠性学前教育覆盖率达到90%以上。新建公办幼儿园15所。")
    assert document.meta.issuer == "晋江市教育局"


def test_html_title_keeps_hyphens_inside_it(tmp_path):
    lines = ["晋江市2019-2021年学前教育行动计划"] + PLAN_2019[1:]
    assert ingest_file(write_html(tmp_path / "p.html", lines), {}).meta.title == "晋江市2019-2021年学前教育行动计划"


def test_pages_of_drawings_with_a_typed_cover_line_are_refused_after_ocr(tmp_path):
    # page 1 has a text layer (the cover line), page 2 none: it is OCRed and holds no text either
    path = write_scanned_pdf(tmp_path / "scan.pdf", pages=2, typed_cover="晋江市2019年教育工作要点（虚构测试数据）")
    with pytest.raises(LoadError, match=r"^scan\.pdf: only 22 characters of text on 2 page\(s\), even with OCR \(blank pages"):
        read_document_text(path)


def test_metadata_from_the_file_name_when_the_text_has_none(tmp_path):
    path = tmp_path / "晋江市2021年教育工作计划.txt"
    path.write_text("一、学前教育\n扩大普惠性资源。（虚构测试数据）", encoding="utf-8")
    meta = ingest_file(path, {}).meta
    assert (meta.title, meta.year) == ("晋江市2021年教育工作计划", 2021)


def test_catalog_overrides_what_is_inferred(tmp_path):
    path = write_docx(tmp_path / "x.docx", PLAN_2019)
    meta = ingest_file(path, {"title": "改过的标题", "year": 2022}).meta
    assert (meta.title, meta.year) == ("改过的标题", 2022)


def bad_files(folder):
    """name → the words its one-line reason must contain."""
    (folder / "empty.txt").write_bytes(b"")
    (folder / "junk.txt").write_bytes(bytes(range(256)) * 64)
    docx_bytes = write_docx(folder / "whole.docx", PLAN_2019).read_bytes()
    (folder / "whole.docx").unlink()
    (folder / "truncated.docx").write_bytes(docx_bytes[: len(docx_bytes) // 2])
    (folder / "notzip.docx").write_bytes("这不是docx（虚构测试数据）".encode())
    write_zip_bomb_docx(folder / "bomb.docx")
    pdf_bytes = write_pdf(folder / "whole.pdf", PLAN_2020).read_bytes()
    (folder / "whole.pdf").unlink()
    (folder / "truncated.pdf").write_bytes(pdf_bytes[:400])
    write_scanned_pdf(folder / "scan.pdf")
    with open(folder / "huge.txt", "wb") as f:
        f.truncate(51 * 1024 * 1024)  # sparse: costs no disk
    return {
        "empty.txt": "empty",
        "junk.txt": "binary",
        "truncated.docx": "corrupt or truncated",
        "notzip.docx": "corrupt or truncated",
        "bomb.docx": "zip bomb",
        "truncated.pdf": "not a readable PDF",
        "scan.pdf": "even with OCR",
        "huge.txt": "50 MB limit",
    }


def test_bad_files_get_one_line_each_and_good_files_are_still_read(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    expected = bad_files(folder)
    write_docx(folder / "good2019.docx", PLAN_2019)
    write_pdf(folder / "good2020.pdf", PLAN_2020)
    documents, problems = ingest_corpus(folder)
    assert sorted(d.meta.year for d in documents) == [2019, 2020]
    reasons = {p.file: p.reason for p in problems}
    assert set(reasons) == set(expected)
    for name, words in expected.items():
        assert words in reasons[name] and "\n" not in reasons[name] and reasons[name].startswith(name), reasons[name]


def test_same_document_id_twice_is_reported(tmp_path):
    write_docx(tmp_path / "plan.docx", PLAN_2019)
    write_pdf(tmp_path / "plan.pdf", PLAN_2020)
    documents, problems = ingest_corpus(tmp_path)
    assert len(documents) == 1 and len(problems) == 1 and "same name" in problems[0].reason


def test_legacy_word_without_converters_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    (tmp_path / "old.doc").write_bytes(OLE + b"\0" * 600)
    with pytest.raises(LoadError, match=r"apt-get install libreoffice-writer-nogui"):
        read_document_text(tmp_path / "old.doc")
    (tmp_path / "old.wps").write_bytes(OLE + b"\0" * 600)
    with pytest.raises(LoadError, match=r"\.wps needs libreoffice-writer-nogui"):
        read_document_text(tmp_path / "old.wps")


@pytest.mark.skipif(shutil.which("antiword") is None, reason="antiword not installed (scripts/test.sh installs it)")
def test_corrupt_doc_with_antiword_is_one_line(tmp_path, monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: real_which(name) if name == "antiword" else None)
    (tmp_path / "broken.doc").write_bytes(OLE + "损坏的Word文件（虚构测试数据）".encode() * 50)
    with pytest.raises(LoadError) as error:
        read_document_text(tmp_path / "broken.doc")
    assert str(error.value).startswith("broken.doc: antiword cannot read it") and "\n" not in str(error.value)


def test_doc_files_that_are_really_web_pages_or_docx(tmp_path):
    # government sites often serve web pages or .docx files under a .doc name
    html_doc = write_html(tmp_path / "page.doc", PLAN_2019, "gbk")
    assert sections_of(html_doc)[0].meta.title == "晋江市2019年教育工作要点"
    docx_doc = write_docx(tmp_path / "renamed.wps", PLAN_2019)
    assert PRESCHOOL_2019 in sections_of(docx_doc)[1]
    (tmp_path / "notes.doc").write_text("随便写的文字（虚构测试数据）", encoding="utf-8")
    with pytest.raises(LoadError, match=r"^notes\.doc: not a Word/WPS file despite its name; open it in Word/WPS and save it as \.docx$"):
        read_document_text(tmp_path / "notes.doc")
