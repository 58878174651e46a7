#Requires -Version 7.4
<#
.SYNOPSIS
    Builds DeviceShell into out/DeviceShell, and optionally tests or packs it.
.DESCRIPTION
    A thin wrapper over the MSBuild targets in src/DeviceShell.BuildTools/Module.targets (build.sh is the
    same for machines without PowerShell). When platyPS is installed, the help MAML is regenerated from
    docs/cmdlets with New-ExternalHelp; otherwise the build's own converter has written it already.
.PARAMETER Demo
    After building, runs the README's quick starts (docs/QuickStart.ps1) as cmdlets in the pinned pwsh, every world against the Lab.
.PARAMETER Shell
    After building, opens the pinned pwsh with the module imported and a Lab started in $lab.
.EXAMPLE
    ./build.ps1 -Demo
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
    [switch] $Demo,
    [switch] $Shell,
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

if ($Demo -or $Shell) {
    # The pinned pwsh, not the one running this script: what ./build.sh demo and shell run too.
    dotnet tool restore | Out-Null
    if ($Demo) {
        dotnet tool run pwsh -NoProfile -File docs/QuickStart.ps1
        if ($LASTEXITCODE) { throw 'The quick start failed.' }
    }
    if ($Shell) { dotnet tool run pwsh -NoProfile -NoExit -Command '. ./docs/QuickStart.ps1 -PrepareShell' }
}
