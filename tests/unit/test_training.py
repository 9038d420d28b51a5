"""A training's rules: enough examples, sane hyperparameters, one start, progress only while
running, one end."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from domain.base import EventMeta
from domain.errors import ConflictError, InvalidInputError
from domain.training import DatasetTooSmallError, Training

META = EventMeta.for_command("altlas:trainer")


def requested(**overrides: Any) -> Training:
    fields: dict[str, Any] = {
        "base": "smollm2", "base_sha256": "b" * 64, "dataset": "/d/set.jsonl",
        "dataset_sha256": "d" * 64, "examples": 297, "by_source": {"dev": 297},
        "hyperparameters": {}, "requester": "carol", "approval_id": uuid4(), "minimum": 50,
        "meta": META, **overrides}
    return Training.request(uuid4(), **fields)


def test_too_few_examples_are_refused_with_the_count_still_needed() -> None:
    with pytest.raises(DatasetTooSmallError, match=r"has 12 example\(s\); training needs at "
                                                   r"least 50 \(38 more\)"):
        requested(examples=12)


@pytest.mark.parametrize(("given", "why"), [
    ({"rank": 0}, "hyperparameter rank is 0"),
    ({"lr": -1}, "hyperparameter lr is -1"),
    ({"dropout": "high"}, "hyperparameter dropout is 'high'"),
    ({"epochs": True}, "hyperparameter epochs is True"),
    ({"batch": 8}, "unknown hyperparameter"),
])
def test_bad_hyperparameters_are_refused_by_name(given: dict[str, Any], why: str) -> None:
    with pytest.raises(InvalidInputError, match=why):
        requested(hyperparameters=given)


def test_the_defaults_are_the_issue_s_and_a_training_starts_once() -> None:
    training = requested(hyperparameters={"max_steps": 3})
    assert training.hyperparameters == {"rank": 8, "alpha": 32, "dropout": 0.05, "lr": 2e-4,
                                        "epochs": 1, "max_steps": 3}
    with pytest.raises(ConflictError, match="not running"):
        training.progress(1, 3, 1.5, 10.0, 5.0, META)
    training.start("host:1", META)
    with pytest.raises(ConflictError, match="it starts once"):
        training.start("host:2", META)
    training.progress(1, 3, 1.5, 10.0, 5.0, META)
    training.trained("/a/smollm2+lora", "a" * 64, 3, 1000, [1.5, 1.4, 1.2], META)
    assert training.status == "trained"
    for late in (lambda: training.fail("late", META), lambda: training.progress(
            2, 3, 1.0, 1.0, 1.0, META)):
        with pytest.raises(ConflictError):
            late()


def test_a_long_loss_curve_is_thinned_keeping_its_last_point() -> None:
    training = requested()
    training.start("host:1", META)
    training.trained("/a", "a" * 64, 2000, 1, [float(i) for i in range(2000)], META)
    [event] = [e for e in training.collect_events() if isinstance(e, Training.AdapterTrained)]
    assert len(event.loss_curve) == 500 and event.loss_curve[-1] == 1999.0


def scores(exact: int, wrong: int, requests: int = 10) -> dict[str, Any]:
    return {"exact": exact, "asked": requests - exact - wrong, "refused": 0, "wrong": wrong,
            "ok": exact, "requests": requests, "seconds_per_request": 1.5}


def evaluated(training: Training, base: dict[str, Any], adapter: dict[str, Any]) -> None:
    training.evaluated(gguf_path="/a/adapter.gguf", gguf_sha256="e" * 64, file="/t.json",
                       file_sha256="f" * 64, sampled=10, of=286, base=base, adapter=adapter,
                       meta=META)


def trained() -> Training:
    training = requested()
    training.start("host:1", META)
    training.trained("/a", "a" * 64, 2, 1, [1.0, 0.5], META)
    return training


def test_only_a_trained_adapter_is_evaluated_and_only_an_evaluated_one_is_promotable() -> None:
    training = requested()
    with pytest.raises(ConflictError, match="only a trained adapter is evaluated"):
        evaluated(training, scores(3, 1), scores(5, 1))
    with pytest.raises(ConflictError, match="is requested, not trained"):
        training.promotable()
    training = trained()
    with pytest.raises(ConflictError, match="has not been evaluated: `altlas models evaluate"):
        training.promotable()


@pytest.mark.parametrize(("base", "adapter", "why"), [
    (scores(3, 1), scores(3, 1), r"it made 3 exact plan\(s\) of 10, its base 3; it must make"),
    (scores(3, 1), scores(2, 0), r"it made 2 exact plan\(s\) of 10, its base 3"),
    (scores(3, 1), scores(6, 2), r"it made 2 wrong plan\(s\), its base 1; it may not make more"),
])
def test_an_adapter_that_does_not_beat_its_base_is_not_promotable(
    base: dict[str, Any], adapter: dict[str, Any], why: str
) -> None:
    training = trained()
    evaluated(training, base, adapter)
    with pytest.raises(ConflictError, match=why):
        training.promotable()


def test_the_latest_evaluation_decides_whether_it_is_promotable() -> None:
    training = trained()
    evaluated(training, scores(3, 1), scores(5, 1))
    assert training.promotable()["adapter_scores"]["exact"] == 5
    evaluated(training, scores(3, 1), scores(5, 2))  # measured again: more wrong plans
    with pytest.raises(ConflictError, match="may not make more"):
        training.promotable()


def test_scores_that_do_not_count_the_sampled_requests_are_refused() -> None:
    training = trained()
    with pytest.raises(InvalidInputError, match="must count 10 requests"):
        evaluated(training, scores(3, 1, requests=9), scores(5, 1))
    with pytest.raises(InvalidInputError, match="the adapter's scores"):
        evaluated(training, scores(3, 1), {"exact": 5})
    assert training.evaluation is None
