"""Runs ``llm`` steps: summarise or explain the outputs of earlier steps."""

from __future__ import annotations

import asyncio
import time

from application.ports import LanguageModel, StepContext, StepOutcome
from domain.plan import PlanStep

PER_STEP_CHARS = 2_000
SYSTEM = ("You are an SRE assistant. Answer briefly and concretely from the command outputs "
          "given; say so when they do not show something.")


class LLMExecutor:
    def __init__(self, model: LanguageModel | None, max_tokens: int = 256) -> None:
        self._model = model
        self._max_tokens = max_tokens

    async def execute(self, step: PlanStep, context: StepContext) -> StepOutcome:
        started = time.monotonic()
        if not context.outputs:
            return StepOutcome(False, None, "", "an llm step needs earlier steps to read", 0)
        if self._model is None:
            return StepOutcome(True, None, _digest(context), None, _ms_since(started),
                               {"model": "none"})
        outputs = "\n\n".join(f"## {sid}\n{text[:PER_STEP_CHARS]}"
                              for sid, text in context.outputs.items())
        prompt = f"{step.action}\n\nOutputs:\n{outputs}"
        try:
            reply = await asyncio.wait_for(
                asyncio.to_thread(self._model.complete,
                                  [{"role": "system", "content": SYSTEM},
                                   {"role": "user", "content": prompt}],
                                  max_tokens=self._max_tokens),
                timeout=step.timeout_s)
        except TimeoutError:
            return StepOutcome(False, None, "", f"timed out after {step.timeout_s:g}s",
                               _ms_since(started))
        except Exception as e:  # a provider's failure is this step's failure, with its reason
            return StepOutcome(False, None, "", f"{self._model.name} failed: {e}",
                               _ms_since(started))
        return StepOutcome(True, None, reply.strip(), None, _ms_since(started),
                           {"model": self._model.name})


def _digest(context: StepContext) -> str:
    """Without a model: the first lines and the facts of each earlier step, labelled so."""
    lines = ["No language model is configured; a digest of the earlier steps instead."]
    for sid, text in context.outputs.items():
        facts = context.facts.get(sid, {})
        shown = ", ".join(f"{k}={v}" for k, v in facts.items() if k != "lines")
        lines.append(f"{sid}: {shown}" if shown else f"{sid}:")
        lines.extend(f"  {line}" for line in text.strip().splitlines()[:5])
    return "\n".join(lines)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
