#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.5.0' }
# ./build.sh demo runs docs/QuickStart.ps1: the README's quick starts as cmdlets, every world against the Lab.
# It runs here in a pwsh of its own, as the build runs it, and what it prints is what a newcomer sees first.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Set-StrictMode -Version 3.0
    . (Join-Path $PSScriptRoot 'FreshPwsh.ps1')
    $script:QuickStart = Join-Path $RepoRoot 'docs/QuickStart.ps1'
    $script:Run = Invoke-FreshPwsh -TimeoutSec 240 -Environment @{ DS_QUICKSTART = $QuickStart } -Script '& $env:DS_QUICKSTART; exit $LASTEXITCODE'
    $script:Shown = $Run.Output
}

Describe 'The quick start (./build.sh demo)' {
    It 'runs every step without an error' {
        $Run.ExitCode | Should -Be 0 -Because "$($Run.Output)$($Run.Errors)"
        $Run.Errors | Should -BeNullOrEmpty
        $Shown | Should -Match 'Every world ran against its simulator'
    }

    It 'shows each world: <World>' -ForEach @(
        @{ World = 'Bricks'; Evidence = 'Temperature Bricklet 2.0\s+4ER' }
        @{ World = 'Gateway'; Evidence = '939342898\s+BioentryW2\s+192\.168\.0\.130\s+TcpConnected\s+DeviceToServer' }
        @{ World = 'Webifi'; Evidence = '(?m)^a\s+\d+\s' }
        @{ World = 'Pi link'; Evidence = '(?m)^Button pressed\s*$' }
    ) {
        $Shown | Should -Match "=== $World"
        $Shown | Should -Match $Evidence
    }

    It 'writes no ANSI escape sequences when its output is not a terminal (./build.sh demo > file)' {
        "$Shown$($Run.Errors)" | Should -Not -Match "`e\["
    }

    It 'prints every command before its output, as typed at a prompt' {
        $Shown | Should -Match '(?m)^PS> Connect-Gateway -HostName \$gw\.Host'
    }

    It 'is what the README shows: every step of the script is a line of README.md' {
        # Spacing aside: the README aligns its assignments.
        $readme = Get-Content (Join-Path $RepoRoot 'README.md') | ForEach-Object { $_ -replace '\s+', ' ' }
        $steps = Select-String -Path $QuickStart -Pattern '^\s+\{ (.+) \}$' | ForEach-Object { $_.Matches[0].Groups[1].Value }
        $steps.Count | Should -BeGreaterThan 20
        foreach ($step in $steps) {
            # The README writes some steps on one line and adds comments; every command must be there as written.
            foreach ($command in ($step -replace '\s+', ' ') -split '; ') {
                ($readme | Where-Object { $_.Contains($command) }) | Should -Not -BeNullOrEmpty -Because "README.md should show '$command'"
            }
        }
    }
}

Describe 'The shell''s start (./build.sh shell)' {
    It 'leaves the module imported and a Lab with every simulator in $lab, and says what to try' {
        $prepared = Invoke-FreshPwsh -TimeoutSec 120 -Environment @{ DS_QUICKSTART = $QuickStart } -Script @'
. $env:DS_QUICKSTART -PrepareShell
"simulators: $($lab.Endpoints.Simulator -join ',')"
"commands: $((Get-Command -Module DeviceShell).Count)"
Stop-DeviceLab -Lab $lab
'@
        $prepared.ExitCode | Should -Be 0 -Because $prepared.Errors
        $prepared.Output | Should -Match 'simulators: brick,gateway,webifi,pibutton'
        $prepared.Output | Should -Match 'commands: [1-9]\d'
        $tryFirst = ($prepared.Output -split '\r?\n' | Select-String -Pattern 'Try first:' -Context 0, 3).Context.PostContext
        $tryFirst.Count | Should -Be 3
        $tryFirst | Should -Match '^  (\$brick = Connect-Brick|Get-DeviceSession|Get-Help about_DeviceShell)'
    }
}

Describe 'The shell (./build.sh shell)' {
    It 'suggests a first line that renders as a table' {
        $shell = Invoke-FreshPwsh -TimeoutSec 240 -Environment @{ DS_QUICKSTART = $QuickStart } -Script @'
$shown = . $env:DS_QUICKSTART -PrepareShell 6>&1 | Out-String
$tryFirst = ($shown -split "`n" | Where-Object { $_ -match '^\s+\$brick = Connect-Brick' }).Trim()
"TRY $tryFirst"
try { Invoke-Expression $tryFirst | Out-String -Width 80 } finally { Disconnect-Brick -All; Stop-DeviceLab -Lab $lab }
'@
        $shell.Errors | Should -BeNullOrEmpty
        $shell.Output | Should -Match '(?m)^TRY \$brick = Connect-Brick'
        # What the line shows: everything after the TRY line (the Lab's endpoints table comes before it).
        $lines = $shell.Output.Substring($shell.Output.IndexOf('TRY ')) -split '\r?\n' | Select-Object -Skip 1 | Where-Object { $_.Trim() }
        $lines[0] | Should -Match '^Device\s+Uid\s+FirmwareVersion\s*$'
        $lines.Count | Should -BeLessThan 12 -Because "the tutorial stack's topology is a short table:`n$($shell.Output)"
    }
}
