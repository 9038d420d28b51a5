"""Any model provider through litellm (OpenAI, Anthropic, Ollama, a llama.cpp server, …)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from application.ports import Message


class LiteLLMModel:
    def __init__(self, model: str, api_base: str | None, api_key: str | None,
                 timeout: float = 60.0) -> None:
        self.name = f"litellm:{model}"
        self._model = model
        self._api_base = api_base
        self._api_key = api_key
        self._timeout = timeout
        # OpenAI-style providers take {"type": "json_schema"}; a llama.cpp server refuses it
        # and takes {"type": "json_object", "schema": …}. The first refusal switches for good.
        self._schema_style = "json_schema"

    def complete(self, messages: Sequence[Message], *, max_tokens: int,
                 json_schema: Mapping[str, Any] | None = None, temperature: float = 0.0
                 ) -> str:
        # litellm would otherwise fetch its price list from the internet when imported
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        def call(response_format: dict[str, Any] | None) -> str:
            reply = litellm.completion(
                model=self._model, api_base=self._api_base, api_key=self._api_key,
                messages=[dict(m) for m in messages], temperature=temperature,
                max_tokens=max_tokens, timeout=self._timeout, num_retries=0,
                **({"response_format": response_format} if response_format else {}))
            return str(reply.choices[0].message.content or "")

        if json_schema is None:
            return call(None)
        if self._schema_style == "json_schema":
            try:
                return call({"type": "json_schema", "json_schema": {
                    "name": "plan", "schema": dict(json_schema)}})
            except (litellm.exceptions.BadRequestError,
                    litellm.exceptions.InternalServerError):
                self._schema_style = "json_object"
        return call({"type": "json_object", "schema": dict(json_schema)})
