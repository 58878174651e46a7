#Requires -Version 7.4
<#
.SYNOPSIS
    Runs every tests/Pester/*.Tests.ps1 against the staged module (out/DeviceShell) and writes
    {"passed":N,"failed":N,"skipped":N} to -ResultFile for the build's test summary.
#>
param(
    [Parameter(Mandatory)]
    [string] $ResultFile
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module -ListAvailable -Name Pester | Where-Object Version -GE '5.5.0')) {
    Write-Host 'Installing Pester 5 for the current user.'
    Install-Module -Name Pester -MinimumVersion 5.5.0 -Scope CurrentUser -Force -SkipPublisherCheck
}
Import-Module Pester -MinimumVersion 5.5.0

$configuration = New-PesterConfiguration
$configuration.Run.Path = $PSScriptRoot
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
$result = Invoke-Pester -Configuration $configuration

@{ passed = $result.PassedCount; failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount; skipped = $result.SkippedCount } |
    ConvertTo-Json -Compress | Set-Content -Path $ResultFile -Encoding utf8
if ($result.Result -ne 'Passed') { exit 1 }
