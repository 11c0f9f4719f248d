#!/usr/bin/env bash
# A project made from the third-party corpus (../shared/corpus), to compare extract's outputs
# (extract_outputs.sh): its 54 pages twice (source/one/, source/two/: 108 articles, so extract
# uses its article workers), Georgian and Russian, and as each language's memory file every
# corpus catalogue of that language (msgcat). usage: corpus_project.sh DIR
set -euo pipefail
dest=$(realpath -m "$1"); corpus=$(realpath "$(dirname "$0")/../../../shared/corpus")
rm -rf "$dest"; mkdir -p "$dest/source/one" "$dest/source/two" "$dest/locales/memory"
printf '[project]\nsource_language = "en"\nlanguages = ["ka", "ru"]\n' > "$dest/transflow.toml"
cp "$corpus"/html/*.html "$dest/source/one/"; cp "$corpus"/html/*.html "$dest/source/two/"
for lang in ka ru; do
  msgcat --use-first -o "$dest/locales/memory/$lang.po" "$corpus/po/$lang"/*.po 2>/dev/null || true
done
echo "$dest: $(ls "$dest"/source/*/ | grep -c html) pages"
