"""Write frozen.json: the storms measured, chosen before the correlator was tuned on them.

Each family at each density, two seeds: `dev` (1, 2: may be looked at while tuning) and
`test` (101, 102: only measured). Run once; a later run refuses to change a frozen entry.

    python -m bench.storms.freeze
"""

from __future__ import annotations

import json
import sys

from bench.storms import FAMILIES, FROZEN, digest, generator

# (faults, minutes between faults on average): from sparse to a fault every 4 minutes
SHAPES = ((8, 30.0), (40, 30.0), (40, 15.0), (40, 8.0), (40, 4.0), (120, 4.0))
SPLITS = {"dev": (1, 2), "test": (101, 102)}


def main() -> int:
    before = {(s["family"], s["seed"], s["faults"], s["every"]): s["sha256"]
              for s in json.loads(FROZEN.read_text())["storms"]} if FROZEN.exists() else {}
    storms = []
    for family in FAMILIES:
        make = generator(family)
        for split, seeds in SPLITS.items():
            for seed in seeds:
                for faults, every in SHAPES:
                    sha = digest(make(seed, faults, every))
                    old = before.get((family, seed, faults, every))
                    if old is not None and old != sha:
                        print(f"{family} seed {seed} {faults}@{every}: changed since frozen",
                              file=sys.stderr)
                        return 1
                    storms.append({"split": split, "family": family, "seed": seed,
                                   "faults": faults, "every": every, "sha256": sha})
    FROZEN.write_text(json.dumps({"storms": storms}, indent=1) + "\n")
    print(f"{len(storms)} storms in {FROZEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
