#Requires -Version 7.4
# The Bricks world as a user drives it: a Lab Brick Daemon, Connect-Brick, enumeration pipelines,
# raw calls, callbacks, plug/unplug, bad inputs, a daemon restart and parallel use of one session.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $script:ModulePath = $DeviceShellManifest
    $script:Secret = ConvertTo-SecureString 'pester-secret' -AsPlainText -Force
    $script:Lab = Start-DeviceLab -Brick -BrickSecret $script:Secret -StartTimeoutSec 60
    $script:Endpoint = $script:Lab.Endpoints | Where-Object Simulator -EQ 'brick'
    $script:Brick = Connect-Brick -HostName $script:Endpoint.Host -Port $script:Endpoint.Port -Secret $script:Secret -TimeoutSec 2
}

AfterAll {
    Disconnect-Brick -All -ErrorAction SilentlyContinue
    if ($script:Lab) { Stop-DeviceLab -Lab $script:Lab -ErrorAction SilentlyContinue }
}

Describe 'Connect-Brick' {
    It 'returns a connected, authenticated session that is the Brick default' {
        $script:Brick.State | Should -Be 'Connected'
        $script:Brick.Authenticated | Should -BeTrue
        (Get-DeviceSession -World Brick | Select-Object -Last 1).Id | Should -Be $script:Brick.Id
    }

    It 'reports a closed port as ConnectionFailed' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
        { Connect-Brick -HostName 127.0.0.1 -Port $port -TimeoutSec 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConnectionFailed,DeviceShell.Commands.ConnectBrickCommand'
    }

    It 'reports a wrong secret as AuthenticationFailed without waiting for a timeout' {
        $wrong = ConvertTo-SecureString 'not-it' -AsPlainText -Force
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $err = { Connect-Brick -HostName $script:Endpoint.Host -Port $script:Endpoint.Port -Secret $wrong -TimeoutSec 10 -ErrorAction Stop } |
            Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'AuthenticationFailed*'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
    }

    It 'refuses a non-ASCII secret before sending anything' {
        $odd = ConvertTo-SecureString 'grüezi' -AsPlainText -Force
        $err = { Connect-Brick -HostName $script:Endpoint.Host -Port $script:Endpoint.Port -Secret $odd -ErrorAction Stop } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'NonAsciiSecret*'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }
}

Describe 'Enumeration and identity' {
    It 'lists the simulated stack' {
        $devices = Get-BrickEnumeration -WaitSec 2
        $devices.Uid | Should -Contain '6qY'
        $devices.Uid | Should -Contain '4ER'
        ($devices | Where-Object Uid -EQ '6qY').DeviceName | Should -Be 'Master Brick'
    }

    It 'pipes into Get-BrickIdentity' {
        $identities = Get-BrickEnumeration -WaitSec 2 | Get-BrickIdentity
        $identities.Count | Should -BeGreaterOrEqual 6
        ($identities | Where-Object Uid -EQ '4ER').DeviceIdentifier | Should -Be 2113
    }

    It 'shows the topology as a tree' {
        $nodes = Get-BrickTopology -WaitSec 2
        $nodes[0].Uid | Should -Be '6qY'
        $nodes[0].Depth | Should -Be 0
        ($nodes | Where-Object Depth -EQ 1).Count | Should -BeGreaterOrEqual 5
    }

    It 'gives a clear error for an invalid UID and goes on with the next' {
        $out = Get-BrickIdentity -Uid 'O0Il', '4ER' -ErrorVariable problems -ErrorAction SilentlyContinue
        $out.Uid | Should -Be '4ER'
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'InvalidUid*'
    }

    It 'times out on a device that never answers and the session still works' {
        Get-BrickIdentity -Uid 'zzz' -ErrorVariable problems -ErrorAction SilentlyContinue -Session $script:Brick
        $problems[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        (Get-BrickIdentity -Uid '6qY').Uid | Should -Be '6qY'
    }

    It 'looks up the device catalogue' {
        (Get-BrickDeviceType -Identifier 13).Name | Should -Be 'Master Brick'
        (Get-BrickDeviceType -Name 'Temperature Bricklet 2.0').Identifier | Should -Be 2113
    }
}

Describe 'Raw functions and typed helpers' {
    It 'calls a getter with Invoke-BrickFunction' {
        $response = Invoke-BrickFunction -Uid '4ER' -FunctionId 1 -ResponseExpected
        $response.Payload.Count | Should -Be 2
        [BitConverter]::ToInt16($response.Payload, 0) / 100 | Should -BeGreaterThan -45
    }

    It 'maps error code 2 to FunctionNotSupported' {
        Invoke-BrickFunction -Uid '4ER' -FunctionId 77 -ResponseExpected -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'FunctionNotSupported*'
    }

    It 'sets and reads the RGB LED Button colour' {
        Invoke-BrickFunction -Uid '23Qx' -FunctionId 1 -Payload 1, 2, 3
        (Invoke-BrickFunction -Uid '23Qx' -FunctionId 2 -ResponseExpected).Payload | Should -Be @(1, 2, 3)
    }

    It 'reads temperatures and refuses devices without one' {
        (Get-BrickTemperature -Uid '4ER').Unit | Should -Be '°C'
        Get-BrickTemperature -Uid 'Pdw' -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'WrongDeviceType*'
    }
}

Describe 'Callbacks and plug/unplug' {
    It 'receives periodic callbacks' {
        # Temperature Bricklet 2.0: period 20 ms, value need not change, no threshold ('x' = 120).
        Invoke-BrickFunction -Uid '4ER' -FunctionId 2 -Payload 20, 0, 0, 0, 0, 120, 0, 0, 0, 0 -ResponseExpected | Out-Null
        $events = Receive-BrickCallback -Uid '4ER' -Kind Callback -Count 3 -TimeoutSec 5
        $events.Count | Should -Be 3
        Invoke-BrickFunction -Uid '4ER' -FunctionId 2 -Payload 0, 0, 0, 0, 0, 120, 0, 0, 0, 0 -ResponseExpected | Out-Null
    }

    It 'sees a plugged and an unplugged Bricklet' {
        Receive-BrickCallback -TimeoutSec 0.2 | Out-Null   # drop what is queued
        Add-LabBrickDevice -Lab $script:Lab -Uid 'PsT' -DeviceIdentifier 216 -Position h
        $plugged = Receive-BrickCallback -Kind Enumerate -Count 1 -TimeoutSec 5
        $plugged.Uid | Should -Be 'PsT'
        $plugged.Device.EnumerationType | Should -Be 'Connected'
        Remove-LabBrickDevice -Lab $script:Lab -Uid 'PsT'
        $unplugged = Receive-BrickCallback -Kind Enumerate -Count 1 -TimeoutSec 5
        $unplugged.Device.EnumerationType | Should -Be 'Disconnected'
    }
}

Describe 'Eight parallel workers on one session' {
    It 'all get their answers' {
        $session = $script:Brick
        $module = $script:ModulePath
        $results = 1..8 | ForEach-Object -ThrottleLimit 8 -Parallel {
            Import-Module $using:module
            $uid = @('6qY', '4ER', 'b1Q', 'Pdw', 'Xyz', '23Qx', '4ER', '6qY')[$_ - 1]
            1..25 | ForEach-Object { (Get-BrickIdentity -Session $using:session -Uid $uid).Uid -eq $uid }
        }
        $results.Count | Should -Be 200
        $results | Should -Not -Contain $false
    }
}

Describe 'Daemon restart' {
    It 'reconnects, re-authenticates and callbacks flow again' {
        $port = $script:Endpoint.Port
        Receive-BrickCallback -TimeoutSec 0.2 | Out-Null
        Stop-DeviceLab -Lab $script:Lab
        $lost = Receive-BrickCallback -Kind Disconnected -Count 1 -TimeoutSec 10
        $lost.Reason | Should -BeIn 'Shutdown', 'Error'
        $script:Lab = Start-DeviceLab -BrickPort $port -BrickSecret $script:Secret -StartTimeoutSec 60
        $back = Receive-BrickCallback -Kind Connected -Count 1 -TimeoutSec 20
        $back.Reason | Should -Be 'AutoReconnect'
        # Device traffic flows only on an authenticated connection: these prove the re-authentication.
        (Get-BrickIdentity -Uid '6qY').Uid | Should -Be '6qY'
        Invoke-BrickFunction -Uid '4ER' -FunctionId 2 -Payload 20, 0, 0, 0, 0, 120, 0, 0, 0, 0 -ResponseExpected | Out-Null
        (Receive-BrickCallback -Uid '4ER' -Kind Callback -Count 1 -TimeoutSec 5).Uid | Should -Be '4ER'
    }
}
