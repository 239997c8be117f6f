"""The web page's example questions and compare topics come from the indexed documents' headings."""
from zhengce.app.examples import MAX_CHARS, example_questions, example_topics, headings


def document(doc_id, year, title, outline, text=""):
    return {"doc_id": doc_id, "year": year, "title": title, "outline": outline, "text": text or " ".join(outline)}


# Fictional documents (虚构测试数据): a two-year series, a regulation and a plan in traditional characters.
SERIES_2021 = document("a2021", 2021, "柳溪县2021年教育工作要点", [
    "一、总体目标", "二、重点任务", "二、重点任务 > （一）学前教育普及普惠", "二、重点任务 > （二）加强教师队伍建设",
    "三、保障措施", "三、保障措施 > （一）加强组织领导",
])
SERIES_2022 = document("a2022", 2022, "柳溪县2022年教育工作要点", [
    "一、总体目标", "二、重点任务", "二、重点任务 > （一）推进学前教育优质发展", "二、重点任务 > （二）教师队伍建设",
    "二、重点任务 > （三）课后服务提质", "三、保障措施",
])
RULES = document("rules", 2022, "柳溪县学生资助资金管理办法", [
    "第一章 总则", "第一章 总则 > 第一条", "第二章 资助对象和标准", "第二章 资助对象和标准 > 第五条", "第三章 资金管理",
])
TRADITIONAL = document("trad", 2021, "青柳縣2021年教育工作計劃", ["一、學前教育普惠發展", "二、義務教育均衡發展"])


def test_headings_lose_their_numbering():
    assert headings(SERIES_2021) == ["总体目标", "重点任务", "学前教育普及普惠", "加强教师队伍建设", "保障措施", "加强组织领导"]
    assert headings(RULES) == ["总则", "资助对象和标准", "资金管理"]  # 第一条 alone is no heading to ask about
    assert headings(TRADITIONAL) == ["学前教育普惠发展", "义务教育均衡发展"]


def test_questions_come_from_short_headings_of_several_documents():
    documents = [SERIES_2021, SERIES_2022, RULES, TRADITIONAL]
    questions = example_questions(documents)
    # newest first, one heading per document in turn; subjects before actions (加强…); a regulation has 规定
    assert questions == ["教师队伍建设有哪些措施？", "资助对象和标准是什么？", "学前教育普及普惠有哪些措施？", "学前教育普惠发展有哪些措施？"]
    assert example_questions(list(reversed(documents))) == questions  # the order of the index does not matter
    assert all(len(q) <= MAX_CHARS for q in questions)
    assert example_questions([]) == [] and example_questions([document("x", None, "x", [])]) == []


def test_topics_are_heading_words_of_at_least_two_years():
    topics = example_topics([SERIES_2021, SERIES_2022, RULES, TRADITIONAL])
    assert topics == ["学前教育", "教师队伍"]  # 学前教育 in 2021 (twice, one traditional) and 2022; 资金管理 in 2022 only
    assert example_topics([SERIES_2022, RULES]) == ["学前教育", "教师队伍"]  # one year: that year's heading words
    assert example_topics([]) == []


def test_the_bundled_plan_gives_sensible_examples(fake_index):
    index, _, _ = fake_index
    assert example_questions(index.documents) == [
        "学前教育公益普惠有哪些措施？", "义务教育优质均衡有哪些措施？", "高中教育多样特色有哪些措施？", "职业教育产教融合有哪些措施？",
    ]
    topics = example_topics(index.documents)  # one year: the heading words its text uses most
    assert 1 <= len(topics) <= 4 and "义务教育" in topics and "学前教育" in topics
    assert all(len(t) <= MAX_CHARS for t in topics)
