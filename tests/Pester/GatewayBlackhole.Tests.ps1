#Requires -Modules Pester
# A gateway that vanishes without FIN or RST (power cut, cable pulled): every packet to it is dropped. The scenario
# runs in a pwsh of its own inside a private network namespace (unshare -rn), whose loopback gets the "blackhole"
# queueing discipline for a while: no other process on the machine sees it. The session must notice within about a
# minute through TCP keep-alive (the HTTP/2 pings of the default stay 5.5 minutes apart, see the README's Gateway section).

BeforeDiscovery {
    $script:canBlackhole = $false
    if (@(Get-Command unshare, tc -ErrorAction SilentlyContinue).Count -eq 2) {
        & unshare -rn tc qdisc add dev lo root blackhole 2>$null
        $script:canBlackhole = $LASTEXITCODE -eq 0
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Set-StrictMode -Version 3.0
    . (Join-Path $PSScriptRoot 'FreshPwsh.ps1')
}

# Slow: the keep-alive needs about a minute to notice the silence; the build runs it beside the other suites.
Describe 'A blackholed gateway' -Tag Slow -Skip:(-not $script:canBlackhole) {
    It 'is noticed within about a minute and resubscribed with a gap marker once it answers again' {
        $module = Join-Path $PSScriptRoot ../../out/DeviceShell/DeviceShell.psd1
        $run = Invoke-FreshPwsh -Launcher unshare, -rn -TimeoutSec 240 -Script @"
`$ErrorActionPreference = 'Stop'
& ip link set lo up
Import-Module '$module'
`$lab = Start-DeviceLab -Gateway -StartTimeoutSec 60
`$endpoint = `$lab['gateway']
# 30 s: the first call into a freshly started Lab took over 10 s at load 55; the keep-alive, not the call deadline, notices the blackhole.
`$session = Connect-Gateway -HostName `$endpoint.Host -Port `$endpoint.Port -CaCertificate `$endpoint.CaCertificate -TimeoutSec 30
& tc qdisc add dev lo root blackhole
`$watch = [Diagnostics.Stopwatch]::StartNew()
while (`$session.State -eq 'Connected' -and `$watch.Elapsed.TotalSeconds -lt 120) { Start-Sleep -Milliseconds 250 }
"noticed `$([int]`$watch.Elapsed.TotalSeconds) `$(`$session.State)"
& tc qdisc del dev lo root
`$gap = Receive-GatewayStatus -Session `$session -Count 1 -TimeoutSec 60
"gap `$(`$gap.IsGap) `$(`$session.State) `$(`$session.Resubscriptions)"
Disconnect-Gateway -Session `$session
Stop-DeviceLab -Lab `$lab
"@
        $run.Errors | Should -BeNullOrEmpty
        $run.Output | Should -Match 'noticed (\d+) Reconnecting'
        [int] ($run.Output | Select-String 'noticed (\d+)').Matches[0].Groups[1].Value | Should -BeLessThan 75
        $run.Output | Should -Match 'gap True Connected 1'
    }
}
