#!/bin/bash
# The quick-start pipeline run whole, and run again stopped by SIGINT after the checkpoint of
# epoch AFTER (default 10) and then resumed with --resume: prints the stop line, both exit codes,
# whether the models and cuts are byte-identical, and the size of one checkpoint's state.
# Usage: scripts/resume-toy2d.sh [AFTER]
set -u
cd "$(dirname "$0")/.."
after=${1:-10}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
node bin/diffskim.mjs -q run pipelines/toy2d.yaml --out "$out/whole" > /dev/null
node bin/diffskim.mjs -q run pipelines/toy2d.yaml --out "$out/stopped" 2> "$out/stopped.err" > /dev/null &
pid=$!
until grep -qs "\"epoch\": $((after - 1))," "$out/stopped/checkpoints/latest.json"; do sleep 0.1; done
kill -INT "$pid"
wait "$pid"
echo "stopped: exit $?; $(tail -1 "$out/stopped.err")"
node bin/diffskim.mjs -q run pipelines/toy2d.yaml --out "$out/stopped" --resume > /dev/null
echo "resumed: exit $?"
for f in model/weights.bin model/model.json cuts.json; do
  cmp -s "$out/whole/$f" "$out/stopped/$f" && echo "$f: identical" || echo "$f: DIFFERS"
done
latest=$(ls -d "$out"/whole/checkpoints/step-* | tail -1)
echo "checkpoint state: $(stat -c %s "$latest/state.bin") bytes state.bin, $(stat -c %s "$latest/state.json") bytes state.json"
