"""Fixture documents written for the tests: invented 2019 and 2020 plans (虚构测试数据), and bad files.

Everything here is fictional test data; the numbers were made up to change from year to year
(普惠性学前教育覆盖率 83% in the real 2018 plan → 88% in 2019 → 90% in 2020).
"""
from __future__ import annotations

import zipfile
from pathlib import Path

FICTION = "说明：本文件为虚构测试数据，仅供zhengce测试使用，不是真实政策文件。"

PLAN_2019 = [
    "晋江市2019年教育工作要点",
    "晋江市教育局",
    "（2019年3月）",
    "2019年，全市教育工作以办好人民满意的教育为目标，推动教育高质量发展。",
    "一、优化资源配置，夯实教育发展基础",
    "1.加快推进教育信息化建设",
    "建设教育综合云平台，推动全市智慧校园建设，建设80个智慧教室、40个录播教室。开展人工智能教育试点。",
    "2.加强教育配套规划建设",
    "新建、扩建中小学校15所，新增学位1.2万个。",
    "二、强化统筹推动，促进各类教育协调发展",
    "1.学前教育公益普惠",
    "完善学前教育保障机制，提高普惠性学前教育覆盖率至88%以上。基本完成12所新建公办幼儿园建设。开展学前教育集团化办学试点，推行幼儿园教师持证上岗制度。",
    "2.义务教育优质均衡",
    "完善“积分入学”制度，消除义务教育阶段大班额。",
]
TABLE_2019 = [("重点项目", "完成时限"), ("智慧教室建设", "2019年12月"), ("公办幼儿园建设", "2019年9月")]

PLAN_2020 = [
    "晋江市2020年教育工作要点",
    "晋江市教育局",
    "（2020年2月）",
    "2020年是全面建成小康社会收官之年，全市教育工作要补齐短板、提升质量。",
    "一、优化资源配置，夯实教育发展基础",
    "1.加快推进教育信息化建设",
    "推动全市智慧校园建设，建设100个智慧教室，实现录播教室全覆盖。",
    "二、强化统筹推动，促进各类教育协调发展",
    "1.学前教育公益普惠",
    "普惠性学前教育覆盖率达到90%以上。新建公办幼儿园15所。开展学前教育集团化办学试点，实施农村幼儿园质量提升工程。",
    "2.义务教育优质均衡",
    "完善“积分入学”制度，推进集团化办学。",
]


def write_docx(path: Path, lines: list[str], table: list[tuple[str, ...]] | None = None) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.comments = FICTION
    for line in lines:
        document.add_paragraph(line)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.add_paragraph(FICTION)
    document.save(str(path))
    return path


def write_pdf(path: Path, lines: list[str], width: int = 30, gap: int = 10) -> Path:
    """A PDF with a text layer, lines wrapped at `width` characters the way a real page wraps them.

    STSong-Light is one of the Adobe CID fonts every PDF reader has: no font file is needed, and the
    file is made the way many government PDFs are (a non-embedded Chinese CID font).
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path))
    pdf.setTitle("虚构测试数据")
    y = 800
    for line in lines + [FICTION]:
        pieces = [line[i : i + width] for i in range(0, len(line), width)]
        for piece in pieces:
            pdf.setFont("STSong-Light", 12)
            pdf.drawString(50, y, piece)
            y -= 16
            if y < 60:
                pdf.showPage()
                y = 800
        y -= gap  # with a gap pdfminer puts each paragraph in its own text box; without, one box holds several
    pdf.save()
    return path


def write_scanned_pdf(path: Path, pages: int = 1, typed_cover: str = "") -> Path:
    """Pages with only drawings, like a scan without OCR; optionally a typed line on the first page."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path))
    pdf.setTitle("虚构测试数据")
    for page in range(pages):
        if page == 0 and typed_cover:
            pdf.setFont("STSong-Light", 16)
            pdf.drawString(50, 800, typed_cover)
        for i in range(20):
            pdf.rect(50, 760 - 30 * i, 400, 12, fill=1)
        pdf.showPage()
    pdf.save()
    return path


def write_html(path: Path, lines: list[str], encoding: str = "utf-8", table: list[tuple[str, ...]] | None = None) -> Path:
    """A page laid out like a county government site: top bar, menu, breadcrumb, info line, the article,
    share/print links, related links and a footer. Only the article is the document."""
    menu = "".join(f"<a href='/m{i}'>{name}</a>" for i, name in enumerate(["首页", "机构概况", "政务公开", "办事服务", "互动交流"]))
    body = "".join(f"<p>{line}</p>" for line in lines[1:])
    rows = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in table or [])
    html = (
        f"<!DOCTYPE html><html><head><meta http-equiv='Content-Type' content='text/html; charset={encoding}'>"
        f"<title>{lines[0]}_通知公告_晋江市教育局</title></head><body>"
        "<div class='top'>晋江市教育局 | 无障碍浏览 | 长者模式 | 登录</div>"
        f"<div class='menu'>{menu}</div>"
        "<div class='position'>您当前的位置：<a href='/'>首页</a> &gt; <a href='/b'>政务公开</a> &gt; 通知公告</div>"
        f"<div class='main'><div class='title'><h2>{lines[0]}</h2></div>"
        "<div class='info'>发布时间：2019-03-15 来源：晋江市教育局 浏览次数：1234 【字体：大 中 小】</div>"
        f"<div class='content' id='zoom'>{body}{'<table border=1>' + rows + '</table>' if rows else ''}<p>{FICTION}</p></div>"
        "<div class='share'>分享到：微信 微博 QQ空间</div>"
        "<div class='print'><a href='javascript:window.print()'>【打印本页】</a> <a href='javascript:window.close()'>【关闭窗口】</a></div>"
        "<div class='related'><h3>相关链接</h3><ul><li><a href='/x'>晋江市2018年教育工作要点</a></li>"
        "<li><a href='/y'>关于做好春季开学工作的通知</a></li></ul></div></div>"
        "<div class='footer'>主办单位：晋江市教育局 联系电话：0595-00000000 闽ICP备00000000号-1 闽公网安备 00000000000000号</div>"
        "</body></html>"
    )
    path.write_bytes(html.encode(encoding))
    return path


def write_text(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes("\n".join(lines + [FICTION]).encode(encoding))
    return path


def write_zip_bomb_docx(path: Path, unpacked_mb: int = 210) -> Path:
    """A .docx-shaped zip whose one member inflates to more than the limit (zeros compress ~1000×)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(unpacked_mb):
                member.write(block)
    return path


def add_plans(corpus_dir: Path) -> Path:
    """The 2019 plan as .docx (with a table) and the 2020 plan as .pdf, next to the real 2018 plan."""
    write_docx(corpus_dir / "晋江市2019年教育工作要点.docx", PLAN_2019, TABLE_2019)
    write_pdf(corpus_dir / "晋江市2020年教育工作要点.pdf", PLAN_2020)
    return corpus_dir
