#!/usr/bin/env bash
# The benchmark table of docs/benchmarks.md in one command: stages the module (the bench runs the staged Lab in its own process),
# then runs every suite. ./bench/run.sh [--quick] [suite ...]; the table goes to stdout and to out/bench-results.md.
# Peers that are not installed are skipped with one line naming the package (see "Running the bench" in docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
./build.sh >/dev/null
dotnet build -c Release bench/DeviceShell.Bench -nologo -v:quiet >/dev/null
exec dotnet run -c Release --no-build --project bench/DeviceShell.Bench -- "$@" --out out/bench-results.md
