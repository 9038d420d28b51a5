"""Voice requests on the voice files: each request's spoken form is synthesised (Flite and
espeak-ng; clean, fast, noisy), heard by each engine and model with the inventory's names as
the prompt, and the transcript planned by the rule segmenter as a typed request would be.

Columns: WER (words, against the typed request), names (clips whose every host and service
name came back exactly), ceiling (clips whose TYPED text plans as labelled: a perfect hearing
can do no better), as typed (clips whose transcript plans as labelled, and its share of the
ceiling), at once (of those, planned without a confirmation), confirm (hearings
`needs_confirmation` would show first, by the settings, e.g.
ALTLAS_SPEECH_PLAN_AT_ONCE=confident for the decoder's doubt alone), wrong (a plan of ANOTHER
request taken without a confirmation: the aim is 0), wrong/c (the same, but confirmed first),
refused (clips refused as audio), RTF (hearing seconds / clip seconds).

    python bench/voice.py [--files test] [--engines faster-whisper,whisper.cpp]
                          [--models base,tiny.en,base@q8_0] [--synths flite,espeak-ng]
                          [--variants clean,fast,noisy] [--limit N] [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from adapters.person_keys import SqlPersonKeys, metadata
from adapters.policy_file import load_policy
from adapters.segmenter_rules import RuleSegmenter
from adapters.speech import transcriber_from
from altlas.settings import Settings
from application.errors import AudioRefusedError
from application.evaluation import PolicyCheck, score
from application.privacy import Privacy
from application.segmentation import SegmentationService
from application.voice import needs_confirmation, plain_words
from domain.grounding import Inventory
from testkit.speech import say

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
FLAG = "/var/lib/altlas/maintenance.flag"
CACHE = Path(tempfile.gettempdir()) / "altlas-test-models"
SERVICES = ("nginx", "postgresql", "postgres", "redis", "api")  # the rule segmenter's own


def wer(reference: list[str], heard: list[str]) -> tuple[int, int]:
    """(word edits, reference words): Levenshtein over words."""
    row = list(range(len(heard) + 1))
    for i, word in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(heard, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1,
                                           previous + (word != other))
    return row[-1], len(reference)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default="test")
    parser.add_argument("--engines", default="faster-whisper")
    parser.add_argument("--models", default="base,tiny.en")
    parser.add_argument("--synths", default="flite,espeak-ng")
    parser.add_argument("--variants", default="clean,fast,noisy")
    parser.add_argument("--languages", default="en,tr")
    parser.add_argument("--limit", type=int, default=0,
                        help="only the first N requests of each file (whisper.cpp is slow)")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    logging.getLogger("altlas.segmentation").setLevel(logging.ERROR)
    policy = load_policy(None)
    names = [*policy.hosts, *policy.services, *SERVICES]
    inventory = Inventory.of(policy)
    services = [*policy.services, *SERVICES]
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    service = SegmentationService(PolicyCheck(policy, Privacy(SqlPersonKeys(engine))),
                                  RuleSegmenter(policy, FLAG), None)

    def outcome(entry: dict[str, Any], text: str) -> str:
        return next(iter(score(service.plan, [{**entry, "request": text}], policy,
                               FLAG).outcomes))

    print(f"{'file':<7} {'engine:model':<22} {'synth':<10} {'lang':<4} {'variant':<7} "
          f"{'n':>3} {'WER':>5} {'names':>6} {'ceil':>5} {'as typed':>9} {'%ceil':>6} "
          f"{'at once':>7} {'confirm':>7} {'wrong':>5} {'wrong/c':>7} {'refused':>7} {'RTF':>5}")
    for file in args.files.split(","):
        entries = json.loads((DATA / f"voice_{file}.json").read_text())["requests"]
        if args.limit:
            entries, file = entries[:args.limit], f"{file}:{args.limit}"
        ceiling = {e["request"]: outcome(e, e["request"]) == "exact" for e in entries}
        for engine_name in args.engines.split(","):
            for model in args.models.split(","):
                model, _, ggml_type = model.partition("@")  # base@q8_0: whisper.cpp's
                settings = Settings(speech_engine=engine_name, speech_model=model,
                                    speech_ggml_type=ggml_type or "f16", model_cache=CACHE)
                ears = transcriber_from(settings)
                for synth in args.synths.split(","):
                    for language in args.languages.split(","):
                        chosen = [e for e in entries if e["lang"] == language]
                        if not chosen or (synth == "flite" and language != "en"):
                            continue  # Flite speaks English only
                        if language != "en" and "en" in model:
                            continue  # an English-only model
                        for variant in args.variants.split(","):
                            row = Counter[str]()
                            edits = words = 0
                            heard_s = clip_s = 0.0
                            for i, entry in enumerate(chosen):
                                clip = say(entry["spoken"], synth=synth, language=language,
                                           variant=variant, seed=i)
                                typed_ok = ceiling[entry["request"]]
                                row["ceil"] += typed_ok
                                try:
                                    hearing = ears.transcribe(clip, names=names)
                                except AudioRefusedError as e:
                                    row["refused"] += 1
                                    if args.show_misses:
                                        print(f"  refused | {entry['request']} | {e}",
                                              file=sys.stderr)
                                    continue
                                heard_s += hearing.seconds
                                clip_s += hearing.duration_s
                                e_, w_ = wer(plain_words(entry["request"]),
                                             plain_words(hearing.text))
                                edits, words = edits + e_, words + w_
                                wanted = [n for n in names
                                          if n in plain_words(entry["request"])]
                                got = plain_words(hearing.text)
                                row["names"] += all(n in got for n in wanted)
                                confirm = needs_confirmation(hearing, settings, inventory, services)
                                row["confirm"] += confirm
                                said = outcome(entry, hearing.text)
                                if typed_ok and said == "exact":
                                    row["typed"] += 1
                                    row["at once"] += not confirm
                                if said == "wrong":
                                    row["wrong/c" if confirm else "wrong"] += 1
                                if args.show_misses and said != "exact":
                                    print(f"  {said:<7} | {entry['request']} | "
                                          f"{hearing.text} | {hearing.avg_logprob:.2f}",
                                          file=sys.stderr)
                            n = len(chosen)
                            share = row["typed"] / row["ceil"] if row["ceil"] else 0.0
                            print(f"{file:<7} {ears.name:<22} {synth:<10} {language:<4} "
                                  f"{variant:<7} {n:>3} {edits / max(words, 1):>5.2f} "
                                  f"{row['names'] / n:>6.0%} {row['ceil']:>5} "
                                  f"{row['typed']:>9} {share:>6.0%} {row['at once']:>7} "
                                  f"{row['confirm']:>7} "
                                  f"{row['wrong']:>5} {row['wrong/c']:>7} {row['refused']:>7} "
                                  f"{heard_s / max(clip_s, 1e-9):>5.2f}", flush=True)
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    status = main()
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    sys.exit(status)
