#!/bin/sh
# A stand-in for `lyap train` used by the sweep tests. It mimics the run-directory contract
# (config.json, status.json, metrics.jsonl, spectra/epoch_NNN.json in the format of
# lyap_rnn::report::SpectrumReport (summary left null), all written atomically,
# `--resume RUN_DIR`) with deterministic numbers and a sleep per epoch.
#
# Bookkeeping for the tests, in $FAKE_LEDGER:
#   NAME/epoch_E/   created (mkdir, atomic and exclusive) when epoch E is committed; the number
#                   of these is the resume point, so a repeated epoch means the sweep ran a
#                   trial twice, and is recorded in `violations`;
#   violations      one line per duplicate epoch or re-run of a completed trial.
# lr > 0.5 "diverges" at epoch 2 (status failed with a reason, exit 1).
set -eu
[ "${1:-}" = train ] && shift
RESUME=; OUT=; LR=0.01; EPOCHS=3; HIDDEN=4; SEED=0
while [ $# -gt 0 ]; do
  case "$1" in
    --resume) RESUME=1; OUT=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --lr) LR=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --hidden) HIDDEN=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --bias) shift ;;
    --*) shift 2 ;;
    *) echo "unexpected argument $1" >&2; exit 2 ;;
  esac
done
NAME=$(basename "$OUT")
atomic() { printf '%s\n' "$2" > "$1.tmp.$$"; mv "$1.tmp.$$" "$1"; }

if [ -n "$RESUME" ]; then
  if grep -q '"completed"' "$OUT/status.json" 2>/dev/null; then
    echo "$NAME rerun of a completed trial" >> "$FAKE_LEDGER/violations"
  fi
  . "$OUT/config.sh"
else
  if [ -e "$OUT/config.json" ]; then echo "$OUT: run exists" >&2; exit 2; fi
  mkdir -p "$OUT/spectra"
  atomic "$OUT/config.sh" "LR=$LR EPOCHS=$EPOCHS HIDDEN=$HIDDEN SEED=$SEED"
  atomic "$OUT/status.json" '{"status": "running"}'
  atomic "$OUT/config.json" "{\"lr\": $LR, \"epochs\": $EPOCHS}"
fi
mkdir -p "$FAKE_LEDGER/$NAME"

# Deterministic outputs of epoch $1: one metrics line on stdout, the spectrum file written.
epoch_outputs() {
  awk -v lr="$LR" -v e="$1" -v k="$HIDDEN" -v s="$SEED" -v f="$OUT/spectra/$(printf 'epoch_%03d.json' "$1")" 'BEGIN {
    t = (log(lr) + 5) ^ 2 / 10 + 1
    val = t + 2 / e
    m = 0.2 - t / 4 + 0.5 / e + 0.02 * sin(s)
    mean = ""
    for (i = 0; i < k; i++) {
      v = (i == k - 1 && s % 3 == 0) ? "null" : sprintf("%.6f", m - 0.3 * i)
      mean = mean (i ? ", " : "") v
    }
    sem = ""
    for (i = 0; i < k; i++) sem = sem (i ? ", " : "") "0.01"
    line = "{\"model\": {\"arch\": \"lstm\", \"layers\": 1, \"hidden_size\": " k ", \"input_size\": 1, \"state\": \"hidden\", \"state_dim\": " k "}, "
    line = line "\"config\": {\"batch\": 1, \"steps\": 1, \"warmup\": 0, \"qr_every\": 1, \"k\": " k ", \"log_base\": \"e\", \"precision\": \"f64\", \"paper_compat\": false}, "
    line = line "\"exponents\": {\"mean\": [" mean "], \"std\": [" sem "], \"sem\": [" sem "]}, \"per_sequence\": [[" mean "]], "
    line = line "\"summary\": {\"max\": null, \"mean\": null, \"min\": null, \"variance\": null, \"sum\": null, \"n_positive\": 0, \"kaplan_yorke_dimension\": null}, "
    print line "\"timing\": {\"seconds\": 0.01}, \"warnings\": []}" > (f ".tmp")
    close(f ".tmp")
    printf "{\"epoch\": %d, \"train_loss\": %.6f, \"val_loss\": %.6f, \"lr\": %s, \"train_seconds\": 0.1, \"le_seconds\": 0.01}\n", e, val - 0.1, val, lr
  }'
  mv "$OUT/spectra/$(printf 'epoch_%03d.json' "$1").tmp" "$OUT/spectra/$(printf 'epoch_%03d.json' "$1")"
}

# Rewrites metrics.jsonl and the spectra of the committed epochs 1..$1 (repairs a kill
# between commit and write).
write_outputs() {
  : > "$OUT/metrics.jsonl.tmp.$$"
  i=1
  while [ "$i" -le "$1" ]; do epoch_outputs "$i" >> "$OUT/metrics.jsonl.tmp.$$"; i=$((i + 1)); done
  mv "$OUT/metrics.jsonl.tmp.$$" "$OUT/metrics.jsonl"
}

DONE=$(ls "$FAKE_LEDGER/$NAME" | grep -c '^epoch_' || true)
write_outputs "$DONE"
E=$((DONE + 1))
while [ "$E" -le "$EPOCHS" ]; do
  sleep "${FAKE_EPOCH_SECONDS:-0.1}"
  if [ "$E" -ge 2 ] && awk -v lr="$LR" 'BEGIN { exit !(lr > 0.5) }'; then
    atomic "$OUT/status.json" "{\"status\": \"failed\", \"reason\": \"loss diverged (NaN) at epoch $E\"}"
    echo "diverged" >&2
    exit 1
  fi
  mkdir "$FAKE_LEDGER/$NAME/epoch_$E" 2>/dev/null || echo "$NAME duplicate epoch $E" >> "$FAKE_LEDGER/violations"
  write_outputs "$E"
  E=$((E + 1))
done
atomic "$OUT/status.json" '{"status": "completed"}'
