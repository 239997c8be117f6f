"""End to end in headless Chromium (Debian's chromium, driven by Playwright) with the real model.

Screenshots go to tests/artifacts/ (git-ignored) for people to look at.
"""
from pathlib import Path

import pytest

from zhengce.app.web import start

from conftest import REPO
from webkit import CHROMIUM, CHROMIUM_ARGS, free_port

pytestmark = [pytest.mark.browser, pytest.mark.model]
ARTIFACTS = REPO / "tests" / "artifacts"
POINTS_SECTION_SHOWN = "四、强化统筹推动，促进各类教育协调发展 › 2.义务教育优质均衡"
ANSWER_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def app_url(real_model_library):
    demo = start(real_model_library, "127.0.0.1", free_port())
    yield demo.local_url
    demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test.sh does), or deselect with -m 'not browser'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("#zc-question textarea", timeout=30_000)
    yield page
    context.close()


def ask(page, question: str, answers_before: int = 0) -> None:
    page.fill("#zc-question textarea", question)
    page.press("#zc-question textarea", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#zc-chat [data-testid=\"bot\"]').length > n", arg=answers_before, timeout=ANSWER_TIMEOUT_MS
    )


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_a_question_gets_an_answer_citing_its_section(page):
    ask(page, "积分入学政策")
    section = page.locator("#zc-sources .zc-section", has_text=POINTS_SECTION_SHOWN).first
    section.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    bot = page.locator('#zc-chat [data-testid="bot"]').last
    assert "[1]" in bot.inner_text() and "2.义务教育优质均衡" in bot.inner_text()
    assert "积分入学" in page.locator("#zc-sources .zc-text mark").first.inner_text()
    page.locator("#zc-sources summary", has_text="查看上下文").first.click()
    assert page.locator("#zc-sources .zc-context").first.is_visible()
    shot(page, "chat-answer.png")

    ask(page, "那民办学校呢？", answers_before=1)  # a follow-up leans on the previous question
    page.locator('#zc-chat [data-testid="bot"]', has_text="结合上一个问题").wait_for(timeout=ANSWER_TIMEOUT_MS)
    # the combined question (积分入学政策 那民办学校呢？) cites both topics; some cited passage highlights 民办
    assert page.locator("#zc-sources .zc-text mark", has_text="民办").count() >= 1
    shot(page, "chat-followup.png")


def test_an_out_of_scope_question_is_answered_honestly(page):
    ask(page, "养老保险缴费比例是多少")
    page.locator("#zc-sources .zc-banner").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "没有找到" in page.locator('#zc-chat [data-testid="bot"]').last.inner_text()
    assert page.locator("#zc-sources .zc-related .zc-card").count() >= 1
    assert page.locator("#zc-sources .zc-marker").count() == 0  # nothing is cited as an answer
    shot(page, "chat-no-answer.png")


def test_markup_is_shown_as_text_and_an_empty_question_gets_a_hint(page):
    ask(page, "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>积分入学")
    user = page.locator('#zc-chat [data-testid="user"]').last
    assert "<script>" in user.inner_text()
    assert page.evaluate("window.__xss") is None
    page.click("#zc-ask")  # empty box
    page.locator('#zc-chat [data-testid="bot"]', has_text="请输入问题").wait_for(timeout=ANSWER_TIMEOUT_MS)
    shot(page, "chat-markup-and-empty.png")


def test_documents_tab_lists_documents_and_reads_by_outline(page):
    page.get_by_role("tab", name="文件 Documents").click()
    reader = page.locator("#zc-reader")
    reader.locator("h2", has_text="晋江市2018年教育工作要点").wait_for(timeout=30_000)
    shot(page, "documents.png")
    table = page.locator("#zc-doc-table")
    assert table.is_visible() and "晋江市教育局" in table.inner_text() and "35" in table.inner_text()
    heading = reader.locator("h4", has_text="2.义务教育优质均衡")
    assert not heading.is_visible() or heading.bounding_box()["y"] > 900  # further down the text
    reader.locator(".zc-outline a", has_text="2.义务教育优质均衡").click()
    page.wait_for_timeout(300)
    box, pane = heading.bounding_box(), reader.locator(".zc-doc-text").bounding_box()
    assert pane["y"] - 1 <= box["y"] < pane["y"] + pane["height"]  # the outline scrolled the text to it
    shot(page, "documents-reader.png")
