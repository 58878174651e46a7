#Requires -Version 7.4
<#
.SYNOPSIS
    Many sessions per world in one shell: opened from ForEach-Object -Parallel, then one request each.
.DESCRIPTION
    Imports the staged module, starts a Lab, and per world opens -Count sessions with ForEach-Object -Parallel
    -ThrottleLimit 16 (each parallel runspace imports the module; the session registry is process-wide), then reports
    the time to open them, the process's working-set and managed-heap growth and its thread count per session, the
    time of Get-DeviceSession over all of them, and a round of one request per session (again in parallel). A Pi button
    server takes one client at a time, as tcpcom's does, so Pi link sessions go to -Count simulated button servers
    (one per Pi, as in a fleet) run by a background job in a process of their own, which keeps their memory and
    sessions out of the figures.

        ./build.sh
        dotnet tool run pwsh -NoProfile -File bench/Measure-Sessions.ps1 -Count 1000
#>
param(
    [int] $Count = 1000,
    [int] $ThrottleLimit = 16,
    [ValidateSet('Bricks', 'Gateway', 'Webifi', 'PiLink')] [string[]] $World = @('Bricks', 'Gateway', 'Webifi', 'PiLink')
)
$ErrorActionPreference = 'Stop'
$manifest = (Resolve-Path (Join-Path $PSScriptRoot '..' 'out' 'DeviceShell' 'DeviceShell.psd1')).Path
Import-Module $manifest
$lab = Start-DeviceLab -Brick -Gateway -Webifi
$piPorts = @()
if ('PiLink' -in $World) {
    $buttons = Start-Job -ArgumentList $manifest, $Count -ScriptBlock {
        param($Manifest, $Count)
        Import-Module $Manifest
        1..$Count | ForEach-Object { (Start-PiButtonServer -Simulated -Port 0 -LocalAddress 127.0.0.1 -IdleTimeoutSec 0 -Confirm:$false).Port }
        while ($true) { Start-Sleep -Seconds 1 }
    }
    $deadline = [DateTime]::UtcNow.AddMinutes(2)
    while ($piPorts.Count -lt $Count) {
        if ([DateTime]::UtcNow -gt $deadline -or $buttons.State -notin 'Running', 'NotStarted') { throw "The button servers did not start: $($buttons.ChildJobs[0].JobStateInfo.Reason)" }
        $piPorts += @(Receive-Job $buttons)
        Start-Sleep -Milliseconds 200
    }
}

# Texts, not script blocks: ForEach-Object -Parallel takes no script block through $using:, so each runspace builds its own.
$open = @'
param($World, $Lab, $PiPorts, $Index)
switch ($World) {
    Bricks { Connect-Brick -HostName $Lab['brick'].Host -Port $Lab['brick'].Port }
    Gateway { Connect-Gateway -HostName $Lab['gateway'].Host -Port $Lab['gateway'].Port -CaCertificate $Lab['gateway'].CaCertificate }
    Webifi {
        $credential = [pscredential]::new('webifi', (ConvertTo-SecureString 'pswd' -AsPlainText -Force))
        Connect-Webifi -Credential $credential -Server "http://$($Lab['webifi'].Host):$($Lab['webifi'].Port)/" -Network lab
    }
    PiLink { Connect-PiLink -HostName 127.0.0.1 -Port $PiPorts[$Index - 1] }
}
'@
$request = @'
param($World, $Session)
switch ($World) {
    Bricks { Get-BrickTemperature -Uid 4ER -Session $Session }
    Gateway { Get-GatewayDevice -Session $Session }
    Webifi { 'x' | Send-WebifiData -ToNetwork lab -Session $Session }
    PiLink { Send-PiLinkMessage -Message go -WaitReplySec 5 -Session $Session }
}
'@
$close = @{ Bricks = 'Disconnect-Brick'; Gateway = 'Disconnect-Gateway'; Webifi = 'Disconnect-Webifi'; PiLink = 'Disconnect-PiLink' }

function Get-ProcessFigures {
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    $process = [Diagnostics.Process]::GetCurrentProcess()
    [pscustomobject]@{ WorkingSet = $process.WorkingSet64; Managed = [GC]::GetTotalMemory($true); Threads = $process.Threads.Count }
}

$rows = foreach ($name in $World) {
    # One session first, opened and closed in a parallel runspace, so loading the module and compiling the world's code is not counted.
    1 | ForEach-Object -Parallel { Import-Module $using:manifest; $null = & ([scriptblock]::Create($using:open)) $using:name $using:lab $using:piPorts $_ } -ThrottleLimit 1
    Get-DeviceSession | ForEach-Object { & $close[$name] -Session $_ }
    $before = Get-ProcessFigures
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $failures = @(1..$Count | ForEach-Object -ThrottleLimit $ThrottleLimit -Parallel {
            Import-Module $using:manifest
            try { $null = & ([scriptblock]::Create($using:open)) $using:name $using:lab $using:piPorts $_ } catch { $_.Exception.Message }
        })
    $openSeconds = $clock.Elapsed.TotalSeconds
    Start-Sleep -Seconds 1
    $after = Get-ProcessFigures
    $clock.Restart()
    $sessions = @(Get-DeviceSession)
    $list = $clock.Elapsed.TotalMilliseconds
    $clock.Restart()
    $requestFailures = @($sessions | ForEach-Object -ThrottleLimit $ThrottleLimit -Parallel {
            Import-Module $using:manifest
            try { $null = & ([scriptblock]::Create($using:request)) $using:name $_ } catch { $_.Exception.Message }
        })
    $requests = $clock.Elapsed.TotalSeconds
    $opened = $sessions.Count
    $sessions | ForEach-Object { & $close[$name] -Session $_ }
    [pscustomobject]@{
        World              = $name
        Opened             = "$opened of $Count"
        'Open (s)'         = [math]::Round($openSeconds, 1)
        'ms per session'   = [math]::Round($openSeconds * 1000 / [math]::Max(1, $opened), 2)
        'working set KiB/session' = [math]::Round(($after.WorkingSet - $before.WorkingSet) / 1KB / [math]::Max(1, $opened), 1)
        'heap KiB/session' = [math]::Round(($after.Managed - $before.Managed) / 1KB / [math]::Max(1, $opened), 1)
        'threads/session'  = [math]::Round(($after.Threads - $before.Threads) / [math]::Max(1, $opened), 3)
        'Get-DeviceSession (ms)' = [math]::Round($list, 1)
        'one request each (s)'   = [math]::Round($requests, 1)
        Failures           = (@($failures) + @($requestFailures) | Select-Object -First 3) -join ' | '
    }
}
$lab | Stop-DeviceLab
if ($buttons) { $buttons | Remove-Job -Force }

$load = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg).Split(' ')[0] } else { 'n/a' }
$columns = $rows[0].PSObject.Properties.Name
''
'| ' + ($columns -join ' | ') + ' |'
'|' + (($columns | ForEach-Object { '---' }) -join '|') + '|'
foreach ($row in $rows) { '| ' + (($columns | ForEach-Object { $row.$_ }) -join ' | ') + ' |' }
''
"$Count sessions per world from ForEach-Object -Parallel -ThrottleLimit $ThrottleLimit; $([Environment]::ProcessorCount) cores, 1-minute load average $load at the end."
