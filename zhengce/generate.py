"""Optional generative answers through any OpenAI-compatible chat endpoint (vLLM, Ollama, a cloud API).

Configured by environment variables; without ZHENGCE_LLM_BASE_URL nothing here runs and zhengce stays
offline. httpx (already a dependency of gradio) is enough for one POST; the openai package would add a
dependency for no gain.

    ZHENGCE_LLM_BASE_URL   e.g. http://127.0.0.1:8000/v1   (…/chat/completions is appended)
    ZHENGCE_LLM_MODEL      the model name the endpoint expects
    ZHENGCE_LLM_API_KEY    optional bearer token
    ZHENGCE_LLM_TIMEOUT    seconds, default 60
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from zhengce.errors import ZhengceError
from zhengce.index.search import Hit

SYSTEM_PROMPT = (
    "你是政策文件问答助手。只根据用户给出的编号段落回答问题，不要使用段落以外的知识。"
    "回答简洁，用中文；每句话末尾用方括号标注所依据的段落编号，例如 [1] 或 [2][3]。"
    "如果段落中没有答案，就回答：文件中没有相关内容。"
)


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    model: str
    api_key: str = ""
    timeout: float = 60.0

    @property
    def name(self) -> str:
        return self.model


def llm_config_from_env() -> LLMConfig | None:
    base_url = os.environ.get("ZHENGCE_LLM_BASE_URL", "").strip()
    if not base_url:
        return None
    model = os.environ.get("ZHENGCE_LLM_MODEL", "").strip()
    if not model:
        raise ZhengceError("ZHENGCE_LLM_BASE_URL is set but ZHENGCE_LLM_MODEL is not; set both, or neither to stay offline")
    try:
        timeout = float(os.environ.get("ZHENGCE_LLM_TIMEOUT", "60"))
    except ValueError:
        raise ZhengceError("ZHENGCE_LLM_TIMEOUT must be a number of seconds") from None
    return LLMConfig(base_url.rstrip("/"), model, os.environ.get("ZHENGCE_LLM_API_KEY", ""), timeout)


def build_messages(question: str, hits: list[Hit]) -> list[dict]:
    passages = "\n\n".join(f"[{h.rank}] 《{h.title}》 {h.year or ''} § {h.section}\n{h.text}" for h in hits)
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"段落：\n{passages}\n\n问题：{question}"},
    ]


def generate(config: LLMConfig, question: str, hits: list[Hit]) -> str:
    """The model's answer text with [n] markers (n = hit rank). Failures become one-line ZhengceErrors."""
    import httpx

    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    body = {"model": config.model, "messages": build_messages(question, hits), "temperature": 0}
    try:
        response = httpx.post(f"{config.base_url}/chat/completions", json=body, headers=headers, timeout=config.timeout)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])
    except httpx.HTTPStatusError as exc:
        raise ZhengceError(f"{config.base_url} answered HTTP {exc.response.status_code}") from None
    except httpx.HTTPError as exc:
        raise ZhengceError(f"cannot reach {config.base_url} ({type(exc).__name__})") from None
    except (ValueError, KeyError, IndexError, TypeError):
        raise ZhengceError(f"{config.base_url} did not return an OpenAI-style chat completion") from None


def generator_from_env():
    """(generator, name) for answer_question, or (None, "") when no endpoint is configured."""
    config = llm_config_from_env()
    if config is None:
        return None, ""
    return (lambda question, hits: generate(config, question, hits)), config.name
