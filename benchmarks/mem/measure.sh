#!/usr/bin/env bash
# Peak RSS (KB), wall and CPU of each warm everyday process (issue 11's memory rule), one
# process at a time under /usr/bin/time, on the benchmark harness's working copies.
# usage: benchmarks/mem/measure.sh N [REPEAT]    (N = 200, 2000, 10000; the copies must exist)
set -euo pipefail
n=$1; repeat=${2:-3}
here=$(cd "$(dirname "$0")/../.." && pwd)
tf=${TF:-"$here/.venv/bin/transflow"}  # (TF=...: another tree's transflow, e.g. main's)
corp="$here/benchmarks/.corpora/work"
settled="$corp/tf-settled-native-a$n-s1"
same="$corp/same-a$n-s1"
unset PYTHONDONTWRITEBYTECODE
t() { /usr/bin/time -f "%e s wall %U u %S s %M KB" "$@" 2>&1 >/dev/null | tail -1; }
slug=$(cd "$settled/source" && ls *.html | sort | sed -n "$((n / 2 + 1))p"); slug=${slug%.html}
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)  slug: $slug"
for i in $(seq "$repeat"); do
  # Settle first (the last round's edit): inputs older than the racy window, every answer kept.
  sleep 2.2
  (cd "$settled" && "$tf" status && "$tf" check; "$tf" -q build; cd "$same" && "$tf" -q build --lang ka) \
    > /dev/null 2>&1 || true
  echo "status-warm        $(cd "$settled" && t "$tf" status)"
  echo "check-warm         $(cd "$settled" && t "$tf" check)"
  echo "build-warm (ka)    $(cd "$same" && t "$tf" -q build --lang ka)"
  echo "build-warm (all)   $(cd "$settled" && t "$tf" -q build)"
  # one-new-paragraph: a paragraph matching nothing appended (as run.py does), then the three
  page="$settled/source/$slug.html"
  python3 - "$page" "$i" <<'PY'
import re, sys
p, k = sys.argv[1], sys.argv[2]
text = re.sub(r"\n    <p>Zyxwv update \d+[^\n]*</p>", "", open(p, encoding="utf-8").read())
text = text.replace("<!-- article body -->", "<!-- article body -->\n    <p>Zyxwv "
                    f"update {k}: flibbertigibbet quokka marmalade zeppelin {k}.</p>", 1)
open(p, "w", encoding="utf-8").write(text)
PY
  echo "onp extract        $(cd "$settled" && t "$tf" -q extract)"
  echo "onp check ARTICLE  $(cd "$settled" && t "$tf" check "$slug")"
  echo "onp build          $(cd "$settled" && t "$tf" -q build)"
  # The whole newsroom's answers after that edit (one catalogue pair changed): not warm.
  echo "status after edit  $(cd "$settled" && t "$tf" status)"
  echo "check after edit   $(cd "$settled" && t "$tf" check)"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
