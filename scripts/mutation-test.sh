#!/usr/bin/env bash
# Mutation testing of the core (docs/testing.md). mutmut changes one token at a time in
# activations, layers, losses, optimizers, training, model and io ([tool.mutmut] in
# pyproject.toml), runs the fast tests that reach the changed function, and counts a mutant
# that no test fails as a survivor. Slow (about an hour on 2 shared cores), so not in CI:
# run it before a release and after large changes to the core; explain or kill each survivor.
#
#   bash scripts/mutation-test.sh                  # every mutant of the core (resumes a run)
#   bash scripts/mutation-test.sh "numpynn.io.*"   # some of them, by mutmut's name patterns
#   mutmut show NAME                               # one mutant's diff (mutmut browse: all)
#
# Needs the dev extra (pip install -e ".[dev]"). Results are kept in mutants/ (git-ignored);
# delete it after changing the tests, or mutmut keeps the old verdicts of unchanged functions.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mutmut >/dev/null || { echo "mutmut is missing: pip install -e '.[dev]'" >&2; exit 1; }
export HYPOTHESIS_PROFILE=ci  # the same derandomized examples for every mutant
nice -n 19 mutmut run --max-children "${MUTMUT_CHILDREN:-2}" "$@" | tr '\r' '\n' | tail -n 3
python scripts/mutation_summary.py
