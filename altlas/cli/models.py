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
    answer,
    json_out,
    with_system,
    write_chart,
)
from application.i18n import t
from application.personal_files import DATASET
from application.text import (
    duel_text,
    in_charge,
    models_text,
    short,
    training_text,
)
from domain.hyperparameters import HYPERPARAMETERS


@with_system
def models_list(system: System, args: argparse.Namespace) -> int:
    models = system.use_cases().models
    models.register_packaged()  # a first start registers what is installed
    catalog = models.catalog(None)
    if args.json:
        json_out(catalog)
    else:
        print(models_text(catalog, args.locale))
    return 0


@with_system
def models_add(system: System, args: argparse.Namespace) -> int:
    added = system.use_cases().models.add(args.actor, args.path, args.name)
    answer(args, added,
           f"registered {added['name']}: {added['architecture']}, {added['parameters']} "
           f"parameters, {added['quantization']}, context {added['context_length']}, sha256 "
           f"{added['sha256'][:12]}… — `altlas models activate {added['name']}` asks that it "
           "plan")
    return 0


@with_system
def models_activate(system: System, args: argparse.Namespace) -> int:
    approval = system.use_cases().models.activate(args.actor, args.name, args.reason or "")
    answer(args, approval.to_dict(),
           f"approval {short(approval.id)} opened: once someone else approves it "
           f"(`altlas approve {short(approval.id)} --as PERSON`), {args.name} plans")
    return 0


@with_system
def models_promote(system: System, args: argparse.Namespace) -> int:
    models = system.use_cases().models
    approval = models.promote(args.actor, args.adapter, args.reason or "")
    name = models.catalog(None)["pending"]["model"]
    answer(args, approval.to_dict(),
           t(args.locale, "models.promote_asked", adapter=name, approval=short(approval.id)))
    return 0


@with_system
def models_rollback(system: System, args: argparse.Namespace) -> int:
    models = system.use_cases().models
    approval = models.rollback(args.actor, args.reason or "")
    back = models.catalog(None)["rollback_to"]
    answer(args, approval.to_dict(),
           t(args.locale, "models.rollback_asked", to=in_charge(back),
             approval=short(approval.id)))
    return 0


@with_system
def models_evaluate(system: System, args: argparse.Namespace) -> int:
    from altlas import training

    models = system.use_cases().models
    models.access.check(args.actor, "train")
    ident = models.training_id(args.id)
    file = Path(args.file) if args.file else system.settings.evaluation_file
    sample = system.settings.evaluation_sample if args.sample is None else args.sample
    training.evaluate(system, args.actor, ident, file, sample)
    found = models.training(None, str(ident))
    answer(args, found, training_text(found, args.locale))
    return 0


@with_system
def arena_ask(system: System, args: argparse.Namespace) -> int:
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
        # a verdict that can count: a side that made no plan cannot win
        verdict = next((side for side in ("a", "b") if duel["plans"].get(side)),
                       "both_bad" if duel["status"] == "planned" else "a")
        print(f"to judge it: altlas arena vote {short(duel['id'])} {verdict} --as PERSON "
              "(a, b, tie or both_bad; PERSON: an approver)", file=sys.stderr)
    return 0


@with_system
def arena_show(system: System, args: argparse.Namespace) -> int:
    duel = system.use_cases().arena.duel(None, args.id)
    if args.json:
        json_out(duel)
    else:
        print(duel_text(duel, args.locale))
    return 0


@with_system
def arena_vote(system: System, args: argparse.Namespace) -> int:
    duel = system.use_cases().arena.vote(args.actor, args.id, args.verdict)
    answer(args, duel, duel_text(duel, args.locale))
    return 0


@with_system
def models_dataset(system: System, args: argparse.Namespace) -> int:
    from altlas import training

    dataset = training.training_set(system, args.actor, _labelled_file(args.dev),
                                    _labelled_file(args.test))
    try:
        if args.output == "-":
            sys.stdout.writelines(dataset.jsonl())
        else:
            system.personal_files().write(DATASET, args.output, dataset.jsonl())
    except OSError as e:
        raise StartupError(f"cannot write {args.output}: {e.strerror}") from None
    counts = ", ".join(f"{source} {n}" for source, n in dataset.by_source().items())
    left = ", ".join(f"{n} {why}" for why, n in sorted(dataset.left_out.items())) or "none"
    if args.json and args.output != "-":
        json_out({"output": args.output, "examples": len(dataset.examples),
                  "by_source": dataset.by_source(), "left_out": dataset.left_out})
    else:
        print(f"{len(dataset.examples)} example(s) ({counts}); left out: {left}",
              file=sys.stderr)
    return 0


def _labelled_file(path: str) -> dict[str, Any]:
    return read_labelled(Path(path))


@with_system
def models_train(system: System, args: argparse.Namespace) -> int:
    from altlas import training

    chosen = {name: getattr(args, name) for name in HYPERPARAMETERS
              if getattr(args, name) is not None}
    approval, examples = training.request(system, args.actor, args.base, chosen,
                                          _labelled_file(args.dev), _labelled_file(args.test))
    answer(args, {"approval": approval.to_dict(), "examples": examples},
           f"training of a LoRA adapter on {args.base} from {examples} example(s) asked: "
           f"approval {short(approval.id)} decides (`altlas approve {short(approval.id)} --as "
           "PERSON`, someone else); `altlas models training "
           f"{approval.task_id[:8]}` follows it")
    return 0


@with_system
def models_train_run(system: System, args: argparse.Namespace) -> int:
    from altlas import training

    return training.run(system, UUID(args.id))


@with_system
def models_training(system: System, args: argparse.Namespace) -> int:
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
