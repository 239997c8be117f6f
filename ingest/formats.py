"""One reader per file format: bytes on disk → plain text with one paragraph per line.

Each reader raises LoadError with a one-line reason. They only extract text; cleaning and structure
parsing happen afterwards, the same for every format.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from zhengce.errors import ZhengceError
from zhengce.ingest.gongwen import page_fields

# A .docx is a zip: python-docx loads every part into memory, so the sizes the zip declares are
# checked before anything is decompressed. Python's zipfile never inflates a member beyond its
# declared size (it stops and fails the CRC check), so the declared sizes are a safe bound.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 200  # text compresses ~10×; a member inflating 200× or more is a zip bomb
CONVERT_TIMEOUT_S = 120
HAN_RE = re.compile(r"[\u3400-\u9fff]")
# A page with fewer extractable characters than this is a scan (perhaps with a typed page number or a
# stamp's text) and is OCRed; a real page of a plan holds hundreds.
MIN_PDF_CHARS_PER_PAGE = 20


class LoadError(ZhengceError):
    """A file that cannot be read; the message is one line for the user."""


# ---------------------------------------------------------------- .docx


def check_zip(path: Path, kind: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError):
        raise LoadError(f"{path.name}: not a valid {kind} file (corrupt or truncated); open and save it again in Word/WPS") from None
    total = sum(m.file_size for m in members)
    if total > MAX_UNZIPPED_BYTES:
        raise LoadError(f"{path.name}: unpacks to {total // (1024 * 1024)} MB, more than the {MAX_UNZIPPED_BYTES // (1024 * 1024)} MB limit (zip bomb?); not read")
    for member in members:
        if member.file_size > 1024 * 1024 and member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1):
            raise LoadError(f"{path.name}: member {member.filename} inflates {member.file_size // max(member.compress_size, 1)}× (zip bomb?); not read")


def read_docx(path: Path) -> str:
    """Paragraphs and tables in document order; a table row becomes one line, cells joined by " | "."""
    check_zip(path, ".docx")
    import docx
    from docx.document import Document as DocxDocument
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document: DocxDocument = docx.Document(str(path))
    except Exception as exc:  # python-docx raises KeyError/ValueError/lxml errors on broken parts
        raise LoadError(f"{path.name}: not a readable .docx ({type(exc).__name__}); open and save it again in Word/WPS") from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            lines.extend(table_lines(block))
    return "\n".join(line.strip() for line in lines if line.strip())


def table_lines(table) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if not cells or text != cells[-1]:  # merged cells repeat their text in every grid cell
                cells.append(text)
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


# ---------------------------------------------------------------- .pdf


def read_pdf(path: Path) -> list[str]:
    """The text of each page. Pages with a text layer: text boxes in reading order, the lines of one box
    joined into a wrapped paragraph. Pages without one (a scan, or the scanned pages of a mixed PDF, such
    as a signed last page) are rendered and OCRed (ingest/ocr.py).

    pdfminer.six (MIT) ships the Adobe-GB1 CMaps, so it also reads Chinese PDFs whose fonts are not
    embedded (common in government PDFs made with STSong/SimSun CID fonts).
    """
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextContainer
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psexceptions import PSException

    from zhengce.ingest.ocr import OcrError, ocr_pdf_pages

    pages: list[str] = []
    try:
        for page in extract_pages(str(path), laparams=LAParams()):
            paragraphs: list[str] = []
            for element in page:
                if isinstance(element, LTTextContainer):
                    paragraphs.extend(box_paragraphs(element))
            pages.append("\n".join(p for p in paragraphs if p))
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise LoadError(f"{path.name}: the PDF is password-protected; save an unprotected copy and add that") from None
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, AssertionError, IndexError):
        raise LoadError(f"{path.name}: not a readable PDF (corrupt or truncated)") from None
    scanned = [n for n, text in enumerate(pages, start=1) if len(re.sub(r"\s", "", text)) < MIN_PDF_CHARS_PER_PAGE]
    if scanned:
        try:
            for number, text in ocr_pdf_pages(path, scanned).items():
                pages[number - 1] = text
        except OcrError as exc:
            raise LoadError(str(exc)) from None
    chars = sum(len(re.sub(r"\s", "", text)) for text in pages)
    if chars < MIN_PDF_CHARS_PER_PAGE * max(len(pages), 1):
        found = f"only {chars} characters of text" if chars else "no text"
        raise LoadError(f"{path.name}: {found} on {len(pages)} page(s), even with OCR (blank pages, drawings or photos?)")
    return pages


def box_paragraphs(box) -> list[str]:
    """Join the lines of a text box that wrap; a line ending well short of the box's right edge ends
    its paragraph (a heading, or the last line of a paragraph), so "1.学前教育公益普惠" stays a line."""
    from pdfminer.layout import LTTextLine

    lines = [line for line in box if isinstance(line, LTTextLine) and line.get_text().strip()]
    paragraphs, current = [], ""
    for line in lines:
        text = line.get_text().strip()
        if current and re.match(r"[A-Za-z0-9]", text[:1]) and re.search(r"[A-Za-z0-9]$", current):
            current += " "  # Latin words and numbers broken across lines keep a space; Chinese needs none
        current += text
        if line.x1 < box.x1 - 1.5 * max(line.height, 1.0):
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


# ---------------------------------------------------------------- .html


def read_html(path: Path, html: str) -> str:
    """The page's main text without navigation and footers (trafilatura), its title as the first line,
    then the page's metadata lines (发布机构, 成文日期, 发文字号 …: ingest/gongwen.py reads them), which
    sites often keep outside the part trafilatura takes for the main text."""
    import trafilatura

    # default balance: favor_recall kept a site's top bar (无障碍浏览 | 长者模式 | 登录) on a typical government page
    text = trafilatura.extract(html, include_tables=True, include_comments=False, deduplicate=False)
    if not text or not text.strip():
        raise LoadError(f"{path.name}: no main text found in the HTML page")
    metadata = trafilatura.extract_metadata(html)
    title = (metadata.title or "").strip() if metadata else ""
    # Government sites append the site name: "晋江市2019年教育工作要点 - 晋江市人民政府"
    title = re.split(r"\s+[-|－—]+\s+|_|\|", title)[0].strip() if title else ""
    # and some put a column name before it: "【促进就业相关政策文件】《…》"
    title = re.sub(r"^[【\[][^】\]]{1,30}[】\]]\s*", "", title)
    title = title[1:-1] if title.startswith("《") and title.endswith("》") and title.count("《") == 1 else title
    if title and not text.lstrip().startswith(title):
        text = f"{title}\n{text}"
    metadata_lines = [line for line in page_lines(html) if page_fields(line)]
    if metadata_lines:
        first, _, rest = text.partition("\n")
        text = "\n".join([first, *metadata_lines, rest])
    return text


BLOCK_TAGS = {"div", "p", "li", "tr", "ul", "ol", "table", "section", "article", "header", "footer", "h1", "h2",
              "h3", "h4", "h5", "h6", "dd", "dt", "dl", "br", "form", "nav", "aside", "main", "center"}


def page_lines(html: str) -> list[str]:
    """The whole page as text, a line per block element (table cells joined with " | ")."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    for element in tree.xpath("//script|//style|//noscript"):
        element.drop_tree()
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
            element.text = "\n" + (element.text or "")
        elif element.tag in ("td", "th"):
            element.tail = " | " + (element.tail or "")
    return [re.sub(r"\s+", " ", line).strip() for line in tree.text_content().split("\n") if line.strip()]


# ---------------------------------------------------------------- .doc / .wps


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff_legacy_word(path: Path) -> str:
    """What a .doc/.wps really is: "ole" (Word 97-2003/WPS), "zip" (a .docx renamed), "html"
    (web pages saved as .doc, common on government sites), "rtf", or "unknown"."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.lstrip().startswith(b"{\\rtf"):
        return "rtf"
    if re.match(rb"\s*(?:\xef\xbb\xbf)?\s*<(?:!doctype html|html|\?xml|meta|head)", head, re.IGNORECASE):
        return "html"
    return "unknown"


def read_legacy_word(path: Path) -> str:
    """Word 97-2003 (.doc) and WPS (.wps) files, through antiword or LibreOffice when installed."""
    kind = sniff_legacy_word(path)
    if kind == "zip":
        return read_docx(path)
    if kind == "unknown" or kind == "html" or (kind == "rtf" and not (shutil.which("soffice") or shutil.which("libreoffice"))):
        what = {"rtf": "an RTF file", "html": "a web page"}.get(kind, "not a Word/WPS file")
        raise LoadError(f"{path.name}: {what} despite its name; open it in Word/WPS and save it as .docx")
    antiword = shutil.which("antiword")
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    errors: list[str] = []
    if antiword and path.suffix.lower() == ".doc":
        try:
            return run_antiword(antiword, path)
        except LoadError as exc:
            errors.append(str(exc))
    if soffice:
        return run_libreoffice(soffice, path)
    if errors:
        raise LoadError(errors[0] + "; LibreOffice reads more files (apt-get install libreoffice-writer-nogui)")
    package = "antiword or libreoffice-writer-nogui" if path.suffix.lower() == ".doc" else "libreoffice-writer-nogui"
    raise LoadError(f"{path.name}: reading {path.suffix.lower()} needs {package} (Debian: apt-get install {package.split(' or ')[-1]}), or save it as .docx")


def run_antiword(antiword: str, path: Path) -> str:
    try:
        done = subprocess.run(
            [antiword, "-m", "UTF-8.txt", "-w", "0", str(path)],
            capture_output=True, timeout=CONVERT_TIMEOUT_S, check=False,
        )
    except subprocess.TimeoutExpired:
        raise LoadError(f"{path.name}: antiword took longer than {CONVERT_TIMEOUT_S} s") from None
    text = done.stdout.decode("utf-8", errors="replace")
    if done.returncode != 0 or not text.strip():
        reason = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise LoadError(f"{path.name}: antiword cannot read it ({reason[0] if reason else 'no text'})")
    return text


def run_libreoffice(soffice: str, path: Path) -> str:
    # Each call gets its own profile: two LibreOffice processes sharing one profile block each other.
    with tempfile.TemporaryDirectory(prefix="zhengce-lo-") as tmp:
        profile = Path(tmp, "profile").as_uri()
        try:
            subprocess.run(
                [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                 "--convert-to", "txt:Text (encoded):UTF8", "--outdir", tmp, str(path)],
                capture_output=True, timeout=CONVERT_TIMEOUT_S, check=False, env={**os.environ, "HOME": tmp},
            )
        except subprocess.TimeoutExpired:
            raise LoadError(f"{path.name}: LibreOffice took longer than {CONVERT_TIMEOUT_S} s to convert it") from None
        out = Path(tmp, path.stem + ".txt")
        if not out.exists():
            raise LoadError(f"{path.name}: LibreOffice could not convert it (corrupt, or not a Word/WPS file)")
        return out.read_bytes().decode("utf-8-sig", errors="replace")
