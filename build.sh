#!/usr/bin/env bash
# DeviceShell build entry for machines without PowerShell; build.ps1 is the same for pwsh users.
# Both are thin wrappers over the MSBuild targets in src/DeviceShell.BuildTools/Module.targets.
#   ./build.sh            build and stage the module in out/DeviceShell
#   ./build.sh demo       build, stage, then run the README's quick starts as cmdlets in the pinned pwsh, every world against the Lab
#   ./build.sh shell      build, stage, then an interactive pinned pwsh with the module imported and a Lab in $lab
#   ./build.sh test       build, stage, run every test suite; ends with "N passed, N failed"
#   ./build.sh package    build, stage and pack out/DeviceShell.<version>.nupkg
#   ./build.sh clean      remove out/ and the build outputs
set -euo pipefail
cd "$(dirname "$0")"
configuration="${CONFIGURATION:-Release}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

target() {
  dotnet build src/DeviceShell.BuildTools -c "$configuration" "-t:$1" -nologo -v:minimal
}

case "${1:-build}" in
  build) target StageModule ;;
  demo) target StageModule; dotnet tool restore >/dev/null; dotnet tool run pwsh -NoProfile -File docs/QuickStart.ps1 ;;
  shell) target StageModule; dotnet tool restore >/dev/null; exec dotnet tool run pwsh -NoProfile -NoExit -Command '. ./docs/QuickStart.ps1 -PrepareShell' ;;
  test)
    status=0
    target TestModule || status=$?
    summary=out/test-results/summary.txt
    if [ -f "$summary" ]; then cat "$summary"; else echo "0 passed, 1 failed"; status=1; fi
    exit "$status" ;;
  package) target PackageModule ;;
  clean) dotnet msbuild src/DeviceShell.BuildTools -t:CleanModule "-p:Configuration=$configuration" -nologo -v:minimal ;;
  *) echo "usage: ./build.sh [build|demo|shell|test|package|clean]" >&2; exit 2 ;;
esac
