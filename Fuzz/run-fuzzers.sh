#!/usr/bin/env bash
# Builds every fuzz target (libFuzzer + AddressSanitizer) and runs each for
# FUZZ_SECONDS seconds on a scratch copy of its seed corpus, so runs never
# dirty git. Fails when any target crashes; the crashing input and the log
# stay under .build/fuzz-artifacts/ and .build/fuzz-logs/.
#
#   FUZZ_SECONDS=60 ./run-fuzzers.sh [Target ...]      (default: all targets)
set -euo pipefail
cd "$(dirname "$0")"
SWIFT="${SWIFT:-swift}"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
ALL_TARGETS=(FuzzPacketHeader FuzzFrames FuzzInitiation FuzzResponse FuzzEndpointOps FuzzReassembly FuzzKeyParsers FuzzScenario)
TARGETS=("${@:-${ALL_TARGETS[@]}}")

# Op-sequence targets want longer inputs sooner than libFuzzer's length control gives.
options() {
    case "$1" in
        FuzzEndpointOps|FuzzReassembly) echo "-max_len=2048 -len_control=0" ;;
        *) echo "-max_len=4096" ;;
    esac
}

dictionary() {
    case "$1" in
        FuzzPacketHeader|FuzzInitiation|FuzzResponse|FuzzEndpointOps) echo Dictionaries/packets.dict ;;
        FuzzFrames) echo Dictionaries/frames.dict ;;
        FuzzKeyParsers) echo Dictionaries/keys.dict ;;
        FuzzScenario) echo Dictionaries/scenario.dict ;;
        *) echo "" ;;
    esac
}

echo "== building fuzz targets (release, -sanitize=fuzzer,address)"
"$SWIFT" build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library

failed=()
mkdir -p .build/corpus .build/fuzz-logs .build/fuzz-artifacts
for target in "${TARGETS[@]}"; do
    corpus=".build/corpus/$target"
    artifacts=".build/fuzz-artifacts/$target/"
    log=".build/fuzz-logs/$target.log"
    mkdir -p "$corpus" "$artifacts"
    cp -n "Corpus/$target"/* "$corpus"/ 2>/dev/null || true
    dict="$(dictionary "$target")"
    echo "== $target for ${SECONDS_PER_TARGET}s (corpus $corpus${dict:+, dict $dict})"
    set +e
    ".build/release/$target" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 $(options "$target") \
        -artifact_prefix="$artifacts" ${dict:+-dict="$dict"} "$corpus" > "$log" 2>&1
    status=$?
    set -e
    stats="$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1 || true)"
    echo "   $stats"
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" | sed 's/^/   /' || true
    if [ "$status" -ne 0 ]; then
        echo "!! $target failed (exit $status); log $log; artifacts in $artifacts"
        grep -E 'ERROR|Fatal error|Test unit written|SUMMARY' "$log" | head -10 | sed 's/^/   /'
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzzing found crashes in: ${failed[*]}"
    exit 1
fi
echo "fuzzing: ${#TARGETS[@]} targets ran ${SECONDS_PER_TARGET}s each without a crash"
