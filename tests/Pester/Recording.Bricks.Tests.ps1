#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# A Brick session recorded against the Lab and replayed: the same script gives the same objects and the same fault
# at the same step, and a recording made with a secret holds no trace of it (docs/recording-format.md "Bricks").

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0

    # A replay Lab for the length of one test's checks, stopped whatever they find.
    function script:Use-ReplayLab([string] $Path, [scriptblock] $Check, [double] $Speed = 1) {
        $replayLab = Start-DeviceLab -Replay $Path -Speed $Speed -TimeoutSec 60
        try { & $Check $replayLab } finally { Stop-DeviceLab -Lab $replayLab }
    }

    # A thermometer script as a user writes it: list the stack, read the temperature, take a few callbacks; then the
    # daemon goes away under it. -OnStep lets the recording run act between the steps (kill the daemon); a replay needs none.
    function script:Invoke-BrickScript([object] $Endpoint, [scriptblock] $OnStep = {}) {
        $brick = Connect-Brick -HostName $Endpoint.Host -Port $Endpoint.Port -TimeoutSec 2
        & $OnStep 'connected' $brick
        $devices = @(Get-BrickEnumeration -Session $brick -WaitSec 2 | Sort-Object Uid | ForEach-Object { '{0}:{1}:{2}' -f $_.Uid, $_.DeviceIdentifier, $_.Position })
        $readings = @(1..3 | ForEach-Object { (Get-BrickTemperature -Session $brick -Uid 4ER).Value })
        Invoke-BrickFunction -Session $brick -Uid 4ER -Name SetTemperatureCallbackConfiguration -Period 0.05 -ValueHasToChange $false -Option Off -Min 0 -Max 0
        $callbacks = @(Receive-BrickCallback -Session $brick -Uid 4ER -Kind Callback -Count 3 -TimeoutSec 10 | ForEach-Object { [Convert]::ToHexString($_.Payload) })
        Invoke-BrickFunction -Session $brick -Uid 4ER -Name SetTemperatureCallbackConfiguration -Period 0 -ValueHasToChange $false -Option Off -Min 0 -Max 0
        & $OnStep 'read' $brick
        $null = Wait-Until { $brick.State.ToString() -ne 'Connected' } -TimeoutSec 10 -Because 'the daemon goes away'
        $afterDrop = try { Get-BrickTemperature -Session $brick -Uid 4ER -ErrorAction Stop; 'read' } catch { $_.FullyQualifiedErrorId }
        $state = $brick.State.ToString()
        & $OnStep 'done' $brick
        Disconnect-Brick -Session $brick
        [pscustomobject]@{ Devices = $devices -join ','; Readings = $readings -join ','; Callbacks = $callbacks.Count; AfterDrop = $afterDrop; State = $state }
    }
}

# The recordings live in Pester's TestDrive, which it removes after the file.
AfterAll {
    Get-DeviceSession -World Brick | Disconnect-DeviceSession
    Stop-DeviceLab
}

Describe 'A Brick session recorded and replayed' {
    BeforeAll {
        $script:path = Join-Path $TestDrive 'thermometer.devrec'
        $lab = Start-DeviceLab -Brick -TimeoutSec 60
        $script:recorded = Invoke-BrickScript $lab['brick'] -OnStep {
            param($step, $brick)
            switch ($step) {
                'connected' { $null = Start-DeviceRecording -Session $brick -Path $script:path }
                # The fault: the daemon dies under the script.
                'read' { Stop-Process -Id $lab.ProcessId -Force }
                'done' { $null = Stop-DeviceRecording -Session $brick }
            }
        }
        Stop-DeviceLab -Lab $lab
        $script:records = @(Get-Content $script:path | ConvertFrom-Json)
    }

    It 'recorded what the live daemon did, the drop included' {
        $script:recorded.Devices | Should -Match '4ER:2113:a'
        $script:recorded.Readings | Should -Match '^-?[\d.]+,-?[\d.]+,-?[\d.]+$'
        $script:recorded.Callbacks | Should -Be 3
        $script:recorded.AfterDrop | Should -Be 'NotConnected,DeviceShell.Commands.GetBrickTemperatureCommand'
        $script:recorded.State | Should -Be 'Reconnecting'
    }

    It 'wrote a versioned header and the documented records' {
        $header = $script:records[0]
        ($header.format, $header.version, $header.world, $header.state) | Should -Be @('devrec', 1, 'Brick', 'Connected')
        $body = $script:records | Select-Object -Skip 1
        $kinds = @($body | ForEach-Object kind | Select-Object -Unique)
        foreach ($kind in 'call', 'receive', 'disconnect', 'state', 'end') { $kinds | Should -Contain $kind }
        $reading = $body | Where-Object { $_.kind -eq 'call' -and $_.uid -eq '4ER' -and $_.function -eq 1 } | Select-Object -First 1
        ($reading.request, $reading.response.Length, $reading.errorCode) | Should -Be @('', 4, 0)
        ($body | Where-Object kind -EQ 'disconnect').reason | Should -Be 'Shutdown'
        @($body | Where-Object { $_.kind -eq 'receive' -and $_.function -eq 253 }).Count | Should -BeGreaterOrEqual 6
        $body[-1].records | Should -Be ($body.Count - 1)
    }

    It 'replays it: the same objects and the same fault at the same step, with no daemon killed' {
        Use-ReplayLab $script:path {
            param($replayLab)
            $replayed = Invoke-BrickScript $replayLab['brick']
            foreach ($property in 'Devices', 'Readings', 'Callbacks', 'AfterDrop', 'State') {
                $replayed.$property | Should -Be $script:recorded.$property -Because $property
            }
            $report = Get-LabReplayReport -Lab $replayLab
            $report.World.ToString() | Should -Be 'Brick'
            $report.Recorded | Should -BeGreaterThan 0
            $report.Replayed | Should -Be $report.Recorded
            $report.IsFaithful | Should -BeTrue
        }
    }

    It 'answers what the recording does not cover as the simulator does, and reports it' {
        Use-ReplayLab $script:path -Speed 4 {
            param($replayLab)
            $brick = Connect-Brick -HostName $replayLab['brick'].Host -Port $replayLab['brick'].Port -TimeoutSec 2
            # b1Q was never asked in the recording: the simulated stack, built of the recorded devices, answers.
            (Get-BrickIdentity -Session $brick -Uid b1Q).DeviceIdentifier | Should -Be 283
            $report = Get-LabReplayReport -Lab $replayLab
            $report.Uncovered.Request | Should -Be 'b1Q 255 '
            $report.IsFaithful | Should -BeFalse
            Disconnect-Brick -Session $brick
        }
    }
}

Describe 'A Brick session recorded with a secret' {
    BeforeAll {
        $script:secretText = 'Rec0rded-But-Never-Written'
        $secret = ConvertTo-SecureString $script:secretText -AsPlainText -Force
        $script:securePath = Join-Path $TestDrive 'secret.devrec'
        $lab = Start-DeviceLab -Brick -BrickSecret $secret -TimeoutSec 60
        try {
            $brick = Connect-Brick -HostName $lab['brick'].Host -Port $lab['brick'].Port -Secret $secret -TimeoutSec 2
            $null = Start-DeviceRecording -Session $brick -Path $script:securePath
            $script:devices = @(Get-BrickEnumeration -Session $brick -WaitSec 2 | Sort-Object Uid | ForEach-Object Uid) -join ','
            # Connected again during the recording, the session authenticates again: the handshake is in the file's time.
            $brick.DisconnectAsync().GetAwaiter().GetResult()
            Connect-Brick -Session $brick | Out-Null
            $null = Stop-DeviceRecording -Session $brick
            Disconnect-Brick -Session $brick
        }
        finally {
            Stop-DeviceLab -Lab $lab
        }
    }

    It 'holds the authentication as its outcome only, and no trace of the secret' {
        $text = Get-Content -Raw $script:securePath
        $text | Should -Not -Match ([regex]::Escape($script:secretText))
        $hex = [Convert]::ToHexString([Text.Encoding]::ASCII.GetBytes($script:secretText))
        $text.ToUpperInvariant() | Should -Not -Match $hex
        $records = @(Get-Content $script:securePath | ConvertFrom-Json | Select-Object -Skip 1)
        ($records | Where-Object kind -EQ 'authenticate').outcome | Should -Be 'authenticated'
        @($records | Where-Object { $_.kind -eq 'call' -and $_.uid -eq '2' -and $_.function -in 1, 2 }).Count | Should -Be 0
    }

    It 'replays against a Lab that accepts any secret' {
        Use-ReplayLab $script:securePath {
            param($replayLab)
            $other = ConvertTo-SecureString 'not the recorded secret' -AsPlainText -Force
            $brick = Connect-Brick -HostName $replayLab['brick'].Host -Port $replayLab['brick'].Port -Secret $other -TimeoutSec 2
            (@(Get-BrickEnumeration -Session $brick -WaitSec 2 | Sort-Object Uid | ForEach-Object Uid) -join ',') | Should -Be $script:devices
            Disconnect-Brick -Session $brick
        }
    }
}
