#!/usr/bin/env bash
# Peak RSS of every process (the command and each of its workers), wall and CPU of a cold
# `status` and a cold `check` (issue 11's memory rule): their caches and kept reports deleted
# first (deleting them only costs time), as on a fresh clone. Per-process peaks by
# `tree_peak.py` (VmHWM of the process tree, sampled every 10 ms; the command's own by wait4).
# usage: benchmarks/mem/cold.sh N [REPEAT] [status|check]...  (the harness copy must exist)
set -euo pipefail
n=$1; repeat=${2:-1}; shift $(( $# < 2 ? $# : 2 ))
what=("$@"); [ ${#what[@]} = 0 ] && what=(status check)
here=$(cd "$(dirname "$0")/../.." && pwd)
tf=${TF:-"$here/.venv/bin/transflow"}  # (TF=...: another tree's transflow, e.g. main's)
settled="$here/benchmarks/.corpora/work/tf-settled-native-a$n-s1"
unset PYTHONDONTWRITEBYTECODE
peak() { python3 "$here/benchmarks/mem/tree_peak.py" -- "$@"; }
cd "$settled"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)  $settled"
for i in $(seq "$repeat"); do
  for w in "${what[@]}"; do
    case $w in
      status) rm -f build/.cache/status.cache build/.cache/status.snapshot
              echo "status cold  $(peak "$tf" status)" ;;
      check)  rm -f build/.cache/findings.cache build/.cache/check-*.out build/.cache/check-*.snapshot
              echo "check cold   $(peak "$tf" check)" ;;
    esac
  done
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
