"""The models that plan: registry, arena, training sets, trainings and adapters."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.training_sets import read_labelled
from altlas.bootstrap import StartupError, System
from altlas.cli.common import (
    LABELLED,
    Subparsers,
    actor,
    add,
    as_json,
    group,
    json_out,
    path_arg,
    with_system,
    write_chart,
)
from application.i18n import t
from application.text import (
    duel_text,
    in_charge,
    models_text,
    short,
    training_text,
)
from domain.training import HYPERPARAMETERS


def _models_list(system: System, args: argparse.Namespace) -> int:
    models = system.use_cases().models
    models.register_packaged()  # a first start registers what is installed
    catalog = models.catalog(None)
    if args.json:
        json_out(catalog)
    else:
        print(models_text(catalog, args.locale))
    return 0


def _models_add(system: System, args: argparse.Namespace) -> int:
    added = system.use_cases().models.add(args.actor, args.path, args.name)
    print(f"registered {added['name']}: {added['architecture']}, {added['parameters']} "
          f"parameters, {added['quantization']}, context {added['context_length']}, sha256 "
          f"{added['sha256'][:12]}… — `altlas models activate {added['name']}` asks that it "
          "plan")
    return 0


def _models_activate(system: System, args: argparse.Namespace) -> int:
    approval = system.use_cases().models.activate(args.actor, args.name, args.reason or "")
    print(f"approval {short(approval.id)} opened: once someone else approves it "
          f"(`altlas approve {short(approval.id)} --as PERSON`), {args.name} plans")
    return 0


def _models_promote(system: System, args: argparse.Namespace) -> int:
    models = system.use_cases().models
    approval = models.promote(args.actor, args.adapter, args.reason or "")
    name = models.catalog(None)["pending"]["model"]
    print(t(args.locale, "models.promote_asked", adapter=name, approval=short(approval.id)))
    return 0


def _models_rollback(system: System, args: argparse.Namespace) -> int:
    models = system.use_cases().models
    approval = models.rollback(args.actor, args.reason or "")
    back = models.catalog(None)["rollback_to"]
    print(t(args.locale, "models.rollback_asked", to=in_charge(back),
            approval=short(approval.id)))
    return 0


def _models_evaluate(system: System, args: argparse.Namespace) -> int:
    from altlas import training

    models = system.use_cases().models
    models.access.check(args.actor, "train")
    ident = models.training_id(args.id)
    file = Path(args.file) if args.file else system.settings.evaluation_file
    sample = system.settings.evaluation_sample if args.sample is None else args.sample
    training.evaluate(system, args.actor, ident, file, sample)
    print(training_text(models.training(None, str(ident)), args.locale))
    return 0


def _arena_ask(system: System, args: argparse.Namespace) -> int:
    arena = system.use_cases().arena
    duel = arena.ask(args.actor, " ".join(args.request), a=args.a, b=args.b,
                     environment=args.environment, task_ref=args.task)
    if system.local_store:  # the embedded default: plan both here and now
        system.worker().until_quiet()
        duel = arena.duel(None, duel["id"])
    if args.json:
        json_out(duel)
    else:
        print(duel_text(duel, args.locale))
        print(f"to judge it: altlas arena vote {short(duel['id'])} a --as PERSON "
              "(a, b, tie or both_bad; PERSON: an approver)", file=sys.stderr)
    return 0


def _arena_show(system: System, args: argparse.Namespace) -> int:
    duel = system.use_cases().arena.duel(None, args.id)
    if args.json:
        json_out(duel)
    else:
        print(duel_text(duel, args.locale))
    return 0


def _arena_vote(system: System, args: argparse.Namespace) -> int:
    duel = system.use_cases().arena.vote(args.actor, args.id, args.verdict)
    print(duel_text(duel, args.locale))
    return 0


def _models_dataset(system: System, args: argparse.Namespace) -> int:
    from altlas import training

    dataset = training.training_set(system, args.actor, _labelled_file(args.dev),
                                    _labelled_file(args.test))
    out = sys.stdout if args.output == "-" else None
    try:
        with out or Path(args.output).open("w", encoding="utf-8") as f:
            f.writelines(dataset.jsonl())
    except OSError as e:
        raise StartupError(f"cannot write {args.output}: {e.strerror}") from None
    counts = ", ".join(f"{source} {n}" for source, n in dataset.by_source().items())
    left = ", ".join(f"{n} {why}" for why, n in sorted(dataset.left_out.items())) or "none"
    print(f"{len(dataset.examples)} example(s) ({counts}); left out: {left}", file=sys.stderr)
    return 0


def _labelled_file(path: str) -> dict[str, Any]:
    return read_labelled(Path(path))


def _models_train(system: System, args: argparse.Namespace) -> int:
    from altlas import training

    chosen = {name: getattr(args, name) for name in HYPERPARAMETERS
              if getattr(args, name) is not None}
    approval, examples = training.request(system, args.actor, args.base, chosen,
                                          _labelled_file(args.dev), _labelled_file(args.test))
    print(f"training of a LoRA adapter on {args.base} from {examples} example(s) asked: "
          f"approval {short(approval.id)} decides (`altlas approve {short(approval.id)} --as "
          "PERSON`, someone else); `altlas models training "
          f"{approval.task_id[:8]}` follows it")
    return 0


def _models_train_run(system: System, args: argparse.Namespace) -> int:
    from altlas import training

    return training.run(system, UUID(args.id))


def _models_training(system: System, args: argparse.Namespace) -> int:
    cases = system.use_cases()
    found, png = (cases.training_chart(None, args.id) if args.chart
                  else (cases.models.training(None, args.id), None))
    if png is not None:
        write_chart(args.chart, png)
    if args.evaluation_chart:
        write_chart(args.evaluation_chart, cases.evaluation_chart(None, args.id)[1])
    if args.json:
        json_out(found)
    else:
        print(training_text(found, args.locale))
    return 0


def register(sub: Subparsers) -> None:
    models = group(sub, "models", "the GGUF models altlas plans with")
    p = add(models, "list", with_system(_models_list),
            "registered models: architecture, size, quantization; which one plans")
    as_json(p)
    p = add(models, "add", with_system(_models_add),
            "register a GGUF file from its header (it plans nothing until activated)")
    p.add_argument("path", metavar="PATH", type=path_arg, help="the .gguf file")
    p.add_argument("--name", help="its name in the registry (default: from the file name)")
    actor(p)
    p = add(models, "dataset", with_system(_models_dataset),
            "the training set as JSON lines: successful runs, arena winners and the dev file, "
            "never a request of the test file")
    p.add_argument("--dev", default=str(LABELLED / "segmentation_dev.json"), metavar="FILE",
                   type=path_arg,
                   help="the labelled file to learn from (default: the repository's dev file)")
    p.add_argument("--test", default=str(LABELLED / "segmentation_test.json"), metavar="FILE",
                   type=path_arg,
                   help="the frozen file that only measures: none of its requests is used")
    p.add_argument("--output", default="-", metavar="FILE", type=path_arg,
                   help="default: standard output")
    actor(p)
    p = add(models, "train", with_system(_models_train),
            "ask to train a LoRA adapter on a registered model from the training set "
            "(operators; someone else approves; a worker process of its own trains)")
    p.add_argument("base", metavar="MODEL", help="a registered model, e.g. smollm2")
    for name, default in HYPERPARAMETERS.items():
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(default),
                       metavar="N", help=f"default {default}")
    p.add_argument("--dev", default=str(LABELLED / "segmentation_dev.json"), metavar="FILE",
                   type=path_arg)
    p.add_argument("--test", default=str(LABELLED / "segmentation_test.json"), metavar="FILE",
                   type=path_arg)
    actor(p)
    p = add(models, "train-run", with_system(_models_train_run),
            "the training worker of a granted training (the reactions start it)")
    p.add_argument("id", metavar="TRAINING-ID")
    p = add(models, "training", with_system(_models_training),
            "a training: its status, progress, loss and adapter")
    p.add_argument("id", metavar="TRAINING-ID", help="its id, or its first 6 characters or more")
    p.add_argument("--chart", metavar="FILE.png", type=path_arg,
                   help="also draw its loss per step")
    p.add_argument("--evaluation-chart", metavar="FILE.png",
                   help="also draw its adapter's evaluation against its base")
    as_json(p)
    p = add(models, "evaluate", with_system(_models_evaluate),
            "measure a trained adapter against its base on the frozen test file, through "
            "llama.cpp (AdapterEvaluated; the training worker does it once by itself)")
    p.add_argument("id", metavar="TRAINING-ID", help="its id, first 6+ characters, or the "
                   "adapter's name")
    p.add_argument("--file", metavar="FILE", type=path_arg, help="the labelled file (default "
                   "ALTLAS_EVALUATION_FILE: the repository's test file)")
    p.add_argument("--sample", type=int, metavar="N", help="a seeded sample of N requests "
                   "(default ALTLAS_EVALUATION_SAMPLE; 0: all)")
    actor(p)
    p = add(models, "promote", with_system(_models_promote),
            "ask that an evaluated adapter plan on its base: refused unless it beats the base; "
            "an approver who did not ask for it or its training decides")
    p.add_argument("adapter", metavar="ADAPTER", help="its name (BASE+lora-ID) or training id")
    p.add_argument("--reason", help="why (shown on the approval)")
    actor(p)
    p = add(models, "rollback", with_system(_models_rollback),
            "ask to go back to what planned before the last activation or promotion")
    p.add_argument("--reason", help="why (shown on the approval)")
    actor(p)
    p = add(models, "activate", with_system(_models_activate),
            "ask that a registered model plan; someone else's approval decides")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--reason", help="why (shown on the approval)")
    actor(p)
    arena = group(sub, "arena", "two planners plan one request; judge which plan is better")
    p = add(arena, "ask", with_system(_arena_ask),
            "both plan the request (default: the model that plans now against the newest "
            "other registered model), shown as A and B")
    p.add_argument("request", nargs="*", help="the request (not with --task)")
    p.add_argument("--a", help="a planner: rules or local:NAME")
    p.add_argument("--b", help="the other planner")
    p.add_argument("--task", metavar="ID", help="a task's plan against an alternative: its "
                   "run's outcome counts as a match too")
    p.add_argument("--environment")
    actor(p)
    as_json(p)
    p = add(arena, "show", with_system(_arena_show), "a duel (its id, or its task's id)")
    p.add_argument("id", metavar="ID")
    as_json(p)
    p = add(arena, "vote", with_system(_arena_vote),
            "which plan is better (approvers; not who registered one of the models)")
    p.add_argument("id", metavar="ID")
    p.add_argument("verdict", choices=["a", "b", "tie", "both_bad"])
    actor(p)
