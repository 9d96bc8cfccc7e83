#!/bin/sh
# check.sh: compiles the corpus (against mono's corlib, and against ours if built) and
# Runner.exe, runs every corpus method under mono and compares with the expectations.
# Usage: jit/tests/mono-runner/check.sh [OUT_DIR]   (exit 1 on any disagreement)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${TMPDIR:-/tmp}/jit-corpus-mono}
mkdir -p "$out"
mcs -nologo -r:System.Numerics.dll -out:"$out/Runner.exe" "$here/Runner.cs"
mcs -nologo -target:library -unsafe -nowarn:169,414,649,219,1718 \
    -out:"$out/corpus.dll" "$here"/../corpus/*.cs
mono "$out/Runner.exe" "$out/corpus.dll" --expectations | sort > "$out/expect.txt"
mono "$out/Runner.exe" "$out/corpus.dll" --invoke-all '*' | sort > "$out/actual.txt"
if diff "$out/expect.txt" "$out/actual.txt"; then
    echo "mono agrees with all $(wc -l < "$out/expect.txt") corpus expectations"
else
    echo "mono disagrees (< expected, > mono)"; exit 1
fi
