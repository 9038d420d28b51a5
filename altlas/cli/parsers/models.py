"""The commands of models: what they accept; `altlas.cli.models` carries them out."""

from __future__ import annotations

import argparse

from altlas.cli.parsing import (
    DOCUMENT_JSON,
    LABELLED,
    Subparsers,
    actor,
    add,
    as_json,
    group,
    identifies,
    path_arg,
)
from domain.hyperparameters import HYPERPARAMETERS


def register(sub: Subparsers) -> None:
    models = group(sub, "models", "the GGUF models altlas plans with")
    p = add(models, "list", "models:models_list",
            "registered models: architecture, size, quantization; which one plans")
    as_json(p)
    p = add(models, "add", "models:models_add",
            "register a GGUF file from its header (it plans nothing until activated)")
    p.add_argument("path", type=path_arg, metavar="PATH",
                   help="the .gguf file, in ALTLAS_MODELS_DIR (a relative path is taken there)")
    p.add_argument("--name", help="its name in the registry (default: from the file name)")
    actor(p)
    as_json(p)
    p = add(models, "dataset", "models:models_dataset",
            "the training set as JSON lines: successful runs, arena winners and the dev file, "
            "never a request of the test file")
    labelled_files(p)
    p.add_argument("--output", type=path_arg,
                   default="-", metavar="FILE", help="default: standard output")
    actor(p)
    as_json(p, DOCUMENT_JSON)
    p = add(models, "train", "models:models_train",
            "ask to train a LoRA adapter on a registered model from the training set "
            "(operators; someone else approves; a worker process of its own trains)")
    p.add_argument("base", metavar="MODEL", help="a registered model, e.g. smollm2")
    for name, default in HYPERPARAMETERS.items():
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(default),
                       metavar="N", help=f"default {default}")
    labelled_files(p)
    actor(p)
    as_json(p)
    p = add(models, "train-run", "models:models_train_run",
            "the training worker of a granted training (the reactions start it)", server=True)
    identifies(p, "training")
    p = add(models, "training", "models:models_training",
            "a training: its status, progress, loss and adapter")
    p.add_argument("id", metavar="TRAINING-ID", help="its id, or its first 6 characters or more")
    p.add_argument("--chart", type=path_arg, metavar="FILE.png", help="also draw its loss per step")
    p.add_argument("--evaluation-chart", type=path_arg, metavar="FILE.png",
                   help="also draw its adapter's evaluation against its base")
    as_json(p)
    p = add(models, "evaluate", "models:models_evaluate",
            "measure a trained adapter against its base on the frozen test file, through "
            "llama.cpp (AdapterEvaluated; the training worker does it once by itself)")
    p.add_argument("id", metavar="TRAINING-ID", help="its id, first 6+ characters, or the "
                   "adapter's name")
    p.add_argument("--file", type=path_arg, metavar="FILE", help="the labelled file (default "
                   "ALTLAS_EVALUATION_FILE: the repository's test file)")
    p.add_argument("--sample", type=int, metavar="N", help="a seeded sample of N requests "
                   "(default ALTLAS_EVALUATION_SAMPLE; 0: all)")
    actor(p)
    as_json(p)
    p = add(models, "promote", "models:models_promote",
            "ask that an evaluated adapter plan on its base: refused unless it beats the base; "
            "an approver who did not ask for it or its training decides")
    p.add_argument("adapter", metavar="ADAPTER", help="its name (BASE+lora-ID) or training id")
    p.add_argument("--reason", help="why (shown on the approval)")
    actor(p)
    as_json(p)
    p = add(models, "rollback", "models:models_rollback",
            "ask to go back to what planned before the last activation or promotion")
    p.add_argument("--reason", help="why (shown on the approval)")
    actor(p)
    as_json(p)
    p = add(models, "activate", "models:models_activate",
            "ask that a registered model plan; someone else's approval decides")
    p.add_argument("name", metavar="NAME", help="a registered model's name, as `models list` "
                   "shows it")
    p.add_argument("--reason", help="why (shown on the approval)")
    actor(p)
    as_json(p)
    arena = group(sub, "arena", "two planners plan one request; judge which plan is better")
    p = add(arena, "ask", "models:arena_ask",
            "both plan the request (default: the model that plans now against the newest "
            "other registered model), shown as A and B")
    p.add_argument("request", nargs="*", help="the request (not with --task)")
    p.add_argument("--a", help="a planner: rules or local:NAME")
    p.add_argument("--b", help="the other planner")
    p.add_argument("--task", metavar="ID", help="a task's plan against an alternative: its "
                   "run's outcome counts as a match too")
    p.add_argument("--environment", help="the environment the request is for")
    actor(p)
    as_json(p)
    p = add(arena, "show", "models:arena_show", "a duel (its id, or its task's id)")
    p.add_argument("id", metavar="ID", help="a duel's id or its task's, whole or its first 6 "
                   "characters or more")
    as_json(p)
    p = add(arena, "vote", "models:arena_vote",
            "which plan is better (approvers; not who registered one of the models)")
    identifies(p, "duel")
    p.add_argument("verdict", choices=["a", "b", "tie", "both_bad"],
                   help="which plan is better: a, b, tie or both_bad")
    actor(p)
    as_json(p)


def labelled_files(p: argparse.ArgumentParser) -> None:
    """The two labelled files a training set is drawn from and kept apart from."""
    p.add_argument("--dev", type=path_arg,
                   default=str(LABELLED / "segmentation_dev.json"), metavar="FILE",
                   help="the labelled file to learn from (default: the repository's dev file)")
    p.add_argument("--test", type=path_arg,
                   default=str(LABELLED / "segmentation_test.json"), metavar="FILE",
                   help="the frozen file that only measures: none of its requests is used")
