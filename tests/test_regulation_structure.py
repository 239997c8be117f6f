"""Regulations (第X章 / 第X节 / 第X条) and appendices (附件) in the structure parser and the chunker.
The texts are our own fictional writing."""
from zhengce.ingest.chunk import chunk_document
from zhengce.ingest.clean import clean_text
from zhengce.ingest.records import Document, DocumentMeta
from zhengce.ingest.structure import find_headings, parse_sections, render_sections, to_number
from zhengce.settings import ChunkConfig

REGULATION = [
    "青山县中小学图书馆管理办法",
    "第一章　总则",
    "第一条　为加强中小学图书馆建设，提高图书使用效益，制定本办法。",
    "第二条　本办法适用于本县公办中小学图书馆。",
    "第三条　县教育局负责全县中小学图书馆的统筹管理，学校负责本校图书馆的日常管理。",
    "第二章　馆藏与服务",
    "第一节　馆藏建设",
    "第四条　学校每年用于购置图书的经费不低于公用经费的5%。",
    "第五条　新增图书应当符合下列要求：",
    "（一）内容健康，适合学生阅读；",
    "（二）每种复本不超过5册；",
    "（三）工具书和地方文献单独登记。",
    "第六条　图书剔旧每年不超过馆藏的3%，具体程序依照本办法第七条规定执行。",
    "第七条　剔除的图书应当登记造册，经学校审核后统一处置。",
    "第二节　借阅服务",
    "第八条　图书馆每周开放时间不少于40小时，逾期未还的图书按第三章有关规定处理。",
    "第九条　学生凭借阅证借书，每次不超过3册，借期不超过30天。",
    "第三章　监督管理",
    "第十条　县教育局每学年对学校图书馆工作检查一次，检查要点见附件。",
    "第十一条　学校应当建立图书资产台账，做到账实相符。",
    "第十二条　本办法自2024年9月1日起施行。",
    "附件：图书馆年度检查要点",
    "一、馆藏情况",
    "检查图书总量、生均册数和年度新增情况。",
    "二、开放情况",
    "检查开放时间、借阅人次和阅读活动开展情况。",
]
CH1, CH2, CH3 = "第一章 总则", "第二章 馆藏与服务", "第三章 监督管理"
SEC1, SEC2 = "第一节 馆藏建设", "第二节 借阅服务"
APPENDIX = "附件 图书馆年度检查要点"
ARTICLE_PATHS = [
    (CH1, "第一条"), (CH1, "第二条"), (CH1, "第三条"),
    (CH2, SEC1, "第四条"), (CH2, SEC1, "第五条"), (CH2, SEC1, "第六条"), (CH2, SEC1, "第七条"),
    (CH2, SEC2, "第八条"), (CH2, SEC2, "第九条"),
    (CH3, "第十条"), (CH3, "第十一条"), (CH3, "第十二条"),
]


def regulation_document(text: str) -> Document:
    meta = DocumentMeta(doc_id="library", file="library.txt", title="青山县中小学图书馆管理办法", year=2024)
    return Document(meta=meta, text=text, sections=tuple(parse_sections(text)))


def test_chapters_sections_articles_items_and_appendix():
    paths = [s.path for s in parse_sections(clean_text("\n".join(REGULATION)))]
    items = [(CH2, SEC1, "第五条", item) for item in ("（一）", "（二）", "（三）")]
    assert paths == [
        ("前言",),
        (CH1,), *ARTICLE_PATHS[:3],
        (CH2,), (CH2, SEC1), *ARTICLE_PATHS[3:5], *items, *ARTICLE_PATHS[5:7], (CH2, SEC2), *ARTICLE_PATHS[7:9],
        (CH3,), *ARTICLE_PATHS[9:],
        (APPENDIX,), (APPENDIX, "一、馆藏情况"), (APPENDIX, "二、开放情况"),
    ]


def test_an_article_is_its_number_and_its_text():
    sections = {s.path[-1]: s for s in parse_sections("\n".join(REGULATION))}  # raw: ideographic spaces kept
    assert sections["第一条"].heading == "第一条"
    assert sections["第一条"].body == "为加强中小学图书馆建设，提高图书使用效益，制定本办法。"
    assert sections["第五条"].body == "新增图书应当符合下列要求："
    # "依照本办法第七条规定", "按第三章有关规定" are mentions inside a sentence, not headings
    assert sections["第六条"].body.endswith("依照本办法第七条规定执行。")
    assert sections["第八条"].body.endswith("按第三章有关规定处理。")
    assert sections["（二）"].body == "每种复本不超过5册；"


def test_a_scrape_without_line_breaks_keeps_every_article():
    # the title glued to 第一章, chapter titles glued to 第一节 and 第一条
    sections = parse_sections(clean_text("".join(REGULATION)))
    articles = [s.path for s in sections if s.path[-1].endswith("条")]
    assert articles == ARTICLE_PATHS
    assert [s.path for s in sections if len(s.path) == 1] == [("前言",), (CH1,), (CH2,), (CH3,), (APPENDIX,)]
    article_5 = next(s for s in sections if s.path[-1] == "第五条")
    # "：（一）" is not a boundary in running text: the items stay in the article's text
    assert article_5.body == "新增图书应当符合下列要求：（一）内容健康，适合学生阅读；（二）每种复本不超过5册；（三）工具书和地方文献单独登记。"
    assert [s.path[1][:6] for s in sections if s.path[0] == APPENDIX and len(s.path) == 2] == ["一、馆藏情况", "二、开放情况"]


def test_articles_are_numbered_through_the_document_and_chapters_restart_under_a_new_part():
    text = "\n".join([
        "第一编　总则", "第一章　一般规定", "第一条　甲。", "第二条　乙。", "第二章　适用范围", "第三条　丙。",
        "第二编　分则", "第一章　资助", "第一条　这不是新的第一条。", "第四条　丁。", "第二章　监督", "第五条　戊。",
    ])
    paths = [s.path for s in parse_sections(text)]
    assert ("第二编 分则", "第一章 资助", "第四条") in paths
    assert ("第二编 分则", "第二章 监督", "第五条") in paths
    assert not any(p[-1] == "第一条" and p[0] == "第二编 分则" for p in paths)  # articles never restart
    article_4 = next(s for s in parse_sections(text) if s.path[-1] == "第四条")
    assert article_4.body == "丁。"


def test_article_numbers_beyond_ninety_nine_and_in_arabic_digits():
    assert [to_number(n) for n in ("九十九", "一百", "一百零一", "一百一十", "一百二十三", "二百")] == [99, 100, 101, 110, 123, 200]

    def chinese(n: int) -> str:  # 1 … 199 the way regulations write them
        digits = "零一二三四五六七八九"
        hundreds, tens, ones = n // 100, n // 10 % 10, n % 10
        out = "一百" if hundreds else ""
        out += ("" if tens == 1 and not hundreds else digits[tens]) + "十" if tens else ("零" if hundreds and ones else "")
        return out + (digits[ones] if ones else "")

    text = "\n".join(f"第{chinese(n)}条　内容{n}。" for n in range(1, 103))
    headings = [h.title for h in find_headings(text)]
    assert len(headings) == 102 and headings[98:] == ["第九十九条", "第一百条", "第一百零一条", "第一百零二条"]
    arabic = "\n".join(f"第{n}条 内容{n}。" for n in range(1, 13))
    assert [h.title for h in find_headings(arabic)] == [f"第{n}条" for n in range(1, 13)]


def test_appendix_list_then_appendices_with_their_own_numbering():
    # the main text lists its attachments; each then follows under its own 附件 line, numbered afresh
    text = "\n".join([
        "一、目标", "新增学位600个。", "二、任务", "扩大普惠资源。", "三、保障", "加大投入。",
        "附件：1.项目表", "2.经费表", "柳川县教育局", "2024年2月18日",
        "附件1", "项目表", "一、新建项目", "城东幼儿园。", "二、改建项目", "城西小学。",
        "附件2：经费表", "一、县级经费", "800万元。",
    ])
    paths = [s.path for s in parse_sections(text)]
    assert paths == [
        ("一、目标",), ("二、任务",), ("三、保障",),
        ("附件1",), ("附件1", "一、新建项目"), ("附件1", "二、改建项目"),
        ("附件2 经费表",), ("附件2 经费表", "一、县级经费"),
    ]
    sections = {s.path: s.body for s in parse_sections(text)}
    assert sections[("三、保障",)].startswith("加大投入。\n附件：1.项目表\n2.经费表")
    assert sections[("附件1",)] == "项目表"


def test_an_appendix_line_in_the_middle_of_the_text_is_not_an_appendix():
    text = "\n".join(["一、申请", "附件1：申请表", "申请人填写附件1所列表格。", "二、审核", "逐级审核。"])
    assert [s.path for s in parse_sections(text)] == [("一、申请",), ("二、审核",)]


def test_look_alikes_of_regulation_headings_in_a_plan():
    text = "\n".join([
        "一、课后服务", "第一节课后开展托管服务。", "二、交通", "第一条公交线路年内开通。第三章内容另行制定。",
    ])
    assert [h.title for h in find_headings(text)] == ["一、课后服务", "二、交通"]


def test_articles_are_chunked_one_by_one():
    document = regulation_document(clean_text("\n".join(REGULATION)))
    chunks = chunk_document(document)
    by_section = {c.section: c.text for c in chunks}
    for path in ARTICLE_PATHS:  # short articles (第二条 is 19 characters) are not merged into a neighbour
        assert " > ".join(path) in by_section
    assert all(c.text.count("条　") <= 1 for c in chunks)
    assert by_section["第一章 总则 > 第二条"] == "第二条　本办法适用于本县公办中小学图书馆。"
    # a short article opening takes in its items, under the article
    assert by_section["第二章 馆藏与服务 > 第一节 馆藏建设 > 第五条"] == (
        "第五条　新增图书应当符合下列要求：（一）内容健康，适合学生阅读；（二）每种复本不超过5册；（三）工具书和地方文献单独登记。"
    )
    assert by_section[APPENDIX].startswith("一、馆藏情况：检查图书总量")
    for size in (50, 120, 600):  # no chunk ever holds two articles, whatever the size
        for chunk in chunk_document(document, ChunkConfig(chunk_size=size)):
            assert sum(chunk.text.count(p[-1] + "　") for p in ARTICLE_PATHS) <= 1, chunk.text


def test_a_regulation_reads_as_printed():
    lines = render_sections(parse_sections(clean_text("\n".join(REGULATION))), []).splitlines()
    assert lines[:4] == ["青山县中小学图书馆管理办法", "第一章 总则", "第一条　为加强中小学图书馆建设，提高图书使用效益，制定本办法。", "第二条　本办法适用于本县公办中小学图书馆。"]
    assert "（一）内容健康，适合学生阅读；" in lines
    assert lines[-5:] == [APPENDIX, "一、馆藏情况", "检查图书总量、生均册数和年度新增情况。", "二、开放情况", "检查开放时间、借阅人次和阅读活动开展情况。"]
