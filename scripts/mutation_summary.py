"""The kill rate of the last mutation run, per module, from mutmut's results in mutants/.

Run by scripts/mutation-test.sh; by hand: python scripts/mutation_summary.py. Lists the
survivors (see each with `mutmut show NAME`); docs/testing.md says why the remaining ones are
equivalent."""

from __future__ import annotations

import collections
import json
from pathlib import Path

from mutmut.stats import status_by_exit_code


def main() -> None:
    counts: dict[str, collections.Counter[str]] = {}
    survivors = []
    for meta in sorted(Path("mutants/src").rglob("*.py.meta")):
        results = json.loads(meta.read_text())["exit_code_by_key"]
        module = meta.name.removesuffix(".py.meta")
        counts[module] = collections.Counter(status_by_exit_code[c] for c in results.values())
        survivors += [name for name, c in results.items() if status_by_exit_code[c] == "survived"]
    print(f"{'module':<14}{'mutants':>8}{'killed':>8}{'survived':>9}{'other':>7}{'kill rate':>11}")
    total: collections.Counter[str] = collections.Counter()
    for module, c in [*counts.items(), ("all", None)]:
        c = c if c is not None else total
        killed = c["killed"] + c["timeout"] + c["caught by type check"]
        checked = killed + c["survived"]
        other = sum(c.values()) - checked
        rate = f"{killed / checked:.1%}" if checked else "-"
        print(f"{module:<14}{sum(c.values()):>8}{killed:>8}{c['survived']:>9}{other:>7}{rate:>11}")
        if module != "all":
            total.update(c)
    print(f"\n{len(survivors)} survivors:", *survivors, sep="\n  ")


if __name__ == "__main__":
    main()
