import pytest

from zhengce.index.query_terms import english_terms, english_words, expand_query, load_english_terms, load_query_terms
from zhengce.errors import ZhengceError


def test_expansion_appends_official_words_once():
    table = {"私立": ("民办",), "孩子": ("子女", "学生"), "小孩": ("子女", "学生")}
    assert expand_query("私立初中报名的人太多了怎么办", table, {}) == "私立初中报名的人太多了怎么办 民办"
    assert expand_query("孩子和小孩", table, {}) == "孩子和小孩 子女 学生"
    assert expand_query("学生入学", {"学生": ("学生",)}, {}) == "学生入学"  # nothing new to add
    assert expand_query("What about private schools?", table, {}) == "What about private schools?"


def test_shipped_table_parses_and_has_register_pairs():
    table = load_query_terms()
    assert table["私立"] == ("民办",) and table["公立"] == ("公办",)
    assert all(official for official in table.values())


GLOSSARY = {
    ("kindergarten",): ("幼儿园",),
    ("public",): ("公办",),
    ("public", "kindergarten"): ("公办幼儿园",),
    ("school", "place"): ("学位",),
    ("party",): ("党",),
}


def test_english_words_drop_plural_and_possessive_endings():
    assert english_words("Kindergartens, Activities; classes Jinjiang's campus") == (
        "kindergarten", "activity", "class", "jinjiang", "campus",
    )


def test_a_hyphen_separates_english_words_in_questions_and_in_the_glossary_alike():
    assert english_words("anti-bullying pupil-teacher") == ("anti", "bullying", "pupil", "teacher")
    glossary = {english_words("bullying"): ("欺凌",), english_words("pupil-teacher ratio"): ("生师比",), english_words("teacher"): ("教师",)}
    assert english_terms("What anti-bullying measures are there?", glossary) == ["欺凌"]
    assert english_terms("the pupil teacher ratio", glossary) == english_terms("the pupil-teacher ratio", glossary) == ["生师比"]


def test_english_terms_prefer_the_longest_term():
    assert english_terms("How many new public kindergartens?", GLOSSARY) == ["公办幼儿园"]
    assert english_terms("public schools and kindergartens", GLOSSARY) == ["公办", "幼儿园"]
    assert english_terms("How many school places in 2018?", GLOSSARY) == ["学位"]
    assert english_terms("How do I apply for a passport?", GLOSSARY) == []
    assert english_terms("积分入学政策", GLOSSARY) == []


def test_english_question_gets_its_chinese_terms_appended():
    assert expand_query("How many new public kindergartens?", {}, GLOSSARY) == "How many new public kindergartens? 公办幼儿园"
    assert expand_query("公办幼儿园 public kindergarten", {}, GLOSSARY) == "公办幼儿园 public kindergarten"  # already there


def test_shipped_glossary_parses_and_maps_policy_terms():
    glossary = load_english_terms()
    assert glossary[("compulsory", "education")] == ("义务教育",)
    assert glossary[("point", "based", "admission")] == ("积分入学",)
    assert len(glossary) > 200
    assert all(chinese for chinese in glossary.values())


def test_malformed_glossary_line_is_one_clear_error(tmp_path):
    path = tmp_path / "terms.txt"
    path.write_text("# comment\nkindergarten = 幼儿园\nno chinese here\n", encoding="utf-8")
    with pytest.raises(ZhengceError, match=r"terms.txt:3: expected"):
        load_english_terms.__wrapped__(path)


def test_everyday_map_is_merged_with_the_register_pairs(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("# comment\n打工 务工\n", encoding="utf-8")
    second.write_text("打工 务工 外来务工\n学区 划片\n", encoding="utf-8")
    table = load_query_terms.__wrapped__((first, second))
    assert table == {"打工": ("务工", "外来务工"), "学区": ("划片",)}
    shipped = load_query_terms()
    assert shipped["私立"] == ("民办",) and "划片" in shipped["学区"]
    second.write_text("学区\n", encoding="utf-8")
    with pytest.raises(ZhengceError, match=r"b.txt:1: expected"):
        load_query_terms.__wrapped__((first, second))


def test_named_concepts_are_the_word_lists_terms_longest_first(monkeypatch):
    import zhengce.index.query_terms as query_terms

    monkeypatch.setattr(query_terms, "load_query_terms", lambda: {"近视": ("近视防控",), "学位不够": ("学位紧张", "新增学位")})
    monkeypatch.setattr(query_terms, "load_concepts", lambda: [{"双减", "双减政策"}])
    query_terms.concept_forms.cache_clear()
    try:
        forms = query_terms.concept_forms()
        # an official word stands for its whole entry: 学位紧张 is mentioned wherever 新增学位 is
        assert forms["学位紧张"] == {"学位不够", "学位紧张", "新增学位"} and forms["近视防控"] == {"近视", "近视防控"}
        assert query_terms.named_concepts("学生近视防控怎么做") == ["近视防控"]  # not 近视 as well
        assert query_terms.named_concepts("学位不够，近视呢") == ["学位不够", "近视"]
        assert query_terms.named_concepts("积分入学政策") == []
        assert forms["双减"] == {"双减", "双减政策"} and query_terms.named_concepts("双减政策怎么落实") == ["双减政策"]
    finally:
        query_terms.concept_forms.cache_clear()


BROAD = {"学校", "教师", "教育", "学生", "管理", "工作", "建设", "安全", "质量", "发展"}


def test_shipped_concepts_are_specific_and_each_name_is_listed_once():
    from zhengce.index.query_terms import concept_forms, load_concepts

    groups = load_concepts()
    names = [name for group in groups for name in group]
    assert len(groups) > 500 and len(names) == len(set(names))
    assert not BROAD & set(names) and all(len(name) >= 2 for name in names)
    assert {"双减", "双减政策"} <= concept_forms()["双减"]  # one concept, any of its names
