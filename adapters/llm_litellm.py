"""Any model provider through litellm (OpenAI, Anthropic, Ollama, a llama.cpp server, …)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class LiteLLMModel:
    def __init__(self, model: str, api_base: str | None, api_key: str | None,
                 timeout: float = 60.0) -> None:
        self.name = f"litellm:{model}"
        self._model = model
        self._api_base = api_base
        self._api_key = api_key
        self._timeout = timeout

    def complete(self, system: str, prompt: str, *, max_tokens: int,
                 json_schema: Mapping[str, Any] | None = None) -> str:
        import litellm  # imported on first use: it is large and optional

        kwargs: dict[str, Any] = {}
        if json_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "plan", "schema": dict(json_schema), "strict": True},
            }
        reply = litellm.completion(
            model=self._model, api_base=self._api_base, api_key=self._api_key,
            messages=[{"role": "system", "content": system},
                      {"role": "user", "content": prompt}],
            temperature=0.0, max_tokens=max_tokens, timeout=self._timeout, **kwargs)
        return str(reply.choices[0].message.content or "")
