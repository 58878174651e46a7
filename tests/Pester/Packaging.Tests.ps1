#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.5.0' }
# The nupkg as users install it: packed by the build's own script, served from a local repository, installed
# with Install-PSResource and with PowerShellGet's Install-Module, imported by name in a fresh pwsh.
# Every pwsh here runs with a temporary home and the default module path of that home, so the repository
# registrations and installed modules land in a temporary folder, never in the machine's own. Windows finds
# Documents and LocalAppData through known folders that no environment variable moves, so the installs are
# skipped there rather than made into the user's own profile.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Set-StrictMode -Version 3.0
    . (Join-Path $PSScriptRoot 'FreshPwsh.ps1')
    $script:ModuleFolder = $DeviceShellFolder
    $script:Manifest = Import-PowerShellDataFile (Join-Path $ModuleFolder 'DeviceShell.psd1')
    $script:Work = [System.IO.Directory]::CreateTempSubdirectory('deviceshell-packaging-').FullName
    # The README's install lines name the repository ./out, run from the folder that holds it.
    $script:Repository = Join-Path $Work 'out'

    # The README's "From a local repository" lines after the build's, as written: PSResourceGet's, then PowerShellGet 2's.
    $readme = Get-Content (Join-Path $RepoRoot 'README.md') -Raw
    $block = [regex]::Match($readme, '(?s)From a local repository.*?```powershell\r?\n(?<lines>.*?)```').Groups['lines'].Value
    $script:ReadmeInstall = @{}
    $script:ReadmeInstall['Install-PSResource'], $script:ReadmeInstall['Install-Module'] =
        ($block -split '\r?\n' | Where-Object { $_ -notmatch '^\./build' }) -join "`n" -split '# or with PowerShellGet 2:\n'

    # Runs a script in a pwsh whose home is $UserHome: on Linux and macOS the module path, PowerShellGet's and
    # PSResourceGet's repository lists all derive from it.
    function Invoke-IsolatedPwsh([string] $UserHome, [string] $Script, [hashtable] $Variables = @{}) {
        $environment = @{ HOME = $UserHome; PSModulePath = $null; XDG_DATA_HOME = $null; XDG_CONFIG_HOME = $null; XDG_CACHE_HOME = $null }
        $environment += $Variables
        $null = New-Item -ItemType Directory -Force -Path $UserHome
        # 420 s: Install-Module (PowerShellGet 2) in a fresh pwsh took over 180 s at load 55; a passing install waits none of it.
        Invoke-FreshPwsh -Script $Script -Environment $environment -TimeoutSec 420
    }

    $script:Packing = Invoke-IsolatedPwsh -UserHome (Join-Path $Work 'packer') -Variables @{
        DS_PACK = Join-Path $RepoRoot 'src/DeviceShell.BuildTools/Compress-Module.ps1'; DS_MODULE = $ModuleFolder; DS_REPOSITORY = $Repository
    } -Script '& $env:DS_PACK -ModuleFolder $env:DS_MODULE -OutputFolder $env:DS_REPOSITORY'
    $script:Package = Get-ChildItem $Repository -Filter 'DeviceShell.*.nupkg' -ErrorAction SilentlyContinue
}

AfterAll {
    Remove-Item $Work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'The nupkg' {
    It 'is packed by the build''s script' {
        $Packing.ExitCode | Should -Be 0 -Because $Packing.Errors
        $Package.Name | Should -Be "DeviceShell.$($Manifest.ModuleVersion).nupkg"
    }

    It 'carries the manifest''s metadata' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($Package.FullName)
        try {
            $reader = [System.IO.StreamReader]::new($zip.GetEntry('DeviceShell.nuspec').Open())
            $metadata = ([xml] $reader.ReadToEnd()).package.metadata
            $reader.Dispose()
        }
        finally {
            $zip.Dispose()
        }
        $data = $Manifest.PrivateData.PSData
        $metadata.id | Should -Be 'DeviceShell'
        $metadata.version | Should -Be $Manifest.ModuleVersion
        $metadata.description | Should -Be $Manifest.Description
        $metadata.authors | Should -Be $Manifest.Author
        $metadata.projectUrl | Should -Be $data.ProjectUri
        $metadata.licenseUrl | Should -Be $data.LicenseUri
        $metadata.releaseNotes | Should -Be $data.ReleaseNotes
        $tags = $metadata.tags -split ' '
        $tags | Should -Contain 'PSModule'
        foreach ($tag in $data.Tags) { $tags | Should -Contain $tag }
    }

    It 'points LicenseUri at the repository''s LICENSE' {
        $Manifest.PrivateData.PSData.LicenseUri | Should -Be "$($Manifest.PrivateData.PSData.ProjectUri)/blob/main/LICENSE"
        Join-Path $RepoRoot 'LICENSE' | Should -FileContentMatch 'MIT License'
    }
}

Describe 'Installed with <Install>' -Skip:$IsWindows -ForEach @(
    @{ Install = 'Install-PSResource'; Find = '@(Find-PSResource -Tag Tinkerforge -Repository DeviceShellLocal).Name' }
    @{ Install = 'Install-Module'; Find = '@(Find-Module -Tag Tinkerforge -Repository DeviceShellLocal).Name' }
) {
    BeforeAll {
        $script:UserHome = Join-Path $Work $Install
        $foundFile = Join-Path $Work "$Install.found"
        $commands = "Set-Location `$env:DS_WORK`n$($ReadmeInstall[$Install])`n$Find | Set-Content `$env:DS_FOUND"
        $script:Installing = Invoke-IsolatedPwsh -UserHome $UserHome -Script $commands -Variables @{ DS_WORK = $Work; DS_FOUND = $foundFile }
        $script:Found = Get-Content $foundFile -ErrorAction SilentlyContinue

        # Import by name only: the module has to be where this home's default module path finds it.
        $usedFile = Join-Path $Work "$Install.used.json"
        $script:Using = Invoke-IsolatedPwsh -UserHome $UserHome -Variables @{ DS_USED = $usedFile } -Script @'
$ErrorActionPreference = 'Stop'
# Conceptual help of an installed module is found before it is imported.
$about = (Get-Help about_DeviceShell | Out-String) -match '(?m)^SESSIONS'
Import-Module DeviceShell
$lab = Start-DeviceLab -Echo -StartTimeoutSec 60
try { $echoPort = $lab['echo'].Port } finally { Stop-DeviceLab -Lab $lab }
@{
    About      = $about
    ModuleBase = (Get-Module DeviceShell).ModuleBase
    Version    = "$((Get-Module DeviceShell).Version)"
    EchoPort   = $echoPort
    DeviceType = (Get-BrickDeviceType -Name 'Temperature Bricklet').Identifier
} | ConvertTo-Json | Set-Content $env:DS_USED
'@
        $script:Used = if (Test-Path $usedFile) { Get-Content $usedFile -Raw | ConvertFrom-Json }
    }

    It 'runs the README''s lines for <Install>' {
        $ReadmeInstall[$Install] | Should -Match "^Register-.*\n$Install DeviceShell -Repository DeviceShellLocal\s*$"
    }

    It 'installs without a warning or an error' {
        $Installing.ExitCode | Should -Be 0
        # Anything a user would see: warnings, errors and host output all reach the console streams.
        "$($Installing.Output)$($Installing.Errors)".Trim() | Should -BeNullOrEmpty
    }

    It 'finds it by tag in the local repository' {
        $Found | Should -Be 'DeviceShell'
    }

    It 'imports by name in a fresh pwsh from the temporary home and runs the Lab' {
        $Using.ExitCode | Should -Be 0 -Because $Using.Errors
        $Used.ModuleBase | Should -BeLike "$UserHome*"
        $Used.Version | Should -Be $Manifest.ModuleVersion
        $Used.EchoPort | Should -BeGreaterThan 0
        $Used.DeviceType | Should -Be 216
    }

    It 'serves Get-Help about_DeviceShell before the module is imported' {
        $Used.About | Should -BeTrue
    }
}
