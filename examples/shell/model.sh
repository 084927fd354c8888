#!/usr/bin/env bash
# A model as a shell script. hypermax passes the parameters as --name=value arguments
# ("arguments": true in search.json); the last line printed that is a number is the loss.
set -euo pipefail

for argument in "$@"; do
  case "$argument" in
    --x=*) x="${argument#--x=}" ;;
    --y=*) y="${argument#--y=}" ;;
    --method=*) method="${argument#--method=}" ;;
  esac
done

echo "evaluating x=$x y=$y method=$method"   # any other output goes to the trial's log
bonus=0
[ "$method" = "fast" ] && bonus=0.5
awk -v x="$x" -v y="$y" -v b="$bonus" 'BEGIN { printf "%.6f\n", (x - 1)^2 + (y + 2)^2 + b }'
