#!/usr/bin/env bash
# Profiles two cluster nodes under a one-way cross-node QoS 1 load: a fresh redis-server, nodes 0 and
# 1 of the build in BUILD_DIR under `node --cpu-prof`, 10 `bench sub` subscribers on node 1 and 10
# `bench pub` publishers on node 0 for 10 s. Writes OUT_DIR/n0 (the sender) and OUT_DIR/n1 (the
# receiver) profiles, and the subscribers' JSON result; read a profile with
# `node scripts/cpuprofile-top.mjs OUT_DIR/n0/*.cpuprofile`.
# usage: scripts/profile-cluster.sh BUILD_DIR OUT_DIR
set -u
BIN=$1/bin/run.js
OUT=$2
rm -rf "$OUT"
mkdir -p "$OUT"
RP=$((21000 + RANDOM % 5000))
redis-server --port $RP --bind 127.0.0.1 --save '' --appendonly no --dir "$OUT" > "$OUT/redis.log" 2>&1 &
RPID=$!
PIDS=()
cleanup() { kill -INT "${PIDS[@]}" 2>/dev/null; wait "${PIDS[@]}" 2>/dev/null; kill $RPID 2>/dev/null; }
trap cleanup EXIT
sleep 0.5
for i in 0 1; do
  node --cpu-prof --cpu-prof-dir "$OUT/n$i" "$BIN" broker start --port $((RP + 1 + i)) --log-level warn --max-queued-messages 0 \
    --max-inflight-messages 1000 --cluster redis://127.0.0.1:$RP --node-id prof-$i > "$OUT/n$i.log" 2>&1 &
  PIDS+=($!)
done
sleep 3
node "$BIN" bench sub -p $((RP + 2)) -V 311 --workers 1 --json --quiet -c 10 -n 0 -q 1 -t 'q1/%i' --duration 10 > "$OUT/sub.json" 2>/dev/null &
SUB=$!
sleep 1
node "$BIN" bench pub -p $((RP + 1)) -V 311 --workers 1 --json --quiet -c 10 -n 0 -q 1 -t 'q1/%i' --duration 10 > /dev/null 2>&1
wait $SUB
