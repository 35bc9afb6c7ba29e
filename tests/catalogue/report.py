"""Print the catalogue's counts: ``python tests/catalogue/report.py [--show CLASS] [SPEC...]``.

``--all`` runs every case (the default run's sample plus the slow ones); ``--show CLASS``
lists the cases of one outcome class (e.g. ``--show "vague error"``); names restrict the run to
those specs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catalogue import runner
from catalogue.model import Outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("specs", nargs="*")
    parser.add_argument("--all", action="store_true", help="every case, not only the default run's")
    parser.add_argument("--show", action="append", default=[], help="list the cases of this class")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    cases = [c for c in runner.all_cases(args.specs or None) if args.all or c.default]
    started = time.perf_counter()
    results = runner.Pool(args.workers).run(cases)
    took = time.perf_counter() - started
    by_spec: dict[str, Counter[Outcome]] = {}
    for case in cases:
        by_spec.setdefault(case.spec, Counter())[results[case.id].outcome] += 1
    order = list(Outcome)
    width = max(len(s) for s in by_spec)
    print(f"{'spec':<{width}}  " + "  ".join(f"{o.value[:8]:>8}" for o in order))
    for spec, counts in by_spec.items():
        print(f"{spec:<{width}}  " + "  ".join(f"{counts[o]:>8}" for o in order))
    total = Counter(r.outcome for r in results.values())
    print(f"\n{len(results)} cases over {len(by_spec)} specs in {took:.0f} s:")
    for o in order:
        print(f"  {o.value:<22} {total[o]:>6}")
    for name in args.show:
        wanted = Outcome(name)
        print(f"\n== {name} ==")
        for r in results.values():
            if r.outcome is wanted:
                print(f"{r.case}: {r.detail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
