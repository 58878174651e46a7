#Requires -Version 7.4
<#
.SYNOPSIS
    Runs every tests/Pester/*.Tests.ps1 against the staged module (out/DeviceShell) and writes
    {"passed":N,"failed":N,"skipped":N,"skippedTests":[...],"failedTests":[...]} to -ResultFile for the build's test summary.
.DESCRIPTION
    Pester is imported by path from its NuGet package (the build passes the pinned one), so a run never
    depends on the modules a machine happens to have installed. -Tag and -ExcludeTag pick blocks by tag:
    the build runs the blocks tagged Slow (long waits by design) in a pwsh of their own beside the others.
#>
param(
    [Parameter(Mandatory)]
    [string] $PesterModule,
    [Parameter(Mandatory)]
    [string] $ResultFile,
    [string[]] $Tag,
    [string[]] $ExcludeTag
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterModule -Force

$configuration = New-PesterConfiguration
$configuration.Run.Path = $PSScriptRoot
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
if ($Tag) { $configuration.Filter.Tag = $Tag }
if ($ExcludeTag) { $configuration.Filter.ExcludeTag = $ExcludeTag }
# Colour codes only where a terminal shows them, not in the build's and CI's logs.
if ([Console]::IsOutputRedirected) { $configuration.Output.RenderMode = 'Plaintext' }
$result = Invoke-Pester -Configuration $configuration
# Where the time went, slowest file first: what to look at when the suite gets slow.
$result.Containers | Sort-Object Duration -Descending | ForEach-Object {
    '{0,7:N1} s  {1}' -f $_.Duration.TotalSeconds, (Split-Path $_.Item -Leaf)
}

[ordered]@{
    passed       = $result.PassedCount
    failed       = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    skipped      = $result.SkippedCount
    skippedTests = @($result.Skipped | ForEach-Object { $_.ExpandedPath })
    # A failed test with the first line of its error; a failed block or file (BeforeAll) by its name.
    failedTests  = @(
        $result.Failed | ForEach-Object { '{0}: {1}' -f $_.ExpandedPath, "$($_.ErrorRecord | Select-Object -First 1)".Split("`n")[0] }
        $result.FailedBlocks | ForEach-Object { '{0}: block failed' -f $_.ExpandedPath }
        $result.FailedContainers | ForEach-Object { '{0}: file failed' -f $_.Item }
    )
} | ConvertTo-Json -Compress | Set-Content -Path $ResultFile -Encoding utf8
if ($result.Result -ne 'Passed') { exit 1 }
