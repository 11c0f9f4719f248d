#!/usr/bin/env bash
# Outputs of `extract` by two transflow commands (A, B: e.g. main's code and this branch's) on
# copies of one project at the same path: a cold extract (no build/.cache, no POT), `-v`
# lines and exit code, every POT and PO, the translation memory's tables; then a warm run,
# `--check`, one edited article, `--check` with a change pending. Then diff.
# usage: extract_outputs.sh TF_A TF_B PROJECT OUTDIR   (WORK=...: the copy's path)
set -uo pipefail
a=$1; b=$2; src=$(realpath "$3"); out=$(realpath -m "$4")
work=${WORK:-/tmp/tf-extract-outputs}
here=$(dirname "$(realpath "$0")")
unset PYTHONDONTWRITEBYTECODE
export SOURCE_DATE_EPOCH=1700000000
run_side() {
  local tf=$1 dest=$2
  rm -rf "$work" "$dest"; mkdir -p "$dest"; cp -a "$src" "$work"; cd "$work" || exit 1
  rm -rf build/.cache
  local n=0
  r() { n=$((n + 1)); "$tf" "$@" > "$dest/$n.out" 2> "$dest/$n.err"; echo "$n $? $*" >> "$dest/codes"; }
  r -v extract
  mkdir -p "$dest/cold"; cp -a locales "$dest/cold/"
  python3 "$here/dump_memory.py" build/.cache/memory.sqlite3 > "$dest/cold/memory.txt"
  r -v extract; r extract --check
  page=$(cd source && find . -name '*.html' | sort | sed -n 2p); page=${page#./}
  sed -i 's|</p>|</p>\n    <p>Zyxwv update: flibbertigibbet quokka.</p>|' "source/$page"
  r extract --check; r -v extract "source/$page"; r -v extract
  cp -a locales "$dest/"
  python3 "$here/dump_memory.py" build/.cache/memory.sqlite3 > "$dest/memory.txt"
  cd /; rm -rf "$work"
}
run_side "$a" "$out/a"
run_side "$b" "$out/b"
if diff -r -q "$out/a" "$out/b" | grep -v '\.err differ'; then echo "DIFFERENT"; else echo "same outputs, catalogues, memory and exit codes"; fi
for f in "$out"/a/*.err; do cmp -s "$f" "$out/b/${f##*/}" || echo "stderr differs: ${f##*/}"; done
