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
# Methods mono is known to get wrong (mono-known-bugs.txt) are left out of the diff.
grep -v '^#' "$here/mono-known-bugs.txt" | awk 'NF {print $1 " "}' > "$out/known.txt"
mono "$out/Runner.exe" "$out/corpus.dll" --expectations | grep -v -F -f "$out/known.txt" | sort > "$out/expect.txt"
mono "$out/Runner.exe" "$out/corpus.dll" --invoke-all '*' | grep -v -F -f "$out/known.txt" | sort > "$out/actual.txt"
if diff "$out/expect.txt" "$out/actual.txt"; then
    echo "mono agrees with all $(wc -l < "$out/expect.txt") corpus expectations ($(wc -l < "$out/known.txt") known mono bugs skipped)"
else
    echo "mono disagrees (< expected, > mono)"; exit 1
fi
