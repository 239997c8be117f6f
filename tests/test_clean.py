import re

from zhengce.ingest.clean import clean_text, join_scrape_segments, remove_page_numbers, remove_spaces_in_chinese

BOILERPLATE = [
    "上传人", "文档编号", "上传时间", "下载 相关 举报", "下载相关举报", "_第1页", "第1页 / 共16页", "共16页", "点击查看更多",
    "资源描述", "展开阅读全文", "相关资源", "相关搜索", "当前位置", "Copyright", "Wenke99", "ICP备",
    "公网安备", "公安局备案号", "本站为C2C", "网站客服", ".DOC",
]


def test_site_boilerplate_is_gone(cleaned_2018):
    for noise in BOILERPLATE:
        assert noise not in cleaned_2018, noise


def test_no_segment_marker_survives(cleaned_2018):
    assert not re.search(r"\n\s*\d{1,2}、", cleaned_2018)
    assert "\n\n" not in cleaned_2018


def test_words_cut_by_segments_are_restored(cleaned_2018):
    assert "陈埭民族中学" in cleaned_2018
    assert "有3名以上正式党员" in cleaned_2018
    assert "构建“涵盖一生、覆盖全城”的终身教育网络" in cleaned_2018


def test_page_numbers_inside_sentences_are_removed(cleaned_2018):
    assert "做好教育系统党委换届" in cleaned_2018
    assert "政治纪律执行情况" in cleaned_2018
    assert "信访件交办制度" in cleaned_2018
    assert "义务教育优质均衡发展的时间表" in cleaned_2018
    assert "支持基层学校“校对校、集团化”式地到名校深度挂职锻炼" in cleaned_2018


def test_stray_spaces_go_and_content_numbers_stay(cleaned_2018):
    assert "“三会一课”" in cleaned_2018
    assert "“第一责任人”" in cleaned_2018
    assert "约3.86万个" in cleaned_2018
    assert "选聘35名兼职人员" in cleaned_2018
    assert "宣讲员73名" in cleaned_2018
    assert "建设50个智慧教室、30个特色功能教室、20个录播教室" in cleaned_2018
    assert "提高普惠性学前教育覆盖率至83%以上" in cleaned_2018
    assert " " not in cleaned_2018


def test_chinese_punctuation_is_restored(cleaned_2018):
    assert "晋江市教育局（2018年3月）2018年，全市教育工作" in cleaned_2018
    assert "各镇（街道）教委（育）办" in cleaned_2018
    assert "," not in cleaned_2018


def test_segment_join_and_page_rules_on_small_text():
    assert join_scrape_segments("陈埭民\n\n16、族中学") == "陈埭民族中学"
    assert join_scrape_segments("有 3 名\n\n3、以上正式党员") == "有 3 名以上正式党员"
    # 3 is a count (followed by 名), 1 and 2 are page numbers in order
    assert remove_page_numbers("1 开头。教育系 2 统有 3 名党员") == " 开头。教育系  统有 3 名党员"
    assert remove_spaces_in_chinese("“ 第一责任人” 约 3.86 万个 Copyright 2018") == "“第一责任人”约3.86万个Copyright 2018"


def test_clean_text_leaves_an_ordinary_document_alone():
    text = "晋江市2019年教育工作要点\n一、总体要求\n1.坚持立德树人。全市新增学位1 000个。\n"
    cleaned = clean_text(text)
    assert cleaned.splitlines()[1] == "一、总体要求"
    assert "新增学位1 000个" in cleaned  # a space between digits is not noise in Chinese text
