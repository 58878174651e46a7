#Requires -Version 7.4
<#
.SYNOPSIS
    Packs the staged module as the nupkg PowerShell repositories serve, with PSResourceGet's own packer.
.DESCRIPTION
    Compress-PSResource writes the nuspec from the module manifest (description, authors, tags,
    ProjectUri, LicenseUri, ReleaseNotes) exactly as Publish-PSResource would for the PowerShell Gallery,
    so Install-PSResource and Install-Module read what they expect. Run by the PackageModule target in
    the pinned pwsh, and by tests/Pester/Packaging.Tests.ps1.
#>
param(
    [Parameter(Mandatory)]
    [string] $ModuleFolder,
    [Parameter(Mandatory)]
    [string] $OutputFolder
)
$ErrorActionPreference = 'Stop'
$null = New-Item -ItemType Directory -Force -Path $OutputFolder
$package = Compress-PSResource -Path $ModuleFolder -DestinationPath $OutputFolder -PassThru
"Packed $($package.FullName)"
