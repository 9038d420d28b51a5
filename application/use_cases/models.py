"""Use cases of trainings' charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from application.errors import NotFoundError
from application.use_cases.base import UseCasesBase
from domain.training import OUTCOMES


class ModelUseCases(UseCasesBase):
    def training_chart(self, who: str | None, ref: str) -> tuple[dict[str, Any], bytes]:
        """A training and the PNG of its loss per step (the adapter's curve once trained,
        else the progress recorded so far)."""
        charts = self._drawing(who)
        found = self.models.training(who, ref)
        adapter = found["adapter"]
        points = ([(step, loss) for step, loss in enumerate(adapter["loss_curve"], 1)]
                  if adapter and len(adapter["loss_curve"]) == adapter["steps"]
                  else [(p["step"], p["loss"]) for p in found["progress"]])
        if not points:
            raise NotFoundError(f"training {found['id'][:8]} has no loss recorded yet", ref)
        title = f"{found['base']}+lora-{found['id'][:8]}: loss per step ({found['status']})"
        return found, charts.loss_curve(title, points)

    def evaluation_chart(self, who: str | None, ref: str) -> tuple[dict[str, Any], bytes]:
        """A training and the PNG of its adapter's evaluation against its base: exact,
        asked, refused and wrong plans on the same requests."""
        charts = self._drawing(who)
        found = self.models.training(who, ref)
        measured = found["evaluation"]
        if measured is None:
            raise NotFoundError(f"training {found['id'][:8]} has not been evaluated: `altlas "
                                f"models evaluate {found['id'][:8]}` measures it", ref)
        title = (f"{measured['adapter']} vs {found['base']}: {measured['sampled']} request(s) "
                 f"of {Path(measured['file']).name}")
        return found, charts.comparison(
            title, list(OUTCOMES), {
                found["base"]: [measured["base"][o] for o in OUTCOMES],
                "adapter": [measured["adapter_scores"][o] for o in OUTCOMES]}, "requests")
