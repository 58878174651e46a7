#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Ctrl+C in a terminal sends SIGINT to the whole foreground process group: the pwsh that started a Lab and, unless the
# Lab keeps out of it, the Lab too. A pwsh of its own process group (setsid) starts a Lab, connects and waits in
# Receive-BrickCallback; the test signals the group as a terminal would and reads what the pwsh saw afterwards.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Set-StrictMode -Version 3.0
    . (Join-Path $PSScriptRoot 'FreshPwsh.ps1')
    $script:ModulePath = $DeviceShellManifest

    # The next stdout line of the child that starts with $Prefix, or a failure after $TimeoutSec.
    function Read-ChildLine([System.Diagnostics.Process] $Process, [string] $Prefix, [int] $TimeoutSec) {
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
        # The lines passed over name what the child did instead (NOT INTERRUPTED: the Ctrl+C did not stop the receive).
        $passedOver = [System.Collections.Generic.List[string]]::new()
        while ($true) {
            $left = $deadline - [DateTime]::UtcNow
            $read = if ($left -gt [TimeSpan]::Zero) { $Process.StandardOutput.ReadLineAsync() }
            if ($null -eq $read -or -not $read.Wait($left)) {
                throw "No '$Prefix' line from the child pwsh within $TimeoutSec s; it wrote: $($passedOver -join ' | ')"
            }
            if ($null -eq $read.Result) { throw "The child pwsh ended before its '$Prefix' line. stderr: $($Process.StandardError.ReadToEnd())" }
            if ($read.Result.StartsWith($Prefix)) { return $read.Result.Substring($Prefix.Length) }
            $passedOver.Add($read.Result)
        }
    }
}

Describe 'Ctrl+C in the shell that started a Lab' {
    # setsid (util-linux) and /proc are Linux's. A suite started in the background of a script (`cmd &`) ignores
    # SIGINT, and children inherit that: env --default-signal (coreutils) gives the child pwsh a terminal's default.
    BeforeAll { $script:InteractiveLaunch = 'setsid', 'env', '--default-signal=INT' }
    It 'stops the Receive-* and leaves the Lab and every session up' -Skip:(-not $IsLinux) {
        $child = [System.Diagnostics.Process]::Start((New-PwshStartInfo -Launcher $InteractiveLaunch -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModulePath'
`$lab = Start-DeviceLab -Brick -PiButton -StartTimeoutSec 60
`$brick = `$lab.Endpoints | Where-Object Simulator -EQ 'brick'
`$button = `$lab.Endpoints | Where-Object Simulator -EQ 'pibutton'
`$brickSession = Connect-Brick -HostName `$brick.Host -Port `$brick.Port
`$piSession = Connect-PiLink -HostName `$button.Host -Port `$button.Port -TimeoutSec 10
`$group = ((Get-Content "/proc/`$PID/stat") -split ' ')[4]
try {
    # A later command's begin block runs after Receive-BrickCallback has begun and before it waits.
    Receive-BrickCallback -Session `$brickSession -Kind Disconnected -TimeoutSec 120 |
        ForEach-Object -Begin { [Console]::Out.WriteLine("READY `$group"); [Console]::Out.Flush() } -Process { }
    [Console]::Out.WriteLine('NOT INTERRUPTED')
}
finally {
    # What the user sees after Ctrl+C: the lab, the sessions' states, and whether each still answers (or why not).
    `$report = [ordered]@{
        LabExited   = `$lab.HasExited
        BrickState  = "`$(`$brickSession.State)"
        PiLinkState = "`$(`$piSession.LinkState)"
        Devices     = `$(try { @(Get-BrickEnumeration -Session `$brickSession).Count } catch { "`$_" })
        ButtonReply = `$(try { (Send-PiLinkMessage -Session `$piSession -Message 'go' -WaitReplySec 10).Text } catch { "`$_" })
    }
    [Console]::Out.WriteLine('REPORT ' + (`$report | ConvertTo-Json -Compress))
    [Console]::Out.Flush()
    Stop-DeviceLab -Lab `$lab
}
"@))
        try {
            $group = Read-ChildLine $child 'READY ' 120
            $group | Should -Be "$($child.Id)" -Because 'setsid made the child pwsh the leader of its own process group'
            # Receive-BrickCallback is waiting: signal the group as the terminal would.
            & kill -INT -- "-$group"
            $report = Read-ChildLine $child 'REPORT ' 60 | ConvertFrom-Json
            $report.LabExited | Should -BeFalse
            $report.BrickState | Should -Be 'Connected'
            $report.PiLinkState | Should -Be 'Connected'
            $report.Devices | Should -BeGreaterThan 0
            $report.ButtonReply | Should -Be 'Button released'
            $child.WaitForExit(60000) | Should -BeTrue
        }
        finally {
            if (-not $child.HasExited) { $child.Kill($true) }
        }
    }
}

Describe 'A lab that exits on its own' {
    It 'is named once by the next command on each session it served' {
        Import-Module $ModulePath -Force
        $lab = Start-DeviceLab -Brick -StartTimeoutSec 60
        $brick = $lab['brick']
        $session = Connect-Brick -HostName $brick.Host -Port $brick.Port
        try {
            Stop-Process -Id $lab.ProcessId -Force
            # The session may notice the closed connection before the killed process is reaped: wait for both.
            $null = Wait-Until { $session.State -eq 'Reconnecting' -and $lab.HasExited } -TimeoutSec 30 -Because 'the session to reconnect and the Lab to be reaped'
            $session.State.ToString() | Should -Be 'Reconnecting'
            $lab.HasExited | Should -BeTrue

            $first = Get-DeviceSession -Id $session.Id 3>&1 | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }
            @($first).Count | Should -Be 1
            $first.Message | Should -BeLike "The lab that served $session has exited (pid $($lab.ProcessId), exit code *"
            $again = Get-DeviceSession -Id $session.Id 3>&1 | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }
            @($again).Count | Should -Be 0
            $onUse = Set-BrickSession -Session $session -WhatIf 3>&1 | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }
            @($onUse).Count | Should -Be 0
        }
        finally {
            Disconnect-Brick -Session $session
            Stop-DeviceLab -Lab $lab
        }
    }
}
