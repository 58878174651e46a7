#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Record a live Webifi session against the Lab relay, the relay restarted under it, and replay it: the same script
# gives the same objects and the same fault at the same step, and the recording holds no trace of the password
# (docs/recording-format.md "Webifi", docs/testing-with-recordings.md).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    # The account's password: the test greps the recording for it.
    $script:password = 'Rec0rding-Never-Sees-This-9d2e'
    $script:folder = Join-Path ([IO.Path]::GetTempPath()) "deviceshell-recording-webifi-$PID"
    New-Item -ItemType Directory -Path $script:folder -Force | Out-Null
    $script:accounts = Join-Path $script:folder 'accounts.json'
    ConvertTo-Json -InputObject @(@{ connectName = 'webifi'; connectPassword = $script:password; networks = @('net1', 'lab') }) |
        Set-Content -Path $script:accounts
    $script:path = Join-Path $script:folder 'device.devrec'

    function script:Server([object] $Lab) { "http://$($Lab['webifi'].Host):$($Lab['webifi'].Port)/" }

    # A device script as a user writes it: greet the lab network, read the answer, look who is there; after the
    # relay comes back, greet again. -OnStep lets the recording run act between the steps (the peer answers, the
    # relay restarts); a replay needs none of it.
    function script:Invoke-DeviceScript([string] $Server, [securestring] $Password, [scriptblock] $OnStep = {}) {
        $credential = [pscredential]::new('webifi', $Password)
        $device = Connect-Webifi -Credential $credential -Server $Server -Network net1 -Name device -TimeoutSec 10
        & $OnStep 'connected' $device
        Send-WebifiData -Session $device -Data 'hello' -DataType greeting -ToNetwork lab -TimeoutSec 10
        & $OnStep 'greeted' $device
        $answer = Receive-WebifiData -Session $device -Count 1 -TimeoutSec 10
        $found = @(Find-WebifiDevice -Session $device -Network lab -TimeoutSec 1 | ForEach-Object Name)
        $beforeFault = $device.Reconnects
        & $OnStep 'discovered' $device
        $null = Wait-Until { $device.Reconnects -ge 1 -and $device.State.ToString() -eq 'Connected' } -TimeoutSec 30 -Because 'the device logs in again after the relay restarted'
        Send-WebifiData -Session $device -Data 'again' -ToNetwork lab -TimeoutSec 20
        & $OnStep 'greeted again' $device
        $back = Receive-WebifiData -Session $device -Count 1 -TimeoutSec 20
        $states = @(Receive-WebifiStatus -Session $device -TimeoutSec 0.5 | ForEach-Object { "$($_.Kind)$(if ($_.Code) { ":$($_.Code)" })" })
        $reconnects = $device.Reconnects
        Disconnect-Webifi -Session $device
        [pscustomobject]@{
            Answer = '{0} [{1}] {2}' -f $answer.FromSessionId, $answer.DataType, $answer.Data
            Found = $found -join ','
            BeforeFault = $beforeFault
            Reconnects = $reconnects
            Back = '{0} {1}' -f $back.FromSessionId, $back.Data
            States = $states -join ','
        }
    }
}

AfterAll {
    Disconnect-Webifi -All
    Stop-DeviceLab
    Remove-Item -Recurse -Force $script:folder -ErrorAction SilentlyContinue
}

Describe 'A Webifi session recorded and replayed' {
    BeforeAll {
        $secure = ConvertTo-SecureString $script:password -AsPlainText -Force
        $script:lab = Start-DeviceLab -Webifi -Setting @{ 'webifi-accounts' = $script:accounts } -TimeoutSec 60
        $server = Server $script:lab
        $port = $script:lab['webifi'].Port
        # The other end: a peer on the lab network that answers the device (not recorded).
        $script:peer = Connect-Webifi -Credential ([pscredential]::new('webifi', $secure)) -Server $server -Network lab -Name peer -TimeoutSec 10
        $script:recorded = Invoke-DeviceScript $server $secure -OnStep {
            param($step, $device)
            switch ($step) {
                'connected' { $null = Start-DeviceRecording -Session $device -Path $script:path }
                'greeted' {
                    $null = Receive-WebifiData -Session $script:peer -Count 1 -TimeoutSec 10
                    Send-WebifiData -Session $script:peer -Data 'hi' -DataType reply -ToSessionId $device.SessionId -TimeoutSec 10
                }
                # The fault: the relay restarts under the script; every connection drops and every session is forgotten.
                'discovered' {
                    Stop-DeviceLab -Lab $script:lab
                    $script:lab = Start-DeviceLab -Webifi -WebifiPort $port -Setting @{ 'webifi-accounts' = $script:accounts } -TimeoutSec 60
                }
                'greeted again' {
                    $null = Receive-WebifiData -Session $script:peer -Count 1 -TimeoutSec 20
                    Send-WebifiData -Session $script:peer -Data 'welcome back' -ToSessionId $device.SessionId -TimeoutSec 10
                }
            }
        }
        Disconnect-Webifi -Session $script:peer
        Stop-DeviceLab -Lab $script:lab
        $script:records = @(Get-Content $script:path | ConvertFrom-Json)
    }

    It 'recorded what the live relay did, the restart included' {
        $script:recorded.Answer | Should -BeLike '* `[reply`] hi'
        $script:recorded.Found | Should -Be 'peer'
        $script:recorded.BeforeFault | Should -Be 0
        $script:recorded.Reconnects | Should -Be 1
        $script:recorded.Back | Should -BeLike '* welcome back'
        $script:recorded.States | Should -BeLike 'Connected,Reconnecting*,Connected'
        $script:records[0].world | Should -Be 'Webifi'
        $body = $script:records | Select-Object -Skip 1
        @($body | Where-Object kind -EQ 'login').Count | Should -Be 2
        ($body | Where-Object kind -EQ 'login').outcome | Should -Be @('accepted', 'accepted')
        ($body | Where-Object kind -EQ 'send').data | Should -Be @('hello', '?', 'again')
        ($body | Where-Object kind -EQ 'receive').data | Should -Be @('hi', 'peer', 'welcome back')
        ($body | Where-Object kind -EQ 'state').state | Should -Contain 'Reconnecting'
        $body[-1].kind | Should -Be 'end'
    }

    It 'holds no trace of the password' {
        $text = Get-Content -Raw $script:path
        $text | Should -Not -BeLike "*$($script:password)*"
        $hex = -join ([Text.Encoding]::UTF8.GetBytes($script:password) | ForEach-Object { $_.ToString('x2') })
        $text | Should -Not -BeLike "*$hex*"
    }

    It 'replays it with any password: the same objects and the same restart at the same step, with no peer and no relay restarted' {
        $replayLab = Start-DeviceLab -Replay $script:path -TimeoutSec 60
        try {
            $other = ConvertTo-SecureString 'not the recorded password' -AsPlainText -Force
            $replayed = Invoke-DeviceScript (Server $replayLab) $other
            # Every property at once: the answer and its sender, the devices found, the restart after the discovery
            # (no reconnect before it, one after it) and the status changes in their order.
            ($replayed | ConvertTo-Json -Compress) | Should -Be ($script:recorded | ConvertTo-Json -Compress)
            $report = Get-LabReplayReport -Lab $replayLab
            ($report.World, $report.Replayed, $report.IsFaithful) -join ',' | Should -Be "Webifi,$($report.Recorded),True"
        }
        finally {
            Stop-DeviceLab -Lab $replayLab
        }
    }

    It 'relays what the recording does not cover and reports it' {
        $replayLab = Start-DeviceLab -Replay $script:path -Speed 4 -TimeoutSec 60
        try {
            $credential = [pscredential]::new('webifi', (ConvertTo-SecureString 'any' -AsPlainText -Force))
            $device = Connect-Webifi -Credential $credential -Server (Server $replayLab) -Network net1 -TimeoutSec 10
            Send-WebifiData -Session $device -Data 'not recorded' -ToNetwork net1 -TimeoutSec 10
            Send-WebifiData -Session $device -Data 'x' -ToSessionId 999999 -TimeoutSec 10 -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'WebifiNotDelivered*'
            $report = Get-LabReplayReport -Lab $replayLab
            $report.Uncovered.Request | Should -Be @('send to [] network [net1] type "" data "not recorded"', 'send to [999999] network [] type "" data "x"')
            $report.IsFaithful | Should -BeFalse
            Disconnect-Webifi -Session $device
        }
        finally {
            Stop-DeviceLab -Lab $replayLab
        }
    }
}
