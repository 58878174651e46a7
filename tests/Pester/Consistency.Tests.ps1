#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# docs/design/decisions.md §11: the worlds behave alike. One session table, the same error rules, completion filtered to each
# command's world, no shared Lab ports, and the seed libraries' details (error codes, queue size, filter fields).

BeforeDiscovery {
    # Each world's own cmdlets and Lab parameters, for the tests that must hold in every world.
    $script:worlds = @(
        @{ World = 'Brick'; Disconnect = 'Disconnect-Brick'; LabPort = 'BrickPort'; Simulator = 'brick' }
        @{ World = 'Gateway'; Disconnect = 'Disconnect-Gateway'; LabPort = 'GatewayPort'; Simulator = 'gateway' }
        @{ World = 'Webifi'; Disconnect = 'Disconnect-Webifi'; LabPort = 'WebifiPort'; Simulator = 'webifi' }
        @{ World = 'PiLink'; Disconnect = 'Disconnect-PiLink'; LabPort = 'PiButtonPort'; Simulator = 'pibutton' }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $script:lab = Start-DeviceLab -Brick -Gateway -Webifi -PiButton -StartTimeoutSec 60
    $script:webifiServer = "http://$($lab['webifi'].Host):$($lab['webifi'].Port)/"
    $script:webifiCredential = [pscredential]::new('webifi', (ConvertTo-SecureString 'pswd' -AsPlainText -Force))

    # One session of every world, newest last as the registry keeps them.
    function Open-EveryWorld {
        [pscustomobject]@{
            Brick   = Connect-Brick -HostName $lab['brick'].Host -Port $lab['brick'].Port
            Gateway = Connect-Gateway -HostName $lab['gateway'].Host -Port $lab['gateway'].Port -CaCertificate $lab['gateway'].CaCertificate
            Webifi  = Connect-Webifi -Credential $webifiCredential -Server $webifiServer -Network net1
            PiLink  = Connect-PiLink -HostName $lab['pibutton'].Host -Port $lab['pibutton'].Port -TimeoutSec 5
        }
    }

    # What TabExpansion2 offers at the end of a command line.
    function Get-Completion([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
    }

    # A loopback port nobody listens on.
    function Get-ClosedPort {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $port = $listener.LocalEndpoint.Port
        $listener.Stop()
        $port
    }
}

AfterAll {
    Get-DeviceSession | Disconnect-DeviceSession -Confirm:$false
    if ($script:lab) { Stop-DeviceLab -Lab $script:lab }
}

Describe 'The worlds behave alike' {
    AfterEach {
        Disconnect-DeviceSession -All -Confirm:$false
    }

    Describe 'One DeviceSession table for every world' {
        It 'formats a Brick, a Gateway, a Webifi and a Pi link session as one table that fits 80 columns' {
            $null = Open-EveryWorld
            $lines = (Get-DeviceSession | Out-String -Width 80) -split "`r?`n" | Where-Object { $_.Trim() }

            @($lines | Where-Object { $_ -match '^\s*Id\s+World\s+Endpoint\s+State\s+ConnectedAt\s*$' }).Count | Should -Be 1
            $lines | Where-Object { $_ -match '^\s*\w+\s+:' } | Should -BeNullOrEmpty -Because 'no session falls back to a property list'
            $rows = @($lines | Where-Object { $_ -match '^\s*\d+\s+(Brick|Gateway|Webifi|PiLink)\s' })
            $rows.Count | Should -Be 4
            foreach ($row in $rows) {
                $row.Length | Should -BeLessOrEqual 80
                $row | Should -Match '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s*$' -Because 'the connection time is shown whole'
                $row | Should -Not -Match '…'
                $row | Should -Not -Match ' {20,}' -Because 'no column pads a short value with a wide run of blanks'
            }
        }
    }

    Describe 'Connect-* stop on a failed connection' {
        It 'Connect-PiLink to a closed port is a terminating PiLinkConnectionFailed' {
            $port = Get-ClosedPort
            { Connect-PiLink -HostName 127.0.0.1 -Port $port -TimeoutSec 2; throw 'went on after a failed connect' } |
                Should -Throw -ErrorId 'PiLinkConnectionFailed*'
        }

        It '<Name> to a closed port stops the command' -TestCases @(
            @{ Name = 'Connect-Brick'; Command = { param($Port) Connect-Brick -HostName 127.0.0.1 -Port $Port -NoAutoReconnect } }
            @{ Name = 'Connect-Gateway'; Command = { param($Port) Connect-Gateway -HostName 127.0.0.1 -Port $Port -CaCertificate $lab['gateway'].CaCertificate -TimeoutSec 2 } }
            @{ Name = 'Connect-Webifi'; Command = { param($Port) Connect-Webifi -Credential $webifiCredential -Server "http://127.0.0.1:$Port/" } }
            @{ Name = 'Connect-PiLink'; Command = { param($Port) Connect-PiLink -HostName 127.0.0.1 -Port $Port -TimeoutSec 2 } }
        ) {
            param($Name, $Command)
            $port = Get-ClosedPort
            $thrown = { & $Command $port; throw 'went on after a failed connect' } | Should -Throw -PassThru
            $thrown.Exception.Message | Should -Not -Be 'went on after a failed connect' -Because "$Name must be terminating"
        }

        It 'Connect-Brick warns when the peer does not speak TFP (the relay''s HTTP port)' {
            $session = Connect-Brick -HostName $lab['webifi'].Host -Port $lab['webifi'].Port -NoAutoReconnect -TimeoutSec 2 -WarningVariable warnings -WarningAction SilentlyContinue
            $session | Should -Not -BeNullOrEmpty
            $warnings | Should -HaveCount 1
            "$($warnings[0])" | Should -BeLike '*may not be a Brick Daemon*'
        }

        It 'Connect-Brick to a Brick Daemon does not warn' {
            $null = Connect-Brick -HostName $lab['brick'].Host -Port $lab['brick'].Port -WarningVariable warnings
            $warnings | Should -HaveCount 0
        }
    }

    Describe 'Message and data cmdlets take pipeline input' {
        It 'sends each piped string as its own Pi link message' {
            $link = Connect-PiLink -HostName $lab['pibutton'].Host -Port $lab['pibutton'].Port -TimeoutSec 5
            $replies = 'go', 'go' | Send-PiLinkMessage -Session $link -WaitReplySec 5
            $replies | Should -HaveCount 2
            $replies.Text | ForEach-Object { $_ | Should -BeIn 'Button pressed', 'Button released' }
        }
    }

    Describe 'Unknown Gateway device ids' {
        BeforeEach {
            $script:gateway = Connect-Gateway -HostName $lab['gateway'].Host -Port $lab['gateway'].Port -CaCertificate $lab['gateway'].CaCertificate
        }

        It '<Name> reports device 12345 as GatewayDeviceNotFound with one clear message' -TestCases @(
            @{ Name = 'Disconnect-GatewayDevice'; Arguments = @{ DeviceId = 12345; Confirm = $false } }
            @{ Name = 'Set-GatewayConnectionMode'; Arguments = @{ DeviceId = 12345; Mode = 'DeviceToServer'; Confirm = $false } }
            @{ Name = 'Enable-GatewayDeviceSsl'; Arguments = @{ DeviceId = 12345; Confirm = $false } }
            @{ Name = 'Disable-GatewayDeviceSsl'; Arguments = @{ DeviceId = 12345; Confirm = $false } }
            @{ Name = 'Remove-GatewayAsyncConnection'; Arguments = @{ DeviceId = 12345; Confirm = $false } }
            @{ Name = 'Set-GatewaySlaveDevice'; Arguments = @{ DeviceId = 12345; Rs485SlaveDeviceId = 7; Confirm = $false } }
            @{ Name = 'Get-GatewayDevice'; Arguments = @{ DeviceId = 12345 } }
        ) {
            param($Name, $Arguments)
            & $Name @Arguments -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures | Should -HaveCount 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'GatewayDeviceNotFound,*'
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.Message | Should -Be 'Device 12345 is not managed by the gateway.'
            $failures[0].TargetObject | Should -Be 12345
        }
    }

    Describe 'Disconnecting sessions of several worlds' {
        It '<Disconnect> skips a session of another world with a non-terminating error and closes its own' -TestCases $worlds {
            param($Disconnect, $World)
            $null = Open-EveryWorld
            Get-DeviceSession | & $Disconnect -Confirm:$false -ErrorVariable skipped -ErrorAction SilentlyContinue
            $skipped | Should -HaveCount 3
            $skipped | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'WrongSessionWorld,*' }
            (Get-DeviceSession).World | Should -Not -Contain $World
            @(Get-DeviceSession).Count | Should -Be 3
        }

        It 'Disconnect-DeviceSession -All closes every world; -WhatIf closes nothing' {
            $null = Open-EveryWorld
            Disconnect-DeviceSession -All -WhatIf
            @(Get-DeviceSession).Count | Should -Be 4
            $closed = Disconnect-DeviceSession -All -PassThru -Confirm:$false
            $closed | Should -HaveCount 4
            Get-DeviceSession | Should -BeNullOrEmpty
        }

        It 'Disconnect-DeviceSession closes piped sessions of any mix, and reports an unknown Id without stopping' {
            $opened = Open-EveryWorld
            $opened.Brick, $opened.Webifi | Disconnect-DeviceSession -Confirm:$false
            (Get-DeviceSession).World | Sort-Object | Should -Be @('Gateway', 'PiLink')
            Disconnect-DeviceSession -Id 999999, $opened.Gateway.Id -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures | Should -HaveCount 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'SessionNotFound,*'
            (Get-DeviceSession).World | Should -Be 'PiLink'
        }
    }

    Describe 'A -Session Id with no open session' {
        It '<Command> -Session 999 stops with SessionNotFound (ObjectNotFound), not a binding error' -TestCases @(
            @{ Command = 'Get-BrickTopology'; Arguments = @{} }
            @{ Command = 'Get-GatewayDevice'; Arguments = @{} }
            @{ Command = 'Send-WebifiData'; Arguments = @{ Data = 'x'; ToNetwork = 'net1' } }
            @{ Command = 'Send-PiLinkMessage'; Arguments = @{ Message = 'x' } }
            @{ Command = 'Stop-PiLinkServer'; Arguments = @{ Confirm = $false } }
            @{ Command = 'Disconnect-Brick'; Arguments = @{ Confirm = $false } }
        ) {
            param($Command, $Arguments)
            $null = Open-EveryWorld
            $failure = $null
            try { & $Command -Session 999 @Arguments -ErrorAction Stop } catch { $failure = $_ }
            $failure | Should -Not -BeNullOrEmpty
            $failure.FullyQualifiedErrorId | Should -BeLike "SessionNotFound,*"
            $failure.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failure.Exception.Message | Should -BeLike '*no open session with Id 999*'
            @(Get-DeviceSession).Count | Should -Be 4 -Because 'nothing else was touched'
        }

        It 'a session object whose session has closed since stops with SessionNotFound too' {
            $brick = (Open-EveryWorld).Brick
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($brick))
            Disconnect-Brick -Session $brick
            { Get-BrickTopology -Session $copy -ErrorAction Stop } | Should -Throw -ErrorId 'SessionNotFound,*'
        }
    }

    Describe 'Completion fits the command''s world' {
        It '<Disconnect> -Session offers only <World> sessions' -TestCases ($worlds + @{ Disconnect = 'Set-AcceptFilter -AllowAll'; World = 'Gateway' }) {
            param($Disconnect, $World)
            $opened = Open-EveryWorld
            $offered = Get-Completion "$Disconnect -Session "
            $offered.CompletionText | Should -Be @("$($opened.$World.Id)")
        }

        It 'Pi link server cmdlets offer only servers, Disconnect-PiLink only clients' {
            $client = Connect-PiLink -HostName $lab['pibutton'].Host -Port $lab['pibutton'].Port -TimeoutSec 5
            $server = Start-PiLinkServer -Port 0
            (Get-Completion 'Stop-PiLinkServer -Session ').CompletionText | Should -Be @("$($server.Id)")
            (Get-Completion 'Disconnect-PiLinkClient -Session ').CompletionText | Should -Be @("$($server.Id)")
            (Get-Completion 'Disconnect-PiLink -Session ').CompletionText | Should -Be @("$($client.Id)")
            (Get-Completion 'Send-PiLinkMessage -Session ').CompletionText | Should -Be @("$($client.Id)", "$($server.Id)")
        }

        It 'Get-DeviceSession -Id offers every open session' {
            $opened = Open-EveryWorld
            (Get-Completion 'Get-DeviceSession -Id ').CompletionText | Should -Be @($opened.Brick.Id, $opened.Gateway.Id, $opened.Webifi.Id, $opened.PiLink.Id | ForEach-Object { "$_" })
        }

        It '<Line> offers catalogue entries, never file names' -TestCases @(
            @{ Line = 'Get-BrickDeviceType -Name Temp'; Expected = "'Temperature Bricklet'" }
            @{ Line = 'Get-BrickDeviceType -Identifier 21'; Expected = '216' }
            @{ Line = 'Add-LabBrickDevice -Uid X -DeviceIdentifier 21'; Expected = '216' }
        ) {
            param($Line, $Expected)
            $offered = Get-Completion $Line
            $offered.CompletionText | Should -Contain $Expected
            $offered | Where-Object ResultType -In 'ProviderItem', 'ProviderContainer' | Should -BeNullOrEmpty
        }

        It '<Line> never falls back to file names' -TestCases @(
            @{ Line = 'Get-BrickDeviceType -Name ' }
            @{ Line = 'Add-LabBrickDevice -Uid X -DeviceIdentifier ' }
            @{ Line = 'Get-DeviceSession -Id ' }
            @{ Line = 'Add-LabGatewayDevice -DeviceId ' }
            @{ Line = 'Set-GatewaySlaveDevice -DeviceId 1 -Rs485SlaveDeviceId ' }
            @{ Line = 'Disconnect-GatewayDevice -DeviceId ' }
            @{ Line = 'Remove-LabBrickDevice -Uid ' }
            @{ Line = 'Add-LabBrickDevice -Uid X -DeviceIdentifier 216 -ConnectedUid ' }
        ) {
            param($Line)
            Get-Completion $Line | Where-Object ResultType -In 'ProviderItem', 'ProviderContainer' | Should -BeNullOrEmpty
        }

        It 'the Gateway''s -DeviceId offers the ids the gateway listed' {
            $gateway = Connect-Gateway -HostName $lab['gateway'].Host -Port $lab['gateway'].Port -CaCertificate $lab['gateway'].CaCertificate
            $found = Find-GatewayDevice -Session $gateway -TimeoutSec 1 | Select-Object -First 1
            (Get-Completion 'Set-GatewaySlaveDevice -DeviceId ').CompletionText | Should -Contain "$($found.DeviceId)"
        }

        It 'Send-WebifiData -ToSessionId offers the devices the last discovery found' {
            $listener = Connect-Webifi -Credential $webifiCredential -Server $webifiServer -Network net1 -Name listener
            $talker = Connect-Webifi -Credential $webifiCredential -Server $webifiServer -Network net1 -Name talker
            $null = Find-WebifiDevice -Session $talker -WaitSec 1
            $offered = Get-Completion 'Send-WebifiData -Data x -ToSessionId '
            $offered.CompletionText | Should -Contain "$($listener.SessionId)"
            $offered | Where-Object ResultType -In 'ProviderItem', 'ProviderContainer' | Should -BeNullOrEmpty
        }

        It 'Remove-LabBrickDevice -Uid offers the UIDs of the last enumeration' {
            $brick = Connect-Brick -HostName $lab['brick'].Host -Port $lab['brick'].Port
            $seen = Get-BrickEnumeration -Session $brick -WaitSec 1 | Select-Object -First 1
            (Get-Completion 'Remove-LabBrickDevice -Uid ').ListItemText | Should -Contain $seen.Uid
        }
    }

    Describe 'Lab listeners refuse a port in use' {
        It 'Start-DeviceLab -<LabPort> on a port another lab listens on stops with LabPortInUse' -TestCases $worlds {
            param($LabPort, $Simulator)
            $taken = $lab[$Simulator].Port
            $arguments = @{ $LabPort = $taken; StartTimeoutSec = 60 }
            { Start-DeviceLab @arguments } | Should -Throw -ErrorId 'LabPortInUse*'
            $Error[0].Exception.Message | Should -BeLike "*$Simulator simulator cannot listen on *:$taken*already in use*"
            $Error[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        }
    }

    Describe 'Seed parity' {
        It 'a Brick error record carries the bindings'' error code' {
            $brick = Connect-Brick -HostName $lab['brick'].Host -Port $lab['brick'].Port
            $uid = (Get-BrickEnumeration -Session $brick -WaitSec 1 | Select-Object -First 1).Uid
            Invoke-BrickFunction -Session $brick -Uid $uid -FunctionId 200 -ResponseExpected -ErrorVariable unsupported -ErrorAction SilentlyContinue
            $unsupported[0].FullyQualifiedErrorId | Should -BeLike 'FunctionNotSupported,*'
            $unsupported[0].Exception.ErrorCode | Should -Be -10
            Get-BrickIdentity -Session $brick -Uid 'not+base58' -ErrorVariable invalid -ErrorAction SilentlyContinue
            $invalid[0].Exception.ErrorCode | Should -Be -13
        }

        It 'a byte stream that cannot be framed fails the waiting request with MalformedPacket (not the streams'' StreamOutOfSync)' {
            # A peer that answers the Connect-Brick check like a Brick Daemon ("not supported"), then sends a header
            # whose length no TFP packet has.
            $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $listener.Start()
            $peer = Start-ThreadJob -ArgumentList $listener {
                param($listener)
                $client = $listener.AcceptTcpClient()
                $stream = $client.GetStream()
                $request = [byte[]]::new(8)
                $null = $stream.Read($request, 0, 8)
                $stream.Write([byte[]]($request[0..3] + 8, $request[5], $request[6], 0x80), 0, 8)
                $null = $stream.Read([byte[]]::new(80), 0, 80)
                $stream.Write([byte[]](1, 0, 0, 0, 255, 1, 0x18, 0), 0, 8)
                Start-Sleep -Seconds 5 # the peer holds the broken stream open: the request must fail on the bytes, not on a close
                $client.Dispose()
            }
            try {
                $brick = Connect-Brick -HostName 127.0.0.1 -Port $listener.LocalEndpoint.Port -NoAutoReconnect -TimeoutSec 3 -WarningVariable warnings
                $warnings | Should -HaveCount 0
                Invoke-BrickFunction -Session $brick -Uid 4ER -FunctionId 1 -ResponseExpected -ErrorVariable failures -ErrorAction SilentlyContinue
                $failures | Should -HaveCount 1
                $failures[0].FullyQualifiedErrorId | Should -BeLike 'MalformedPacket,*'
                $failures[0].CategoryInfo.Category | Should -Be 'ProtocolError'
                $failures[0].Exception.ErrorCode | Should -BeNullOrEmpty
            }
            finally {
                $listener.Stop()
                $peer | Stop-Job -PassThru | Remove-Job
            }
        }

        It 'Connect-Gateway -StatusQueueSize sets the status stream''s queue size' {
            $gateway = Connect-Gateway -HostName $lab['gateway'].Host -Port $lab['gateway'].Port -CaCertificate $lab['gateway'].CaCertificate -StatusQueueSize 7
            $gateway.StatusQueueSize | Should -Be 7
        }

        It 'Set-AcceptFilter -Add and -Remove keep the filter''s IP addresses and subnet masks' {
            $gateway = Connect-Gateway -HostName $lab['gateway'].Host -Port $lab['gateway'].Port -CaCertificate $lab['gateway'].CaCertificate
            $filterType = $gateway.GetType().Assembly.GetType('DeviceShell.Engine.Gateway.GatewayAcceptFilter')
            $filter = [Activator]::CreateInstance($filterType)
            $filter.IPAddress = [string[]] '192.168.0.0'
            $filter.SubnetMask = [string[]] '255.255.255.0'
            $gateway.SetAcceptFilterAsync($filter, [System.Threading.CancellationToken]::None).GetAwaiter().GetResult()

            Set-AcceptFilter -Session $gateway -DeviceId 41 -Add -Confirm:$false
            Set-AcceptFilter -Session $gateway -DeviceId 42 -Add -Confirm:$false
            Set-AcceptFilter -Session $gateway -DeviceId 41 -Remove -Confirm:$false

            $after = Get-AcceptFilter -Session $gateway
            $after.DeviceId | Should -Be @(42)
            $after.IPAddress | Should -Be @('192.168.0.0')
            $after.SubnetMask | Should -Be @('255.255.255.0')
            Set-AcceptFilter -Session $gateway -DeviceId @() -Confirm:$false
        }

        It 'Disconnect-PiLinkClient drops a server''s client and the server listens for the next one' {
            $server = Start-PiLinkServer -Port 0
            try {
                $client = Connect-PiLink -HostName 127.0.0.1 -Port $server.Port -TimeoutSec 5
                $server.ClientAddress | Should -Not -BeNullOrEmpty
                Disconnect-PiLinkClient -Session $server -Confirm:$false
                $server.ClientAddress | Should -BeNullOrEmpty
                $null = Wait-Until { $client.LinkState.ToString() -ne 'Connected' } -TimeoutSec 5 -Because 'the client to see the disconnect'
                $client.LinkState.ToString() | Should -Not -Be 'Connected'
                $next = Connect-PiLink -HostName 127.0.0.1 -Port $server.Port -TimeoutSec 5
                $next.LinkState.ToString() | Should -Be 'Connected'
            }
            finally {
                Stop-PiLinkServer -Session $server -Confirm:$false
            }
        }
    }
}
