"""Generative answers against a fake OpenAI-compatible server on loopback."""
import pytest

from zhengce.answer import UNCITED_MARK, answer_question
from zhengce.generate import generator_from_env, llm_config_from_env
from zhengce.errors import ZhengceError

from webkit import FakeOpenAI


def configure(monkeypatch, base_url: str, key: str = "") -> None:
    monkeypatch.setenv("ZHENGCE_LLM_BASE_URL", base_url)
    monkeypatch.setenv("ZHENGCE_LLM_MODEL", "fake-qwen")
    monkeypatch.setenv("ZHENGCE_LLM_API_KEY", key)
    monkeypatch.setenv("ZHENGCE_LLM_TIMEOUT", "5")


def test_offline_without_configuration(monkeypatch):
    monkeypatch.delenv("ZHENGCE_LLM_BASE_URL", raising=False)
    assert llm_config_from_env() is None and generator_from_env() == (None, "")
    monkeypatch.setenv("ZHENGCE_LLM_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.delenv("ZHENGCE_LLM_MODEL", raising=False)
    with pytest.raises(ZhengceError, match="ZHENGCE_LLM_MODEL"):
        llm_config_from_env()


def test_the_model_writes_from_the_passages_and_its_markers_are_checked(fake_index, monkeypatch):
    index, embedder, _ = fake_index
    reply = "来晋务工人员子女按积分入学。[1] 民办初中超额时摇号录取[1][7]。这是模型自己的补充。"
    with FakeOpenAI(reply) as server:
        configure(monkeypatch, server.base_url, key="sk-test")
        generator, name = generator_from_env()
        answer = answer_question(index, embedder, "积分入学政策", k=3, generator=generator, generator_name=name)
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "fake-qwen" and request["body"]["temperature"] == 0
    prompt = request["body"]["messages"][1]["content"]
    assert "[1] 《晋江市2018年教育工作要点》" in prompt and "问题：积分入学政策" in prompt and "[3]" in prompt
    assert answer.generated_by == "fake-qwen"
    assert answer.text == f"来晋务工人员子女按积分入学。[1] 民办初中超额时摇号录取[1]。这是模型自己的补充。{UNCITED_MARK}"
    assert [c.marker for c in answer.citations] == [1]
    assert any("[7]" in n and "已删除" in n for n in answer.notices)
    assert any("1 句没有出处" in n for n in answer.notices)


@pytest.mark.parametrize("status", [500, 401])
def test_a_failing_endpoint_falls_back_to_quotes(fake_index, monkeypatch, status):
    index, embedder, _ = fake_index
    with FakeOpenAI("", status=status) as server:
        configure(monkeypatch, server.base_url)
        generator, name = generator_from_env()
        answer = answer_question(index, embedder, "积分入学政策", generator=generator, generator_name=name)
    assert answer.generated_by == "extractive" and answer.citations
    assert any(f"HTTP {status}" in n for n in answer.notices)


def test_an_unreachable_endpoint_falls_back(fake_index, monkeypatch):
    from webkit import free_port

    index, embedder, _ = fake_index
    configure(monkeypatch, f"http://127.0.0.1:{free_port()}/v1")
    generator, name = generator_from_env()
    answer = answer_question(index, embedder, "积分入学政策", generator=generator, generator_name=name)
    assert answer.generated_by == "extractive" and any("cannot reach" in n for n in answer.notices)


def test_cli_ask_uses_the_configured_endpoint(fake_index, monkeypatch, capsys):
    import json

    from zhengce.cli import main

    _, _, index_dir = fake_index
    with FakeOpenAI("实行积分入学制度。[1]") as server:
        configure(monkeypatch, server.base_url)
        assert main(["ask", "积分入学政策", "--json", "--index-dir", str(index_dir)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["generated_by"] == "fake-qwen" and row["answer"] == "实行积分入学制度。[1]"
