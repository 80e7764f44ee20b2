#!/usr/bin/env bash
# Fail when pip backtracks while resolving extractor's dependencies.
#
#   scripts/check_resolve.sh [EXTRAS]        # default: local,test
#
# A dry run (nothing installed) of `pip install -e '.[EXTRAS]'` into the current Python,
# as if nothing were installed, with pip's normal (not -q) output: when the ranges in
# pyproject.toml disagree, pip tries older releases one by one and says, on stdout,
# "INFO: pip is looking at multiple versions of PACKAGE ..." (and still exits 0). With -q it
# says nothing, hence this script. The cure is a range that agrees: see the comment above
# [project].dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-local,test}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
python -m pip install --dry-run --ignore-installed --disable-pip-version-check -e ".[${extras}]" >"$log" 2>&1 || {
    cat "$log"
    echo "check_resolve: pip could not resolve .[${extras}]"
    exit 1
}
if grep -q "INFO: pip is looking at multiple versions of" "$log"; then
    grep "INFO: pip is" "$log"
    echo "check_resolve: pip backtracked while resolving .[${extras}]: make the ranges in pyproject.toml agree"
    exit 1
fi
echo "check_resolve: .[${extras}] resolved in one pass (no backtracking)"
