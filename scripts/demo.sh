#!/usr/bin/env bash
# make demo: two hosts on loopback, files sent with a progress bar, records
# echoed, the connection's statistics. Everything lives in a temporary
# folder that is removed at the end.
set -euo pipefail

SWIFT=${SWIFT:-swift}
cd "$(dirname "$0")/.."
$SWIFT build --product sss ${SWIFT_FLAGS:-} >&2
SSS="$($SWIFT build --show-bin-path ${SWIFT_FLAGS:-})/sss"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sss-demo.XXXXXX")
RECEIVER=""
cleanup() {
    [ -n "$RECEIVER" ] && kill "$RECEIVER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== two identities"
"$SSS" keygen --out "$WORK/alice.key"
"$SSS" keygen --out "$WORK/bob.key"

echo "== files: 20 MB of random bytes and two small ones"
mkdir -p "$WORK/outbox" "$WORK/inbox"
head -c 20000000 /dev/urandom > "$WORK/outbox/big.bin"
echo "hello from alice" > "$WORK/outbox/hello.txt"
printf 'a line\nanother line\n' > "$WORK/outbox/lines.txt"

echo "== bob receives (one connection, any free port; only alice may send)"
ALICE=$("$SSS" id --key "$WORK/alice.key")
"$SSS" receive --key "$WORK/bob.key" --known-hosts "$WORK/bob_known_hosts" --dir "$WORK/inbox" \
    --allow "$ALICE" --bind 127.0.0.1 --port 0 --once --stats --ready-file "$WORK/ready" &
RECEIVER=$!
for _ in $(seq 200); do [ -s "$WORK/ready" ] && break; sleep 0.05; done
[ -s "$WORK/ready" ] || { echo "the receiver did not start"; exit 1; }
PEER=$(cat "$WORK/ready")
echo "bob is $PEER"

echo "== alice sends (Noise IK: she knows bob's EID), then echoes 200 records"
"$SSS" send --key "$WORK/alice.key" --known-hosts "$WORK/alice_known_hosts" \
    "$WORK/outbox/big.bin" "$WORK/outbox/hello.txt" "$WORK/outbox/lines.txt" "$PEER" --records 200 --stats
wait "$RECEIVER"
RECEIVER=""

echo "== what arrived"
for f in big.bin hello.txt lines.txt; do
    if cmp -s "$WORK/outbox/$f" "$WORK/inbox/$f"; then echo "$f: identical"; else echo "$f: DIFFERS"; exit 1; fi
done
