#!/usr/bin/env bash
# make flood: the denial-of-service measurement on loopback. A receiver serves
# a file transfer (1) alone, (2) while a third process sends it FLOOD_COUNT
# junk datagrams and handshake Initiations, and (3) takes the flood alone, so
# its CPU per flood datagram can be read off. Every transfer must arrive
# byte-exact. Release build; everything in a temporary folder.
set -euo pipefail

SWIFT=${SWIFT:-swift}
COUNT=${FLOOD_COUNT:-100000}
MB=${FLOOD_MB:-600}   # large enough that the whole flood arrives during the transfer
cd "$(dirname "$0")/.."
$SWIFT build -c release --product sss >&2
SSS="$($SWIFT build -c release --show-bin-path)/sss"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sss-flood.XXXXXX")
RECEIVER=""
cleanup() { [ -n "$RECEIVER" ] && kill "$RECEIVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$SSS" keygen --out "$WORK/server.key" >/dev/null
"$SSS" keygen --out "$WORK/client.key" >/dev/null
mkdir -p "$WORK/out"
head -c $((MB * 1000000)) /dev/urandom > "$WORK/out/payload.bin"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime + stime, in clock ticks
TICK=$(getconf CLK_TCK)

start_receiver() {
    rm -rf "$WORK/in" "$WORK/ready"; mkdir -p "$WORK/in"
    "$SSS" receive --key "$WORK/server.key" --known-hosts "$WORK/server_kh" --dir "$WORK/in" \
        --allow-any --bind 127.0.0.1 --port 0 --once --ready-file "$WORK/ready" > "$WORK/receiver.log" 2>&1 &
    RECEIVER=$!
    for _ in $(seq 200); do [ -s "$WORK/ready" ] && return; sleep 0.05; done
    echo "the receiver did not start"; exit 1
}

transfer() {   # prints the transfer's seconds
    local started ended
    started=$(date +%s.%N)
    "$SSS" send --key "$WORK/client.key" --known-hosts "$WORK/client_kh" "$WORK/out/payload.bin" "$(cat "$WORK/ready")" \
        > "$WORK/send.log" 2>&1 || { cat "$WORK/send.log"; exit 1; }
    ended=$(date +%s.%N)
    wait "$RECEIVER"; RECEIVER=""
    cmp -s "$WORK/out/payload.bin" "$WORK/in/payload.bin" || { echo "the file arrived damaged"; exit 1; }
    awk "BEGIN { print $ended - $started }"
}

echo "== 1. $MB MB alone"
start_receiver
base=$(transfer)
printf '   %.2f s, %.1f MB/s, byte-exact\n' "$base" "$(awk "BEGIN { print $MB / $base }")"

echo "== 2. $MB MB while $COUNT junk and handshake datagrams arrive"
start_receiver
flood_started=$(date +%s.%N)
{ "$SSS" flood "$(cat "$WORK/ready")" --count "$COUNT" > "$WORK/flood.log" 2>&1; date +%s.%N > "$WORK/flood.ended"; } &
FLOODER=$!
flooded=$(transfer)
transfer_ended=$(date +%s.%N)
wait "$FLOODER"
flood_ended=$(cat "$WORK/flood.ended")
printf '   %.2f s, %.1f MB/s, byte-exact (%.2f of the goodput alone)\n' "$flooded" "$(awk "BEGIN { print $MB / $flooded }")" \
    "$(awk "BEGIN { print $base / $flooded }")"
echo "   $(cat "$WORK/flood.log")"
# The flood and the transfer start together; the flood sends at a steady
# rate, so the share of it that arrived during the transfer is the share of
# its time the transfer covered.
overlap=$(awk "BEGIN { f = ($transfer_ended - $flood_started) / ($flood_ended - $flood_started); print (f > 1 ? 1 : f) }")
if awk "BEGIN { exit !($transfer_ended < $flood_ended) }"; then
    printf '   the transfer ended first: about %.0f %% of the flood arrived during it (a larger FLOOD_MB covers it all)\n' \
        "$(awk "BEGIN { print $overlap * 100 }")"
else
    echo "   the whole flood arrived during the transfer"
fi

echo "== 3. the flood alone: the receiver's CPU per datagram, junk and Initiations apart"
start_receiver
measure() {   # $1: label, then flood arguments
    local label=$1; shift
    local before after
    before=$(cpu_ticks "$RECEIVER")
    "$SSS" flood "$(cat "$WORK/ready")" "$@" > "$WORK/flood.log" 2>&1
    sleep 0.5
    after=$(cpu_ticks "$RECEIVER")
    echo "   $(cat "$WORK/flood.log")"
    printf '   %s: receiver CPU %.2f s, %.1f µs per datagram\n' "$label" "$(awk "BEGIN { print ($after - $before) / $TICK }")" \
        "$(awk "BEGIN { print ($after - $before) / $TICK / $2 * 1000000 }")"
}
measure "junk" --count "$COUNT" --initiations 0
measure "Initiations" --count $((COUNT / 50)) --initiations 100 --seed 2
kill "$RECEIVER" 2>/dev/null || true; RECEIVER=""
