#!/usr/bin/env bash
# Outputs and exit codes of `status` and `check` (every format) of two transflow commands (A,
# B: e.g. main's code and this branch's) on copies of one project at the same path: cold (no
# build/.cache), then warm (cached, replayed), then after one catalogue changed; then diff.
# Only status and check (compare.sh also extracts and builds).
# usage: outputs.sh TF_A TF_B PROJECT OUTDIR   (WORK=...: the copy's path, default below)
set -uo pipefail
a=$1; b=$2; src=$(realpath "$3"); out=$(realpath -m "$4")
work=${WORK:-/tmp/tf-outputs-project}
unset PYTHONDONTWRITEBYTECODE
run_side() {
  local tf=$1 dest=$2
  rm -rf "$work" "$dest"; mkdir -p "$dest"; cp -a "$src" "$work"; cd "$work" || exit 1
  rm -rf build/.cache
  local n=0
  r() { n=$((n + 1)); "$tf" "$@" > "$dest/$n.out" 2> "$dest/$n.err"; echo "$n $? $*" >> "$dest/codes"; }
  for round in cold warm; do
    r status; r status --json; r status --articles
    for f in text json github gitlab; do r check --format $f; done
    r check --lang ka; r -q check
    sleep 2.2  # (inputs settled: the second round answers from the caches)
  done
  po=$(ls locales/ka/*.po | sort | sed -n 2p)
  printf '\nmsgid "Zyxwv quokka"\nmsgstr "Zyxwv"\n' >> "$po"
  r status --json; r check --format json; r check
  cd /; rm -rf "$work"
}
run_side "$a" "$out/a"
run_side "$b" "$out/b"
if diff -r -q "$out/a" "$out/b" | grep -v '\.err differ'; then echo "DIFFERENT"; else echo "same outputs and exit codes"; fi
for f in "$out"/a/*.err; do cmp -s "$f" "$out/b/${f##*/}" || echo "stderr differs: ${f##*/}"; done
