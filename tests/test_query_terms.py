from index.query_terms import expand_query, load_query_terms


def test_expansion_appends_official_words_once():
    table = {"私立": ("民办",), "孩子": ("子女", "学生"), "小孩": ("子女", "学生")}
    assert expand_query("私立初中报名的人太多了怎么办", table) == "私立初中报名的人太多了怎么办 民办"
    assert expand_query("孩子和小孩", table) == "孩子和小孩 子女 学生"
    assert expand_query("学生入学", {"学生": ("学生",)}) == "学生入学"  # nothing new to add
    assert expand_query("What about private schools?", table) == "What about private schools?"


def test_shipped_table_parses_and_has_register_pairs():
    table = load_query_terms()
    assert table["私立"] == ("民办",) and table["公立"] == ("公办",)
    assert all(official for official in table.values())
