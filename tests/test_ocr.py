"""Scanned documents: OCR offline, running headers dropped, lines re-joined, page numbers on every chunk
of a PDF or scan. Page images are rendered here at test time (WenQuanYi Zen Hei); only a few pages are
OCRed in the fast tests, the CER measurement on more pages is marked `model`."""
import json

import pytest

from zhengce.cli import main
from zhengce.eval.ocr import VARIANT_SETTINGS, character_error_rate, render_pages, run_ocr_eval
from zhengce.ingest import ocr
from zhengce.ingest.load import LoadError, read_document_pages
from zhengce.ingest.ocr import OcrLine, fix_confusions, paragraphs
from zhengce.ingest.pages import drop_running_lines, join_pages, page_ranges
from zhengce.ingest.pipeline import ingest_file
from zhengce.ingest.chunk import chunk_document
from plans import FICTION, PLAN_2020

FIRST_PAGE = PLAN_2020[:7]  # title … 1.加快推进教育信息化建设 and its paragraph: a page with a text layer
SCANNED_PAGE = PLAN_2020[7:] + [FICTION]  # 二、… 1.学前教育公益普惠 … 2.义务教育优质均衡: a scanned page


def write_mixed_pdf(path):
    """Page 1 typed (a text layer), page 2 an image of a printed page (no text layer)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path))
    y = 800
    for line in FIRST_PAGE:
        for piece in (line[i : i + 30] for i in range(0, len(line), 30)):
            pdf.setFont("STSong-Light", 12)
            pdf.drawString(50, y, piece)
            y -= 16
        y -= 10
    pdf.drawString(280, 40, "- 1 -")
    pdf.showPage()
    (image,) = render_pages("\n".join(SCANNED_PAGE), dpi=150)
    pdf.drawImage(ImageReader(image), 0, 0, width=595, height=842)
    pdf.showPage()
    pdf.save()
    return path


# ---------------------------------------------------------------- pages: pure functions


def test_running_headers_and_page_numbers_are_dropped_and_pages_joined():
    pages = [
        "晋江市教育局文件\n一、加强党的建设\n全面从严治党，推动教育系统党员干部原原本本学、全面系统学、持续深入学，特别是政\n- 1 -",
        "晋江市教育局文件\n治纪律和政治规矩。\n二、优化资源配置\n- 2 -",
        "晋江市教育局文件\n新建公办幼儿园15所。\n第 3 页",
    ]
    kept = drop_running_lines(pages)
    assert kept == [
        "一、加强党的建设\n全面从严治党，推动教育系统党员干部原原本本学、全面系统学、持续深入学，特别是政",
        "治纪律和政治规矩。\n二、优化资源配置",
        "新建公办幼儿园15所。",
    ]
    # page 1 ends mid-sentence: its paragraph goes on; page 2 ends with a heading: page 3 starts a line
    assert join_pages(kept) == (
        "一、加强党的建设\n全面从严治党，推动教育系统党员干部原原本本学、全面系统学、持续深入学，特别是政治纪律和政治规矩。\n"
        "二、优化资源配置\n新建公办幼儿园15所。"
    )


def test_a_line_on_one_page_only_is_kept():
    pages = ["晋江市教育局文件\n正文第一页的内容。", "正文第二页的内容。", "正文第三页的内容。"]
    assert drop_running_lines(pages)[0].startswith("晋江市教育局文件")  # the 版头 of page 1 alone is text


def test_page_ranges_follow_the_text_across_cleaning():
    pages = ["一、加强党建\n全面从严治党,推动学习。", "新建公办幼儿园 15 所。\n完善“积分入学”制度。"]
    passages = ["全面从严治党，推动学习。", "新建公办幼儿园15所。完善“积分入学”制度。", "推动学习。新建公办幼儿园", "不在文件里的话"]
    assert page_ranges(passages, pages) == [(1, 1), (2, 2), (1, 2), None]


def test_a_repeated_sentence_gets_the_page_where_it_comes_in_order():
    pages = ["加强队伍建设。其他内容一。", "其他内容二。加强队伍建设。"]
    assert page_ranges(["加强队伍建设。", "其他内容二。加强队伍建设。"], pages) == [(1, 1), (2, 2)]


# ---------------------------------------------------------------- OCR lines → paragraphs


def line(text, left, right, top):
    return OcrLine(text, left, right, top, top + 30, 0.99)


def test_wrapped_lines_are_rejoined_and_indents_start_paragraphs():
    rows = [
        line("一、优化资源配置", 160, 500, 100),  # indented, ends short: a heading
        line("推动全市智慧校园建设，建设100个智慧", 160, 1100, 140),  # indented: a new paragraph, runs to the margin
        line("教室，实现录播教室全覆盖。", 100, 520, 180),  # at the margin: the same paragraph, ends short
        line("2.义务教育优质均衡", 160, 480, 220),
    ]
    assert paragraphs(rows) == ["一、优化资源配置", "推动全市智慧校园建设，建设100个智慧教室，实现录播教室全覆盖。", "2.义务教育优质均衡"]


@pytest.mark.parametrize("read, meant", [
    ("一.全面从严治党", "一、全面从严治党"),
    ("—、加强教育战线党的建设", "一、加强教育战线党的建设"),
    ("(—)学前教育", "（一）学前教育"),
    ("二，强化统筹", "二、强化统筹"),
    ('健全“三培养"机制，完善"积分入学"制度', "健全“三培养”机制，完善“积分入学”制度"),
    ("落实“一岗双责“责任，推进”集团化”办学", "落实“一岗双责”责任，推进“集团化”办学"),
    # one quote dropped (an odd count): the round ones stay as read, a straight one follows its neighbour
    ('落实一岗双责”责任，推进“集团化"办学', "落实一岗双责”责任，推进“集团化”办学"),
    ("1.认真抓好学习", "1.认真抓好学习"),
    ("一是坚持固本强基", "一是坚持固本强基"),
])
def test_heading_markers_and_quotes_misread_by_ocr_are_repaired(read, meant):
    assert fix_confusions(read) == meant


# ---------------------------------------------------------------- real OCR, one page at a time


def test_mixed_pdf_cites_the_page_of_typed_and_scanned_passages(tmp_path):
    document = ingest_file(write_mixed_pdf(tmp_path / "晋江市2020年教育工作要点.pdf"), {})
    assert document.meta.title == "晋江市2020年教育工作要点" and document.meta.year == 2020
    assert len(document.pages) == 2 and "- 1 -" not in document.pages[0]
    pages_of = {chunk.text: chunk.pages for chunk in chunk_document(document)}
    typed = [p for t, p in pages_of.items() if "建设100个智慧教室" in t]
    scanned = [p for t, p in pages_of.items() if "新建公办幼儿园15所" in t]
    quoted = [p for t, p in pages_of.items() if "积分入学" in t]
    assert typed == [(1, 1)] and scanned == [(2, 2)] and quoted == [(2, 2)], pages_of
    sections = {s.path_text: s.body for s in document.sections}
    assert sections["二、强化统筹推动，促进各类教育协调发展 > 1.学前教育公益普惠"].startswith("普惠性学前教育覆盖率达到90%以上。")


def test_search_and_json_show_page_numbers_and_text_sources_none(tmp_path, corpus_copy, capsys):
    write_mixed_pdf(corpus_copy / "晋江市2020年教育工作要点.pdf")
    index_dir = tmp_path / "index"
    assert main(["index", "--corpus", str(corpus_copy), "--index-dir", str(index_dir), "--quiet"]) == 0
    capsys.readouterr()
    common = ["--corpus", str(corpus_copy), "--index-dir", str(index_dir)]
    assert main(["search", "新建公办幼儿园", "--year", "2020", "--k", "1", *common]) == 0
    out = capsys.readouterr().out
    assert "第2页" in out.splitlines()[1], out
    assert main(["search", "智慧教室 录播教室", "--year", "2020", "--k", "1", "--json", *common]) == 0
    (hit,) = json.loads(capsys.readouterr().out)
    assert hit["pages"] == [1, 1] and "智慧教室" in hit["text"]
    assert main(["search", "积分入学", "--year", "2018", "--k", "1", "--json", *common]) == 0
    (hit,) = json.loads(capsys.readouterr().out)
    assert hit["pages"] is None  # a text source keeps its section path only
    from zhengce.app.web import Shelf, reader_html
    from zhengce.index.store import load_index

    html = reader_html("晋江市2020年教育工作要点", Shelf.from_index(load_index(index_dir)))
    assert '<span class="zc-page">第2页</span>' in html and 'id="zc-page-2"' in html


# ---------------------------------------------------------------- bad input, no OCR needed


def test_corrupt_and_huge_images_get_one_line(tmp_path):
    from PIL import Image

    (tmp_path / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 20)
    Image.new("L", (400, 300), "white").save(tmp_path / "cut.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "cut.jpg").read_bytes()[:300])
    Image.new("1", (9000, 7000), 1).save(tmp_path / "poster.tif")  # 63 million pixels, a few kB on disk
    expected = {
        "junk.png": r"^junk\.png: not a readable image \(corrupt or truncated\)$",
        "cut.jpg": r"^cut\.jpg: not a readable image \(corrupt or truncated\)$",
        "poster.tif": r"^poster\.tif: the image is larger than 60 million pixels; scan it at 300 dpi or less$",
    }
    for name, message in expected.items():
        with pytest.raises(LoadError, match=message):
            read_document_pages(tmp_path / name)


def test_encrypted_pdf_is_refused_in_one_line(tmp_path):
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(tmp_path / "locked.pdf"), encrypt="secret")
    pdf.drawString(50, 800, "locked")
    pdf.showPage()
    pdf.save()
    with pytest.raises(LoadError, match=r"^locked\.pdf: the PDF is password-protected; save an unprotected copy"):
        read_document_pages(tmp_path / "locked.pdf")


def test_too_many_scanned_pages_are_refused_before_any_ocr(tmp_path, monkeypatch):
    from PIL import Image

    pages = [Image.new("L", (200, 280), "white") for _ in range(3)]
    pages[0].save(tmp_path / "long.pdf", save_all=True, append_images=pages[1:])
    monkeypatch.setattr(ocr, "MAX_OCR_PAGES", 2)
    monkeypatch.setattr(ocr, "ocr_image", lambda image: pytest.fail("OCR ran"))
    with pytest.raises(LoadError, match=r"^long\.pdf: 3 scanned pages, more than the 2-page limit; split it$"):
        read_document_pages(tmp_path / "long.pdf")


def test_interrupted_ocr_adds_nothing(tmp_path, corpus_copy, monkeypatch):
    from PIL import Image

    from zhengce.add import add_documents

    pages = [Image.new("L", (200, 280), "white") for _ in range(3)]
    scan = tmp_path / "incoming" / "scan.pdf"
    scan.parent.mkdir()
    pages[0].save(scan, save_all=True, append_images=pages[1:])
    seen = []

    def interrupted(image):  # Ctrl+C while page 2 is read
        seen.append(image)
        if len(seen) == 2:
            raise KeyboardInterrupt
        return "第一页的文字。"

    monkeypatch.setattr(ocr, "ocr_image", interrupted)
    before = {p.name: p.read_bytes() for p in corpus_copy.iterdir()}
    with pytest.raises(KeyboardInterrupt):
        add_documents([scan], corpus_copy, tmp_path / "index", show_progress=False)
    assert {p.name: p.read_bytes() for p in corpus_copy.iterdir()} == before  # no file, no catalog entry


# ---------------------------------------------------------------- the measurement (slow: many pages)


@pytest.mark.model
def test_ocr_character_error_rate_on_the_2018_plan_is_at_most_2_percent(tmp_path):
    from conftest import CORPUS

    results = run_ocr_eval(CORPUS, tmp_path, variants=("noisy", "pdf"), max_pages=2)
    for result in results:
        assert result.pages == 2 and result.cer <= 0.02, result
    assert (tmp_path / "corpus" / "晋江2018年教育工作要点.pdf").exists()
    assert "晋江2018年教育工作要点.pdf" in (tmp_path / "corpus" / "catalog.toml").read_text(encoding="utf-8")


def test_cer_counts_characters_not_layout():
    # one substitution (育→有) in 8 characters; line breaks and spaces are layout, not errors
    assert character_error_rate("晋江市教育工作要点"[:8], "晋江市教\n有 工作要") == pytest.approx(1 / 8)
    assert VARIANT_SETTINGS["noisy"].skew_degrees > 0


def test_each_page_is_ocred_once_and_an_interrupted_scan_resumes(tmp_path, monkeypatch):
    from PIL import Image

    pages = [Image.new("L", (200, 280), "white") for _ in range(3)]
    pages[0].save(tmp_path / "scan.pdf", save_all=True, append_images=pages[1:])
    calls = []

    def interrupted_on_page_3(image):
        calls.append(image)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return f"第{len(calls)}页的文字，足够长的一行正文内容，用来通过每页二十个字的检查。"

    monkeypatch.setattr(ocr, "ocr_image", interrupted_on_page_3)
    with pytest.raises(KeyboardInterrupt):
        read_document_pages(tmp_path / "scan.pdf")
    monkeypatch.setattr(ocr, "ocr_image", lambda image: calls.append(image) or "第3页的文字，足够长的一行正文内容，用来通过每页二十个字的检查。")
    first = read_document_pages(tmp_path / "scan.pdf")  # pages 1 and 2 come from the cache
    assert len(calls) == 4 and [p[:3] for p in first] == ["第1页", "第2页", "第3页"]
    assert read_document_pages(tmp_path / "scan.pdf") == first and len(calls) == 4  # nothing OCRed again
