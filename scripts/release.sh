#!/usr/bin/env bash
# Release the corpus as X.Y.Z: the maintainers' steps in order, so none is forgotten.
#   scripts/release.sh X.Y.Z [YYYY-MM-DD]
# 1. the package version (the code of release X.Y.Z is version X.Y.Z; MANIFEST's code_version);
# 2. a build with that code; 3. the baselines on it (the card's Benchmarks table); 4. a build that
# puts them into the card; 5. `newsvariants release` (MANIFEST version, card, CHANGELOG.md,
# CITATION.cff, released/); 6. a build from the registry just released, which must keep every
# data file (a release is what its own registry builds); 7. the rebuild check.
# Then: review `git diff`, commit, `git tag vX.Y.Z`. Thin wrapper: the logic is in the package.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:?usage: scripts/release.sh X.Y.Z [YYYY-MM-DD]}"
date_arg=()
if [ -n "${2:-}" ]; then date_arg=(--date "$2"); fi
if [ -z "${NV:-}" ]; then
  if [ -x .venv/bin/newsvariants ]; then NV=.venv/bin/newsvariants; else NV=newsvariants; fi
fi
sed -i.bak -E "s/^__version__ = \"[^\"]*\"$/__version__ = \"$version\"/" src/newsvariants/__init__.py
rm -f src/newsvariants/__init__.py.bak
grep -q "^__version__ = \"$version\"$" src/newsvariants/__init__.py
scripts/build_corpus.sh
"$NV" bench --output benchmarks/results
scripts/build_corpus.sh
"$NV" release "$version" "${date_arg[@]}"
before=$(cd corpus && find . -name '*.parquet' -exec sha256sum {} + | sort)
scripts/build_corpus.sh
after=$(cd corpus && find . -name '*.parquet' -exec sha256sum {} + | sort)
if [ "$before" != "$after" ]; then
  echo "error: the build from the released registry changed data files" >&2
  exit 1
fi
"$NV" validate corpus --raw raw --rebuild
echo "released $version: review git diff, commit, then git tag v$version"
