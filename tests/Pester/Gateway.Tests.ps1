#Requires -Modules Pester
# The G-SDK Python "Connect API Tutorial" menus, walked as DeviceShell cmdlets against the Lab gateway.
# Menus: (1) search, (2) connect, (3) async connections, (4) accept filter, (5) devices.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $script:lab = Start-DeviceLab -Gateway -StartTimeoutSec 60
    $endpoint = $script:lab['gateway']
    # 30 s: the first call into a freshly started Lab took over 10 s at load 55 (GatewayDeadlineExceeded); no test here measures it.
    $script:session = Connect-Gateway -HostName $endpoint.Host -Port $endpoint.Port -CaCertificate $endpoint.CaCertificate -TimeoutSec 30
    $script:bioEntry = 544140286
    $script:bioStation = 546835041
    $script:incoming = 939342898

    function Wait-GatewayDevice([scriptblock] $Condition, [int] $Count = 1) {
        Wait-Until {
            $found = @(Get-GatewayDevice -Session $script:session | Where-Object $Condition)
            if ($found.Count -ge $Count) { $found }
        } -TimeoutSec 10 -Because "$Count device(s) matching $Condition"
    }
}

AfterAll {
    if ($script:session) { Disconnect-Gateway -Session $script:session }
    if ($script:lab) { Stop-DeviceLab -Lab $script:lab }
}

Describe 'Gateway tutorial menus' {
    It 'opens the session with the Lab CA' {
        $script:session.State | Should -Be 'Connected'
        (Get-DeviceSession -World Gateway).Id | Should -Contain $script:session.Id
    }

    It '(1) searches the subnet' {
        $found = Find-GatewayDevice -Session $script:session -TimeoutSec 0.5
        $found.Count | Should -Be 4
        ($found | Where-Object DeviceId -eq $script:bioEntry).Type | Should -Be 'BioentryW2'
        ($found | Where-Object DeviceId -eq $script:incoming).ConnectionMode | Should -Be 'DeviceToServer'
    }

    It '(2) connects a device synchronously and sees its status' {
        $device = Connect-GatewayDevice -Session $script:session -IPAddress 192.168.0.110 -Port 51211
        $device.DeviceId | Should -Be $script:bioEntry
        $change = Receive-GatewayStatus -Session $script:session -DeviceId $script:bioEntry -Count 1 -TimeoutSec 5
        $change.Status | Should -Be 'TcpConnected'
    }

    It '(3) adds and removes async connections from a search' {
        Find-GatewayDevice -Session $script:session -TimeoutSec 0.2 |
            Where-Object { $_.ConnectionMode -eq 'ServerToDevice' -and $_.DeviceId -ne $script:bioEntry } |
            Add-GatewayAsyncConnection -Session $script:session
        $async = Wait-GatewayDevice { $_.AutoReconnect -and $_.Status -eq 'TcpConnected' } -Count 2
        $async.DeviceId | Should -Contain $script:bioStation
        @(Get-GatewayDevice -Session $script:session -AsyncOnly).Count | Should -Be 2

        Get-GatewayDevice -Session $script:session -AsyncOnly | Remove-GatewayAsyncConnection -Session $script:session -Confirm:$false
        @(Get-GatewayDevice -Session $script:session -AsyncOnly).Count | Should -Be 0
    }

    It '(4) admits a pending device-to-server device with the accept filter' {
        (Get-GatewayAcceptFilter -Session $script:session).AllowAll | Should -BeFalse
        $null = Wait-Until { Get-GatewayPendingDevice -Session $script:session } -TimeoutSec 10 -Because 'the device-to-server device to knock'
        $pending = @(Get-GatewayPendingDevice -Session $script:session)
        $pending.DeviceId | Should -Contain $script:incoming

        Get-GatewayPendingDevice -Session $script:session | Set-GatewayAcceptFilter -Session $script:session -Add -Confirm:$false
        (Get-GatewayAcceptFilter -Session $script:session).DeviceId | Should -Contain $script:incoming
        Wait-GatewayDevice { $_.DeviceId -eq $script:incoming -and $_.ConnectionMode -eq 'DeviceToServer' } | Should -Not -BeNullOrEmpty

        Set-GatewayAcceptFilter -Session $script:session -AllowAll -Confirm:$false
        (Get-GatewayAcceptFilter -Session $script:session).AllowAll | Should -BeTrue
        Set-GatewayAcceptFilter -Session $script:session -AllowAll:$false -Confirm:$false
        (Get-GatewayAcceptFilter -Session $script:session).AllowAll | Should -BeFalse
    }

    It '(5) changes SSL per device and reports the bad device as its own error' {
        Enable-GatewayDeviceSsl -Session $script:session -DeviceId $script:bioEntry, 4242 -Confirm:$false -ErrorVariable sslErrors -ErrorAction SilentlyContinue
        $sslErrors.Count | Should -Be 1
        $sslErrors[0].FullyQualifiedErrorId | Should -BeLike 'GatewayDeviceNotFound*'
        $sslErrors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        (Find-GatewayDevice -Session $script:session -TimeoutSec 0 | Where-Object DeviceId -eq $script:bioEntry).UseSsl | Should -BeTrue
        Disable-GatewayDeviceSsl -Session $script:session -DeviceId $script:bioEntry -Confirm:$false
        (Find-GatewayDevice -Session $script:session -TimeoutSec 0 | Where-Object DeviceId -eq $script:bioEntry).UseSsl | Should -BeFalse
    }

    It '(5) sets the connection mode with -WhatIf changing nothing' {
        Set-GatewayConnectionMode -Session $script:session -DeviceId $script:bioEntry -Mode DeviceToServer -WhatIf
        (Get-GatewayDevice -Session $script:session -DeviceId $script:bioEntry).ConnectionMode | Should -Be 'ServerToDevice'
    }

    It '(5) disconnects one device, then all' {
        Disconnect-GatewayDevice -Session $script:session -DeviceId $script:bioEntry -Confirm:$false
        (Get-GatewayDevice -Session $script:session).DeviceId | Should -Not -Contain $script:bioEntry
        Disconnect-GatewayDevice -Session $script:session -All -Confirm:$false
        Set-GatewayAcceptFilter -Session $script:session -DeviceId @() -Confirm:$false
        $null = Wait-Until {
            @(Get-GatewayDevice -Session $script:session | Where-Object Status -in 'TcpConnected', 'TlsConnected').Count -eq 0
        } -TimeoutSec 10 -Because 'no device is connected any more'
    }

    It 'reports an unknown device as ObjectNotFound' {
        { Disconnect-GatewayDevice -Session $script:session -DeviceId 999 -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'GatewayDeviceNotFound*'
    }

    It 'puts a new simulated device on the subnet' {
        Add-LabGatewayDevice -Lab $script:lab -DeviceId 700001 -Type XPASS2 -IPAddress 192.168.0.140 -Confirm:$false
        (Find-GatewayDevice -Session $script:session -TimeoutSec 0).DeviceId | Should -Contain 700001
    }
}
