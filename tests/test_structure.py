from zhengce.ingest.structure import find_headings, parse_sections

TOP_LEVEL = [
    "一、全面从严治党，加强教育战线党的建设",
    "二、优化资源配置，夯实教育改革发展基础",
    "三、深化改革创新，增强教育发展生机活力",
    "四、强化统筹推动，促进各类教育协调发展",
    "五、突出人才强教，构筑教育人才崭新高地",
]


def test_five_top_level_sections_with_titles(document_2018):
    tops = [s.path[0] for s in document_2018.sections if len(s.path) == 1 and s.heading]
    assert tops == TOP_LEVEL


def test_numbered_headings_share_their_line_with_the_body(document_2018):
    paths = [s.path_text for s in document_2018.sections]
    assert "四、强化统筹推动，促进各类教育协调发展 > 2.义务教育优质均衡" in paths
    assert "一、全面从严治党，加强教育战线党的建设 > 1.认真抓好十九大精神学习贯彻" in paths
    section = next(s for s in document_2018.sections if s.path_text.endswith("1.认真抓好十九大精神学习贯彻"))
    assert section.body.startswith("把学深悟透党的十九大精神")
    subsections = {s.path[1] for s in document_2018.sections if len(s.path) >= 2 and s.path[0] == TOP_LEVEL[3]}
    assert subsections == {"1.学前教育公益普惠", "2.义务教育优质均衡", "3.高中教育多样特色", "4.职业教育产教融合", "5.民办教育提速规范", "6.终身教育健全完善"}


def test_inline_enumeration_items_are_sections(document_2018):
    items = [s.path[-1] for s in document_2018.sections if s.path[:2] == (TOP_LEVEL[0], "3.压实从严治党主体责任和监督责任") and len(s.path) == 3]
    assert items == ["一是抓责任落实", "二是抓监督检查", "三是抓机制建设", "四是抓政风行风", "五是抓信访查办", "六是抓宣传教育", "七是抓队伍建设", "八是抓监督执纪问责"]


def test_front_matter_is_taken_off_the_preamble(document_2018):
    assert document_2018.text.splitlines()[:3] == ["晋江市2018年教育工作要点", "晋江市教育局", "（2018年3月）"]
    preamble = document_2018.sections[0]
    assert preamble.path == ("前言",) and preamble.body.startswith("2018年，全市教育工作将以习近平新时代")


def test_all_heading_levels_on_separate_lines():
    text = "\n".join([
        "一、总体要求", "（一）指导思想", "1.坚持立德树人。全面贯彻党的教育方针。", "（1）加强德育。具体内容。",
        "①课程思政。内容。", "②实践育人。内容。", "（2）加强体育。内容。", "2.坚持改革创新。内容。",
        "（二）主要目标", "到2020年，基本实现教育现代化。", "二、重点任务", "一是扩大学位供给。内容。二是提升质量。内容。",
    ])
    paths = [s.path_text for s in parse_sections(text)]
    assert "一、总体要求 > （一）指导思想 > 1.坚持立德树人 > （1）加强德育 > ①课程思政" in paths
    assert "一、总体要求 > （一）指导思想 > 1.坚持立德树人 > （2）加强体育" in paths
    assert "一、总体要求 > （一）指导思想 > 2.坚持改革创新" in paths
    assert "一、总体要求 > （二）主要目标" in paths
    assert "二、重点任务 > 一是扩大学位供给" in paths and "二、重点任务 > 二是提升质量" in paths


def test_look_alikes_are_not_headings():
    text = "一、人才工作\n1.培训。完成第一、二期学校中青年管理干部培训。分别在1、2、4、20名以上。2.考核。内容。"
    titles = [h.title for h in find_headings(text)]
    assert titles == ["一、人才工作", "1.培训", "2.考核"]


def test_paragraphs_from_docx_or_pdf_keep_their_sections():
    # one paragraph per line, as .docx/.html/.pdf give them; a section may span several paragraphs
    text = "\n".join([
        "一、学前教育", "（一）扩大资源", "新建公办幼儿园12所。", "2019年完成验收。", "1.2万个学位年内交付。",
        "（二）提高质量", "推行幼儿园教师持证上岗制度。", "二、义务教育", "完善“积分入学”制度。",
    ])
    sections = {s.path_text: s.body for s in parse_sections(text)}
    assert sections["一、学前教育 > （一）扩大资源"] == "新建公办幼儿园12所。\n2019年完成验收。\n1.2万个学位年内交付。"
    assert sections["一、学前教育 > （二）提高质量"] == "推行幼儿园教师持证上岗制度。"
    assert sections["二、义务教育"] == "完善“积分入学”制度。"
