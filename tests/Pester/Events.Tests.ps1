#Requires -Version 7.4
# The event rules of about_DeviceShell ("Events"), the same in every world: one buffer per session, filtered
# receives that leave the rest, no replay of the module's own answers, -DiscardQueued, EventArgs payloads,
# background -SourceIdentifier forwarding (in order, until Unregister-Event, from thread jobs and -Parallel),
# Receive-WebifiStatus, and sessions that show counts instead of queues. Every wait is bounded.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $script:ModulePath = $DeviceShellManifest
    $script:Lab = Start-DeviceLab -Brick -Gateway -Webifi -StartTimeoutSec 60
    $brickEndpoint = $script:Lab['brick']
    $script:Brick = Connect-Brick -HostName $brickEndpoint.Host -Port $brickEndpoint.Port -TimeoutSec 2
    $gatewayEndpoint = $script:Lab['gateway']
    # 30 s: the first call into a freshly started Lab took over 10 s at load 55 (GatewayDeadlineExceeded); no test here measures it.
    $script:Gateway = Connect-Gateway -HostName $gatewayEndpoint.Host -Port $gatewayEndpoint.Port -CaCertificate $gatewayEndpoint.CaCertificate -TimeoutSec 30
    $webifiEndpoint = $script:Lab['webifi']
    $script:WebifiServer = "http://$($webifiEndpoint.Host):$($webifiEndpoint.Port)/"
    $script:Credential = [pscredential]::new('webifi', (ConvertTo-SecureString 'pswd' -AsPlainText -Force))
    $script:Webifi = Connect-Webifi -Credential $script:Credential -Server $script:WebifiServer -Network net1
    $script:PiServer = Start-PiLinkServer -Port 0
    $script:PiClient = Connect-PiLink -HostName 127.0.0.1 -Port $script:PiServer.Port -TimeoutSec 5
    $script:NextUid = 0

    # A Lab bricklet with a fresh UID, so that tests do not see each other's enumerate callbacks.
    function Add-TestBricklet {
        $uid = 'Ev' + [char](65 + $script:NextUid++)
        Add-LabBrickDevice -Lab $script:Lab -Uid $uid -DeviceIdentifier 2113 -Confirm:$false
        $uid
    }

    # Runs $Trigger with a Register-ObjectEvent -Action subscriber on $EventName and returns the first $EventArgs the
    # action saw for which $Where is true.
    function Get-ActionEventArgs($Source, [string] $EventName, [scriptblock] $Trigger, [scriptblock] $Where = { $true }) {
        $box = [hashtable]::Synchronized(@{ Where = $Where })
        $subscription = Register-ObjectEvent -InputObject $Source -EventName $EventName -MessageData $box -Action {
            $box = $Event.MessageData
            if (-not $box.ContainsKey('Args') -and (& $box.Where $EventArgs)) { $box['Args'] = $EventArgs }
        }
        try {
            & $Trigger
            $null = Wait-Until { $box.ContainsKey('Args') } -TimeoutSec 10 -Because "the $EventName event"
        }
        finally {
            Unregister-Event -SourceIdentifier $subscription.Name
            Remove-Job -Job $subscription -Force
        }
        $box['Args']
    }

    # Waits (bounded) until $Count events of $SourceIdentifier are queued, then returns and removes them.
    function Receive-QueuedEvent([string] $SourceIdentifier, [int] $Count, [double] $TimeoutSec = 10) {
        $null = Wait-Until { @(Get-Event -SourceIdentifier $SourceIdentifier -ErrorAction Ignore).Count -ge $Count } -TimeoutSec $TimeoutSec -Because "$Count $SourceIdentifier event(s)"
        $events = @(Get-Event -SourceIdentifier $SourceIdentifier -ErrorAction Ignore)
        $events | Remove-Event
        $events
    }
}

AfterAll {
    Get-EventSubscriber | Unregister-Event
    Disconnect-PiLink -All -ErrorAction Ignore
    if ($script:PiServer) { Stop-PiLinkServer -Session $script:PiServer -ErrorAction Ignore }
    Disconnect-Webifi -All -ErrorAction Ignore
    Disconnect-Gateway -All -ErrorAction Ignore
    Disconnect-Brick -All -ErrorAction Ignore
    if ($script:Lab) { Stop-DeviceLab -Lab $script:Lab }
}

Describe 'Receive cmdlets share one buffer per session' {
    It 'a filtered receive takes only what matches and leaves the rest for later receives' {
        $uid = Add-TestBricklet
        @(Receive-BrickCallback -Session $script:Brick -Uid 4ER -TimeoutSec 0.5) | Where-Object Uid -EQ $uid | Should -BeNullOrEmpty
        $later = Receive-BrickCallback -Session $script:Brick -Uid $uid -Count 1 -TimeoutSec 5
        $later.Uid | Should -Be $uid
        $later.Device.EnumerationType | Should -Be 'Connected'
    }

    It 'does not replay the answers to Get-BrickTopology as background enumerate callbacks' {
        Receive-BrickCallback -Session $script:Brick -DiscardQueued -TimeoutSec 0
        $null = Get-BrickTopology -Session $script:Brick
        $uid = Add-TestBricklet
        $next = Receive-BrickCallback -Session $script:Brick -Kind Enumerate -Count 1 -TimeoutSec 5
        $next.Uid | Should -Be $uid
        $next.Device.EnumerationType | Should -Be 'Connected'
    }

    It 'does not replay the Discovery Responses Find-WebifiDevice collected as received data' {
        $other = Connect-Webifi -Credential $script:Credential -Server $script:WebifiServer -Network net2 -Name peer
        try {
            @(Find-WebifiDevice -Network net2 -WaitSec 1 -Session $script:Webifi).Name | Should -Contain 'peer'
            @(Receive-WebifiData -Session $script:Webifi -DataType 'Discovery Response' -TimeoutSec 0.5) | Should -BeNullOrEmpty
        }
        finally {
            Disconnect-Webifi -Session $other
        }
    }

    It '-DiscardQueued starts from now' {
        $old = Add-TestBricklet
        $null = Wait-Until { $script:Brick.QueuedEvents -gt 0 } -TimeoutSec 5 -Because 'the enumerate callback to be queued'
        $script:Brick.QueuedEvents | Should -BeGreaterThan 0
        @(Receive-BrickCallback -Session $script:Brick -DiscardQueued -Kind Enumerate -TimeoutSec 0.3) | Should -BeNullOrEmpty
        $new = Add-TestBricklet
        $next = Receive-BrickCallback -Session $script:Brick -Kind Enumerate -Count 1 -TimeoutSec 5
        $next.Uid | Should -Be $new
        $next.Uid | Should -Not -Be $old
        $script:Brick.DroppedEvents | Should -Be 0 -Because 'discarding on request is no loss'
    }
}

Describe 'Payloads derive from EventArgs, so $EventArgs works in -Action' {
    It 'Brick CallbackReceived' {
        $seen = Get-ActionEventArgs $script:Brick CallbackReceived {
            # Temperature 2.0 callback every 100 ms.
            $null = Invoke-BrickFunction -Session $script:Brick -Uid 4ER -FunctionId 2 -Payload 100, 0, 0, 0, 0, 120, 0, 0, 0, 0 -ResponseExpected
        }
        $null = Invoke-BrickFunction -Session $script:Brick -Uid 4ER -FunctionId 2 -Payload 0, 0, 0, 0, 0, 120, 0, 0, 0, 0 -ResponseExpected
        $seen | Should -Not -BeNullOrEmpty
        $seen.Uid | Should -Be '4ER'
        $seen.Kind | Should -Be 'Callback'
    }

    It 'Gateway StatusChanged' {
        $seen = Get-ActionEventArgs $script:Gateway StatusChanged {
            $null = Connect-GatewayDevice -Session $script:Gateway -IPAddress 192.168.0.110 -Port 51211
        }
        $seen | Should -Not -BeNullOrEmpty
        $seen.DeviceId | Should -Be 544140286
    }

    It 'Pi link MessageReceived' {
        $seen = Get-ActionEventArgs $script:PiServer MessageReceived { Send-PiLinkMessage -Session $script:PiClient -Message 'hello' }
        $seen | Should -Not -BeNullOrEmpty
        $seen.Text | Should -Be 'hello'
    }

    It 'Webifi MessageReceived' {
        $seen = Get-ActionEventArgs $script:Webifi MessageReceived {
            Send-WebifiData -Session $script:Webifi -Data 'to myself' -ToSessionId $script:Webifi.SessionId -TimeoutSec 10
        }
        $seen | Should -Not -BeNullOrEmpty
        $seen.Data | Should -Be 'to myself'
    }

    It 'Webifi StatusChanged when the relay goes away, and ErrorOccurred carries an EventArgs' {
        $ownLab = Start-DeviceLab -Webifi -StartTimeoutSec 60
        $endpoint = $ownLab['webifi']
        $session = Connect-Webifi -Credential $script:Credential -Server "http://$($endpoint.Host):$($endpoint.Port)/" -Network net1
        try {
            # The link may report its own reconnect attempts too; the session's Reconnecting must come.
            $seen = Get-ActionEventArgs $session StatusChanged { Stop-DeviceLab -Lab $ownLab } -Where { param($e) "$($e.Kind)" -eq 'Reconnecting' }
            $seen | Should -Not -BeNullOrEmpty
            $seen.Kind | Should -Be 'Reconnecting'
            $seen.GetType().Name | Should -Be 'WebifiStatusChange'
        }
        finally {
            Disconnect-Webifi -Session $session
        }
        $errorOccurred = $script:Webifi.GetType().GetEvent('ErrorOccurred').EventHandlerType.GetGenericArguments()[0]
        $errorOccurred.IsSubclassOf([EventArgs]) | Should -BeTrue
    }
}

Describe '-SourceIdentifier forwards in the background' {
    It 'returns at once and forwards until Unregister-Event' {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        Receive-BrickCallback -Session $script:Brick -Kind Enumerate -SourceIdentifier Ev.Forward -TimeoutSec 60
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 2
        Get-EventSubscriber -SourceIdentifier Ev.Forward | Should -Not -BeNullOrEmpty
        $uid = Add-TestBricklet
        $event = Wait-Event -SourceIdentifier Ev.Forward -Timeout 10
        $event.SourceEventArgs.Uid | Should -Be $uid
        $event.Sender.Id | Should -Be $script:Brick.Id
        $event | Remove-Event
        Unregister-Event -SourceIdentifier Ev.Forward
        $after = Add-TestBricklet
        Start-Sleep -Milliseconds 500 # a window, not a wait: a forward after Unregister-Event would land in it
        Get-Event -SourceIdentifier Ev.Forward -ErrorAction Ignore | Should -BeNullOrEmpty
        (Receive-BrickCallback -Session $script:Brick -Uid $after -Count 1 -TimeoutSec 5).Uid | Should -Be $after -Because 'after Unregister-Event the items stay for receives'
    }

    It 'starts from now, leaving the queued items for receives, unless -IncludeQueued' {
        Receive-PiLinkMessage -Session $script:PiServer -DiscardQueued -TimeoutSec 0
        'old1', 'old2' | ForEach-Object { Send-PiLinkMessage -Session $script:PiClient -Message $_ }
        $null = Wait-Until { $script:PiServer.QueuedEvents -ge 2 } -TimeoutSec 10 -Because 'the two old messages to be queued'
        Receive-PiLinkMessage -Session $script:PiServer -MessageOnly -SourceIdentifier Ev.FromNow
        Receive-PiLinkMessage -Session $script:PiServer -MessageOnly -SourceIdentifier Ev.Backlog -IncludeQueued -Count 2
        try {
            Send-PiLinkMessage -Session $script:PiClient -Message 'new1'
            (Receive-QueuedEvent Ev.FromNow 1).SourceEventArgs.Text | Should -Be 'new1'
            (Receive-QueuedEvent Ev.Backlog 2).SourceEventArgs.Text | Should -Be @('old1', 'old2')
        }
        finally {
            Unregister-Event -SourceIdentifier Ev.FromNow
            Unregister-Event -SourceIdentifier Ev.Backlog -ErrorAction Ignore
        }
    }

    It 'keeps the order the items arrived in' {
        Receive-PiLinkMessage -Session $script:PiServer -DiscardQueued -TimeoutSec 0
        Receive-PiLinkMessage -Session $script:PiServer -MessageOnly -SourceIdentifier Ev.Order
        try {
            $texts = 1..50 | ForEach-Object { "m$_" }
            $texts | ForEach-Object { Send-PiLinkMessage -Session $script:PiClient -Message $_ }
            $events = Receive-QueuedEvent Ev.Order 50
            $events.SourceEventArgs.Text | Should -Be $texts
        }
        finally {
            Unregister-Event -SourceIdentifier Ev.Order
        }
    }

    It 'works from a thread job, into the job''s runspace' {
        $job = Start-ThreadJob {
            Import-Module $using:ModulePath
            Receive-BrickCallback -Session $using:Brick -Kind Enumerate -SourceIdentifier Ev.Job
            Add-LabBrickDevice -Lab $using:Lab -Uid EvJob -DeviceIdentifier 2113 -Confirm:$false
            (Wait-Event -SourceIdentifier Ev.Job -Timeout 10).SourceEventArgs.Uid
            Unregister-Event -SourceIdentifier Ev.Job
        }
        $job | Wait-Job -Timeout 30 | Should -Not -BeNullOrEmpty
        $job | Receive-Job -AutoRemoveJob -Wait | Should -Be 'EvJob'
        Get-Event -SourceIdentifier Ev.Job -ErrorAction Ignore | Should -BeNullOrEmpty -Because 'the events go to the runspace that asked'
    }

    It 'works from ForEach-Object -Parallel' {
        $uids = 'EvPa', 'EvPb' | ForEach-Object -ThrottleLimit 2 -TimeoutSeconds 30 -Parallel {
            Import-Module $using:ModulePath
            Receive-BrickCallback -Session $using:Brick -Uid $_ -SourceIdentifier "Ev.$_"
            Add-LabBrickDevice -Lab $using:Lab -Uid $_ -DeviceIdentifier 2113 -Confirm:$false
            (Wait-Event -SourceIdentifier "Ev.$_" -Timeout 10).SourceEventArgs.Uid
            Unregister-Event -SourceIdentifier "Ev.$_"
        }
        $uids | Sort-Object | Should -Be @('EvPa', 'EvPb')
    }
}

Describe 'Webifi status as a Receive stream' {
    It 'Receive-WebifiStatus writes the connection and the background error of a bad network' {
        $session = Connect-Webifi -Credential $script:Credential -Server $script:WebifiServer -Network net1, bogus -ErrorAction SilentlyContinue
        try {
            $error5 = Receive-WebifiStatus -Session $session -Kind Error -Count 1 -TimeoutSec 5
            $error5.Code | Should -Be 5
            (Receive-WebifiStatus -Session $session -Kind Connected -Count 1 -TimeoutSec 5).Kind | Should -Be 'Connected'
        }
        finally {
            Disconnect-Webifi -Session $session
        }
    }

    It 'status changes stay queued for Receive-WebifiStatus while Receive-WebifiData takes the data' {
        $session = Connect-Webifi -Credential $script:Credential -Server $script:WebifiServer -Network net1
        try {
            Send-WebifiData -Session $session -Data 'x' -ToSessionId $session.SessionId -TimeoutSec 10
            (Receive-WebifiData -Session $session -Count 1 -TimeoutSec 5).Data | Should -Be 'x'
            (Receive-WebifiStatus -Session $session -Count 1 -TimeoutSec 5).Kind | Should -Be 'Connected'
        }
        finally {
            Disconnect-Webifi -Session $session
        }
    }
}

Describe 'Sessions show counts, not queues' {
    It '<World> session: Format-List * has QueuedEvents and DroppedEvents and no buffer object' -ForEach @(
        @{ World = 'Brick' }, @{ World = 'Gateway' }, @{ World = 'Webifi' }, @{ World = 'PiLink' }
    ) {
        $session = Get-DeviceSession -World $World | Select-Object -First 1
        $text = $session | Format-List * | Out-String -Width 300
        $text | Should -Not -Match 'EventQueue|EventBuffer|DeviceShell\.Engine\.Sessions\.'
        $text | Should -Match 'QueuedEvents\s*:\s*\d+'
        $text | Should -Match 'DroppedEvents\s*:\s*\d+'
    }
}
