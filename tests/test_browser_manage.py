"""Managing the library in headless Chromium with the real model, no restart: log in, upload a .docx and a
.pdf, see them listed, ask a question the new document answers, edit its year, remove it, see it gone.

Screenshots go to tests/artifacts/ (git-ignored) for people to look at.
"""
import pytest

from zhengce.app.web import start
from zhengce.library import Library, index_corpus

from plans import PLAN_2020, write_docx, write_pdf
from test_browser import ANSWER_TIMEOUT_MS, ask, browser, shot  # noqa: F401 (the browser fixture)
from test_web_manage import PASSWORD, SAFETY_PLAN, SAFETY_QUESTION
from webkit import free_port

pytestmark = [pytest.mark.browser, pytest.mark.model]
BUILD_TIMEOUT_MS = 180_000  # a re-index with the real model on 2 shared cores
NEW_DOC = "晋江市2021年校园食品安全工作方案"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """A writable copy of the bundled corpus indexed with the real model, served with management on."""
    from conftest import CORPUS
    from zhengce.index.default_model import DEFAULT_MODEL_ID

    root = tmp_path_factory.mktemp("manage")
    corpus = root / "corpus"
    corpus.mkdir()
    for path in CORPUS.iterdir():
        if path.is_file():
            (corpus / path.name).write_bytes(path.read_bytes())
    index_corpus(corpus, root / "index", model_id=DEFAULT_MODEL_ID, show_progress=False)
    demo = start(Library.open(corpus, root / "index", build=False), "127.0.0.1", free_port(), admin_password=PASSWORD)
    yield demo.local_url
    demo.close()


def wait_result(page, text: str) -> None:
    page.locator("#zc-manage-result", has_text=text).wait_for(timeout=BUILD_TIMEOUT_MS)


def table_has(page, title: str, year: str | None = None, present: bool = True) -> None:
    """The document table lists title (with that year in the next cell), or no longer does, within 15 s.
    Gradio's table renders its rows virtually: its text, one cell a line, is what a reader sees."""
    page.wait_for_function(
        """([title, year, present]) => {
            const cells = document.querySelector('#zc-doc-table').innerText.split('\\n').map(c => c.trim()).filter(c => c);
            const at = cells.indexOf(title);
            return (at >= 0 && (year === null || cells[at + 1] === year)) === present;
        }""", arg=[title, year, present], timeout=15_000)


def choose_document(page, doc_id: str) -> None:
    box = page.locator("#zc-edit-doc input")
    box.click()
    box.fill(doc_id)
    box.press("Enter")
    page.locator("#zc-edit-title textarea, #zc-edit-title input").first.click()  # blur: the choice is sent


@pytest.fixture
def page(browser, monkeypatch):  # noqa: F811
    monkeypatch.delenv("ZHENGCE_MODEL")  # the server reloads new generations with the model they were built with
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    shot(page, "manage-last.png")  # where the test ended, passed or not
    context.close()


def test_log_in_upload_ask_edit_remove_without_a_restart(page, app_url, tmp_path):
    docx = write_docx(tmp_path / f"{NEW_DOC}.docx", SAFETY_PLAN)
    pdf = write_pdf(tmp_path / "晋江市2020年教育工作要点.pdf", PLAN_2020)
    page.goto(app_url)
    page.get_by_role("tab", name="文件 Documents").click()
    assert not page.locator("#zc-manage").is_visible()  # nothing to manage before logging in

    page.fill("#zc-admin-password input", "not-the-password")
    page.click("#zc-login")
    page.locator("#zc-login-note", has_text="wrong admin password").wait_for(timeout=30_000)
    assert not page.locator("#zc-manage").is_visible()
    page.fill("#zc-admin-password input", PASSWORD)
    page.fill("#zc-admin-name textarea", "王老师")
    page.click("#zc-login")
    page.locator("#zc-manage").wait_for(state="visible", timeout=30_000)

    page.locator("#zc-upload input[type=file]").set_input_files([str(docx), str(pdf)])
    page.wait_for_function("() => document.querySelector('#zc-upload').textContent.includes('KB')", timeout=30_000)  # uploaded
    page.click("#zc-upload-go")
    page.locator("#zc-manage-result", has_text="updating the index").or_(
        page.locator("#zc-manage-result", has_text="索引已更新")).first.wait_for(timeout=BUILD_TIMEOUT_MS)
    shot(page, "manage-upload-progress.png")
    wait_result(page, "索引已更新")
    result = page.locator("#zc-manage-result").inner_text()
    assert f"已添加 added {NEW_DOC}.docx: 《{NEW_DOC}》 2021年 晋江市教育局" in result
    assert "已添加 added 晋江市2020年教育工作要点.pdf: 《晋江市2020年教育工作要点》 2020年" in result
    table_has(page, NEW_DOC)  # the page's refresh shows the new list within seconds
    table_has(page, "晋江市2020年教育工作要点")
    page.locator("#zc-changes", has_text="王老师").first.wait_for(timeout=15_000)
    shot(page, "manage-uploaded.png")
    page.get_by_role("tab", name="年度对比 Compare years").click()  # its year choices follow the new generation too
    page.locator("#zc-cmp-years", has_text="2020").wait_for(timeout=15_000)
    assert "2021" in page.locator("#zc-cmp-years").inner_text()
    page.get_by_text("只索引了").wait_for(state="hidden", timeout=15_000)  # the one-year note went with the one year
    shot(page, "manage-compare-years.png")

    page.get_by_role("tab", name="问答 Ask").click()
    ask(page, SAFETY_QUESTION)
    bot = page.locator('#zc-chat [data-testid="bot"]').last
    bot.locator("text=出处").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "[1]" in bot.inner_text() and f"《{NEW_DOC}》2021年" in bot.inner_text() and "每月" in bot.inner_text()
    assert page.locator("#zc-sources .zc-title", has_text=NEW_DOC).count() >= 1
    shot(page, "manage-answer-from-upload.png")

    page.get_by_role("tab", name="文件 Documents").click()
    choose_document(page, NEW_DOC)
    year = page.locator("#zc-edit-year textarea, #zc-edit-year input").first
    year.fill("2022")
    page.click("#zc-edit-save")
    wait_result(page, "已修改 edited")
    page.locator("#zc-changes", has_text="year 2021→2022").first.wait_for(timeout=15_000)
    assert "title" not in page.locator("#zc-changes tbody").inner_text()  # only the field that changed is logged
    table_has(page, NEW_DOC, "2022")
    shot(page, "manage-edited.png")

    page.click("#zc-remove")
    wait_result(page, "已删除 removed")
    table_has(page, NEW_DOC, present=False)
    page.get_by_role("tab", name="问答 Ask").click()
    ask(page, SAFETY_QUESTION, answers_before=1)
    page.wait_for_timeout(500)
    assert NEW_DOC not in page.locator('#zc-chat [data-testid="bot"]').last.inner_text()
    assert page.locator("#zc-sources .zc-title", has_text=NEW_DOC).count() == 0
    shot(page, "manage-removed.png")
