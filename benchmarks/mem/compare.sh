#!/usr/bin/env bash
# Outputs of two transflow commands (A, B: e.g. main's code and this branch's) on copies of one
# project at the same path: build (pages, -v lines), status, check in every format (cold, then
# replayed), one edited article; then diff. usage: compare.sh TF_A TF_B PROJECT OUTDIR
set -uo pipefail
a=$1; b=$2; src=$(realpath "$3"); out=$(realpath -m "$4")
work=${WORK:-/tmp/tf-compare-project}  # (WORK=...: a path of your own when others compare too)
unset PYTHONDONTWRITEBYTECODE
run_side() {
  local tf=$1 dest=$2
  rm -rf "$work" "$dest"; mkdir -p "$dest"; cp -a "$src" "$work"; cd "$work" || exit 1
  local n=0
  r() { n=$((n + 1)); "$tf" "$@" > "$dest/$n.out" 2> "$dest/$n.err"; echo "$n $? $*" >> "$dest/codes"; }
  r -q extract
  r -v build; r -v build; r build --lang ka; r -q build
  r status; r status --json; r status --articles; r status; r status --lang ru --json
  sleep 2.2  # (inputs settled: the checks keep their reports, the second round replays them)
  for i in 1 2; do
    v=(); [ "$i" = 2 ] && v=(-v)  # (the second round replays: -v says so)
    for f in text json github gitlab; do r "${v[@]}" check --format $f; done
    r -q check; r check --lang ka; r -v check
  done
  slug=$(ls source | sort | sed -n 2p); slug=${slug%.html}
  sed -i 's|<!-- article body -->|<!-- article body -->\n    <p>Zyxwv update: flibbertigibbet quokka.</p>|' "source/$slug.html"
  r -q extract; r check "$slug"; r -v build; r check; r check --format json; r status
  sleep 2.2; r check; r check --format gitlab; r -v check; r -v build; r status --json
  rm -rf build/.cache/build-manifest.bin; r -v build
  cp -a build "$dest/build"; rm -rf "$dest/build/.cache"
  cd /; rm -rf "$work"
}
run_side "$a" "$out/a"
run_side "$b" "$out/b"
# (-v notes name caches and timings: compared apart from the rest)
if diff -r -q "$out/a" "$out/b" | grep -v '\.err differ'; then echo "DIFFERENT"; else echo "same outputs, pages and exit codes"; fi
for f in "$out"/a/*.err; do cmp -s "$f" "$out/b/${f##*/}" || echo "stderr differs: ${f##*/}"; done
