#Requires -Version 7.4
<#
.SYNOPSIS
    Builds DeviceShell into out/DeviceShell, and optionally tests or packs it.
.DESCRIPTION
    A thin wrapper over the MSBuild targets in src/DeviceShell.BuildTools/Module.targets (build.sh is the
    same for machines without PowerShell). When platyPS is installed, the help MAML is regenerated from
    docs/cmdlets with New-ExternalHelp; otherwise the build's own converter has written it already.
.EXAMPLE
    ./build.ps1 -Test
.EXAMPLE
    ./build.ps1 -Package; Register-PSResourceRepository -Name Local -Uri ./out -Trusted; Install-PSResource DeviceShell -Repository Local
#>
[CmdletBinding()]
param(
    [switch] $Test,
    [switch] $Clean,
    [switch] $Package,
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$env:CONFIGURATION = $Configuration

if ($Clean) {
    dotnet msbuild src/DeviceShell.BuildTools -t:CleanModule "-p:Configuration=$Configuration" -nologo -v:minimal
    if (-not ($Test -or $Package)) { return }
}

$target = if ($Package) { 'PackageModule' } else { 'StageModule' }
dotnet build src/DeviceShell.BuildTools -c $Configuration "-t:$target" -nologo -v:minimal
if ($LASTEXITCODE) { throw "The build failed ($LASTEXITCODE)." }

$platyPS = Get-Module -ListAvailable -Name platyPS | Select-Object -First 1
if ($platyPS) {
    Import-Module $platyPS
    $pages = Get-ChildItem docs/cmdlets -Filter *.md | Where-Object Name -ne 'DeviceShell.md'
    New-ExternalHelp -Path $pages.FullName -OutputPath out/DeviceShell/en-US -Force | Out-Null
    Write-Verbose 'Help generated with platyPS.'
}

if ($Test) {
    # Runs the same target as ./build.sh test; it restages, so platyPS help is written again after it.
    dotnet build src/DeviceShell.BuildTools -c $Configuration -t:TestModule -nologo -v:minimal
    $failed = $LASTEXITCODE
    if ($platyPS) { New-ExternalHelp -Path $pages.FullName -OutputPath out/DeviceShell/en-US -Force | Out-Null }
    if ($failed) { throw 'Tests failed.' }
}
