#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Record a live session, replay it in the Lab: the same script gives the same objects and the same fault at the same
# step (docs/recording-format.md, Start-DeviceRecording, Start-DeviceLab -Replay).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $script:folder = Join-Path ([IO.Path]::GetTempPath()) "deviceshell-recording-$PID"
    New-Item -ItemType Directory -Path $script:folder -Force | Out-Null

    # A button script as a user writes it: two polls, then it waits for the link to end. -OnStep lets the recording
    # run act on the device between the steps (press the button, kill the server); a replay needs none of it.
    function script:Invoke-ButtonScript([object] $Endpoint, [scriptblock] $OnStep = {}) {
        $link = Connect-PiLink -HostName $Endpoint.Host -Port $Endpoint.Port -TimeoutSec 5
        & $OnStep 'connected' $link
        $first = (Send-PiLinkMessage -Session $link -Message 'go' -TimeoutSec 5).Text
        & $OnStep 'polled' $link
        $second = (Send-PiLinkMessage -Session $link -Message 'go' -TimeoutSec 5).Text
        & $OnStep 'polled twice' $link
        $null = Wait-Until { $link.LinkState.ToString() -eq 'Disconnected' } -TimeoutSec 10 -Because 'the server drops the link'
        $afterDrop = try { Send-PiLinkMessage -Session $link -Message 'go' -ErrorAction Stop; 'sent' } catch { $_.FullyQualifiedErrorId }
        $states = @(Receive-PiLinkMessage -Session $link -TimeoutSec 1 | ForEach-Object StateName)
        Disconnect-PiLink -Session $link
        [pscustomobject]@{ First = $first; Second = $second; AfterDrop = $afterDrop; States = $states -join ',' }
    }
}

AfterAll {
    Get-DeviceSession -World PiLink | Disconnect-DeviceSession
    Stop-DeviceLab
    Remove-Item -Recurse -Force $script:folder -ErrorAction SilentlyContinue
}

Describe 'A Pi link session recorded and replayed' {
    BeforeAll {
        $script:path = Join-Path $script:folder 'button.devrec'
        $lab = Start-DeviceLab -PiButton -TimeoutSec 60
        $script:recorded = Invoke-ButtonScript $lab['pibutton'] -OnStep {
            param($step, $link)
            switch ($step) {
                'connected' { $script:recording = Start-DeviceRecording -Session $link -Path $script:path }
                'polled' { Set-PiButtonState -Lab $lab -Pressed }
                # The fault: the device's server dies under the script.
                'polled twice' { Stop-Process -Id $lab.ProcessId -Force }
            }
        }
        Stop-DeviceLab -Lab $lab
        $script:records = @(Get-Content $script:path | ConvertFrom-Json)
    }

    It 'recorded what the live device did, the drop included' {
        $script:recorded.First | Should -Be 'Button released'
        $script:recorded.Second | Should -Be 'Button pressed'
        $script:recorded.AfterDrop | Should -Be 'PiLinkNotConnected,DeviceShell.Commands.SendPiLinkMessageCommand'
        $script:recorded.States | Should -Be 'CONNECTING,CONNECTED,DISCONNECTED'
    }

    It 'wrote a versioned header and the documented records, closed by the session' {
        $header = $script:records[0]
        $header.format | Should -Be 'devrec'
        $header.version | Should -Be 1
        $header.world | Should -Be 'PiLink'
        $header.state | Should -Be 'Connected'
        $body = $script:records | Select-Object -Skip 1
        # The failed third poll is there as the client saw it (a send, then its error), and the script's own disconnect.
        ($body | ForEach-Object kind | Select-Object -Unique) | Should -Be @('send', 'receive', 'link', 'state', 'error', 'close', 'end')
        ($body | Where-Object kind -EQ 'error').errorId | Should -Be 'PiLinkNotConnected'
        ($body | Where-Object kind -EQ 'receive').text | Should -Be @('Button released', 'Button pressed')
        $body[-1].records | Should -Be ($body.Count - 1)
        $times = @($body.t)
        $times | Should -Be ($times | Sort-Object)
    }

    It 'replays it: the same objects and the same fault at the same step, with no device and nobody pressing' {
        $replayLab = Start-DeviceLab -Replay $script:path -TimeoutSec 60
        try {
            $replayed = Invoke-ButtonScript $replayLab['pibutton']
            $replayed.First | Should -Be $script:recorded.First
            $replayed.Second | Should -Be $script:recorded.Second
            $replayed.AfterDrop | Should -Be $script:recorded.AfterDrop
            $replayed.States | Should -Be $script:recorded.States
            $report = Get-LabReplayReport -Lab $replayLab
            $report.World.ToString() | Should -Be 'PiLink'
            $report.Recorded | Should -Be 2
            $report.Replayed | Should -Be 2
            $report.IsFaithful | Should -BeTrue
        }
        finally {
            Stop-DeviceLab -Lab $replayLab
        }
    }

    It 'answers what the recording does not cover as the simulator does, and reports it' {
        $replayLab = Start-DeviceLab -Replay $script:path -Speed 4 -TimeoutSec 60
        try {
            $endpoint = $replayLab['pibutton']
            $link = Connect-PiLink -HostName $endpoint.Host -Port $endpoint.Port -TimeoutSec 5
            (Send-PiLinkMessage -Session $link -Message 'status' -TimeoutSec 0.3 -ErrorAction SilentlyContinue -ErrorVariable noReply) | Should -BeNullOrEmpty
            $noReply[0].FullyQualifiedErrorId | Should -BeLike 'PiLinkReplyTimeout*'
            (Send-PiLinkMessage -Session $link -Message 'go' -TimeoutSec 5).Text | Should -Be 'Button released'
            $report = Get-LabReplayReport -Lab $replayLab
            $report.Uncovered.Request | Should -Be 'status'
            $report.IsFaithful | Should -BeFalse
            Disconnect-PiLink -Session $link
        }
        finally {
            Stop-DeviceLab -Lab $replayLab
        }
    }

    It 'refuses what it cannot record or replay with a clear error' {
        $lab = Start-DeviceLab -PiButton -TimeoutSec 60
        try {
            $link = Connect-PiLink -HostName $lab['pibutton'].Host -Port $lab['pibutton'].Port -TimeoutSec 5
            $existing = Join-Path $script:folder 'exists.devrec'
            Set-Content -Path $existing -Value 'not a recording'
            { Start-DeviceRecording -Session $link -Path $existing -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceRecordingFileExists*'
            { Start-DeviceLab -Replay $existing -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceRecordingInvalid*'
            { Start-DeviceLab -Replay (Join-Path $script:folder 'missing.devrec') -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceRecordingNotFound*'
            { Start-DeviceLab -Replay $script:path, $script:path -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceRecordingConflict*'
            $recording = Start-DeviceRecording -Session $link -Path $existing -Force
            { Start-DeviceRecording -Session $link -Path $existing -Force -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceRecordingInProgress*'
            (Stop-DeviceRecording).Path | Should -Be $recording.Path
            { Stop-DeviceRecording -Session $link -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceRecordingNotStarted*'
            Disconnect-PiLink -Session $link
        }
        finally {
            Stop-DeviceLab -Lab $lab
        }
    }
}

Describe 'A gateway session recorded and replayed' {
    BeforeAll {
        # The tutorial's flow: search, connect a device, see it connect; then the device drops off the network.
        function script:Invoke-GatewayScript([object] $Endpoint, [scriptblock] $OnStep = {}) {
            $gateway = Connect-Gateway -HostName $Endpoint.Host -Port $Endpoint.Port -CaCertificate $Endpoint.CaCertificate
            & $OnStep 'connected' $gateway
            $found = @(Find-GatewayDevice -Session $gateway -TimeoutSec 0.5 | ForEach-Object { '{0}:{1}' -f $_.DeviceId, $_.Type })
            $device = Connect-GatewayDevice -Session $gateway -IPAddress 192.168.0.110 -Port 51211
            $connected = (Receive-GatewayStatus -Session $gateway -DeviceId $device.DeviceId -Count 1 -TimeoutSec 10).Status
            & $OnStep 'device connected' $device
            $dropped = (Receive-GatewayStatus -Session $gateway -DeviceId $device.DeviceId -Count 1 -TimeoutSec 10).Status
            $after = @(Get-GatewayDevice -Session $gateway | ForEach-Object DeviceId)
            Disconnect-Gateway -Session $gateway
            [pscustomobject]@{ Found = $found -join ','; DeviceId = $device.DeviceId; Connected = "$connected"; Dropped = "$dropped"; After = $after -join ',' }
        }
        $script:gatewayPath = Join-Path $script:folder 'gateway.devrec'
        $lab = Start-DeviceLab -Gateway -TimeoutSec 60
        $script:gatewayRecorded = Invoke-GatewayScript $lab['gateway'] -OnStep {
            param($step, $subject)
            switch ($step) {
                'connected' { $null = Start-DeviceRecording -Session $subject -Path $script:gatewayPath }
                # The fault: the device leaves the gateway.
                'device connected' { Remove-LabGatewayDevice -Lab $lab -DeviceId $subject.DeviceId }
            }
        }
        Stop-DeviceLab -Lab $lab
    }

    It 'recorded the calls as protobuf JSON and the status stream, the drop included' {
        $script:gatewayRecorded.Connected | Should -Be 'TcpConnected'
        $script:gatewayRecorded.Dropped | Should -Not -Be 'TcpConnected'
        $all = @(Get-Content $script:gatewayPath | ConvertFrom-Json)
        $all[0].world | Should -Be 'Gateway'
        $records = $all | Select-Object -Skip 1
        $search = $records | Where-Object { $_.kind -eq 'call' -and $_.method -like '*/SearchDevice' }
        @($search.response.deviceInfos).Count | Should -BeGreaterThan 0
        @($records | Where-Object { $_.kind -eq 'receive' -and $_.stream -like '*/SubscribeStatus' }).Count | Should -BeGreaterOrEqual 2
    }

    It 'replays it: the same search, the same device and the same drop, with no device removed' {
        $replayLab = Start-DeviceLab -Replay $script:gatewayPath -Speed 2 -TimeoutSec 60
        try {
            $replayed = Invoke-GatewayScript $replayLab['gateway']
            $replayed.Found | Should -Be $script:gatewayRecorded.Found
            $replayed.DeviceId | Should -Be $script:gatewayRecorded.DeviceId
            $replayed.Connected | Should -Be $script:gatewayRecorded.Connected
            $replayed.Dropped | Should -Be $script:gatewayRecorded.Dropped
            $replayed.After | Should -Be $script:gatewayRecorded.After
            $report = Get-LabReplayReport -Lab $replayLab
            $report.Replayed | Should -Be $report.Recorded
            $report.Divergences | Should -BeNullOrEmpty
            # The connect check (GetAcceptFilter) came before the recording started: the simulator answered it.
            $report.Uncovered.Request | Should -BeLike '*/GetAcceptFilter *'
        }
        finally {
            Stop-DeviceLab -Lab $replayLab
        }
    }
}
