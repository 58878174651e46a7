#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# DeviceShell in a PowerShell remote session over SSH (docs/design/decisions.md §14.1): Debian's sshd on a loopback port, run as the
# current user with its own configuration, a throw-away host key and user key, and this very pwsh (the pinned PowerShell
# tool) as its powershell subsystem. Remote scripts import the staged module and drive the Lab in every world; the objects
# that come back must look as they do locally (views for the Deserialized. type names), keep their dates as DateTime,
# the Lab's endpoints and the Pi server's button as objects, and a returned session must work as -Session again.

BeforeDiscovery {
    $script:sshd = @('/usr/sbin/sshd', (Get-Command sshd -CommandType Application -ErrorAction Ignore | Select-Object -First 1 -ExpandProperty Source)) |
        Where-Object { $_ -and (Test-Path $_) } | Select-Object -First 1
    $script:haveSsh = $sshd -and (Get-Command ssh -CommandType Application -ErrorAction Ignore) -and (Get-Command ssh-keygen -CommandType Application -ErrorAction Ignore)
    if (-not $haveSsh) { Write-Host 'Remoting tests skipped: sshd, ssh or ssh-keygen missing (Debian package openssh-server).' }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $PSStyle.OutputRendering = 'PlainText'
    $script:module = $DeviceShellManifest
    $script:sshdPath = @('/usr/sbin/sshd', (Get-Command sshd -CommandType Application -ErrorAction Ignore | Select-Object -First 1 -ExpandProperty Source)) |
        Where-Object { $_ -and (Test-Path $_) } | Select-Object -First 1
    # Without OpenSSH the remoting block is skipped (BeforeDiscovery says so); the in-process block still runs.
    $haveSsh = $sshdPath -and (Get-Command ssh -CommandType Application -ErrorAction Ignore) -and (Get-Command ssh-keygen -CommandType Application -ErrorAction Ignore)
    if (-not $haveSsh) { return }

    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "deviceshell-sshd-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
    New-Item -ItemType Directory -Path $dir | Out-Null
    & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $dir host_key)
    & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $dir user_key)
    Copy-Item (Join-Path $dir user_key.pub) (Join-Path $dir authorized_keys)
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start(); $script:port = $listener.LocalEndpoint.Port; $listener.Stop()
    $script:user = [Environment]::UserName
    $dotnet = (Get-Command dotnet -CommandType Application -ErrorAction Ignore | Select-Object -First 1).Source
    $dotnetRoot = if ($env:DOTNET_ROOT) { $env:DOTNET_ROOT } elseif ($dotnet) { Split-Path (Get-Item $dotnet).ResolvedTarget } else { '' }
    # The pinned PowerShell tool's real executable: `dotnet tool run pwsh` runs its pwsh.dll under dotnet, and the package
    # ships the pwsh apphost beside it in $PSHOME.
    $pwsh = @((Join-Path $PSHOME pwsh), [Environment]::ProcessPath) | Where-Object { (Split-Path $_ -Leaf) -eq 'pwsh' -and (Test-Path $_) } | Select-Object -First 1
    if (-not $pwsh) { throw "No pwsh executable in $PSHOME." }
    @"
Port $port
ListenAddress 127.0.0.1
HostKey $(Join-Path $dir host_key)
PidFile $(Join-Path $dir sshd.pid)
AuthorizedKeysFile $(Join-Path $dir authorized_keys)
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin yes
AllowUsers $user
SetEnv DOTNET_ROOT=$dotnetRoot PATH=$env:PATH
Subsystem powershell $pwsh -sshs -NoLogo -NoProfile
"@ | Set-Content (Join-Path $dir sshd_config)
    # As root (CI) sshd wants its privilege separation directory; as another user it runs without one.
    if ((& id -u) -eq '0' -and -not (Test-Path /run/sshd)) { New-Item -ItemType Directory -Path /run/sshd | Out-Null }
    $script:sshdProcess = Start-Process -FilePath $sshdPath -ArgumentList '-f', (Join-Path $dir sshd_config), '-D', '-e' -PassThru `
        -RedirectStandardError (Join-Path $dir sshd.log) -RedirectStandardOutput (Join-Path $dir sshd.out)
    $null = Wait-Until -TimeoutSec 15 -Because "sshd to listen on port $port" {
        $probe = [System.Net.Sockets.TcpClient]::new()
        try { $probe.Connect('127.0.0.1', $port); $true } catch { $sshdProcess.HasExited } finally { $probe.Dispose() }
    }
    if ($sshdProcess.HasExited) { throw "sshd did not listen on port ${port}: $(Get-Content (Join-Path $dir sshd.log) -Raw)" }

    $script:ssh = @{
        HostName    = '127.0.0.1'
        Port        = $port
        UserName    = $user
        KeyFilePath = (Join-Path $dir user_key)
        Options     = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
    }
    $script:remote = New-PSSession @ssh -ConnectingTimeout 60000
    Invoke-Command -Session $remote -ScriptBlock {
        param($module)
        $PSStyle.OutputRendering = 'PlainText'
        Import-Module $module
        $global:lab = Start-DeviceLab -StartTimeoutSec 60
        function global:Endpoint($name) { $lab.Endpoints | Where-Object Simulator -EQ $name }
    } -ArgumentList $module

    # Runs $Code remotely; returns the remote rendering of its live objects (Out-String, as the remote user sees them) and the objects.
    function script:Invoke-Remote([string] $Code) {
        $out = @(Invoke-Command -Session $remote -HideComputerName -ScriptBlock {
                param($code)
                $objects = @(& ([scriptblock]::Create($code)))
                [pscustomobject]@{ RemoteView = ($objects | Out-String -Width 250) }
                $objects
            } -ArgumentList $Code)
        [pscustomobject]@{ RemoteView = $out[0].RemoteView; Objects = @($out[1..($out.Count - 1)]) }
    }

    function script:Assert-LooksTheSame($result, [string] $TypeName) {
        $result.Objects | Should -Not -BeNullOrEmpty
        foreach ($object in $result.Objects) { $object.pstypenames[0] | Should -Be "Deserialized.$TypeName" }
        ($result.Objects | Out-String -Width 250) | Should -Be $result.RemoteView
    }

    # Remoting serializes DateTime as itself (DateTimeOffset would arrive as a string or a property bag, since SSH
    # remoting deserializes with PowerShell's default type table), so every timestamp comes back a real local DateTime
    # that compares with Get-Date.
    function script:Assert-Dates($objects, [string[]] $Names) {
        foreach ($object in $objects) {
            foreach ($name in $Names) {
                $value = $object.$name
                $value | Should -BeOfType [datetime] -Because "$name of $($object.pstypenames[0])"
                $value.Kind | Should -Be ([DateTimeKind]::Local) -Because "$name compares with Get-Date"
                ((Get-Date) - $value).TotalMinutes | Should -BeLessThan 10 -Because "$name is recent"
            }
        }
    }
}

AfterAll {
    if ($script:remote) {
        Invoke-Command -Session $remote -ScriptBlock { Get-DeviceSession | Disconnect-DeviceSession -Confirm:$false; Stop-DeviceLab } -ErrorAction Continue
        Remove-PSSession $remote
    }
    if ($script:sshdProcess -and -not $sshdProcess.HasExited) { Stop-Process -Id $sshdProcess.Id }
    if ($script:dir) { Remove-Item -Recurse -Force $dir -ErrorAction Ignore }
}

Describe 'DeviceShell over PowerShell remoting (SSH)' -Skip:(-not $haveSsh) {
    It 'returns the Lab with its start time and endpoints as objects' {
        $result = Invoke-Remote '$lab'
        Assert-LooksTheSame $result 'DeviceShell.Engine.Lab.DeviceLab'
        $remoteLab = $result.Objects[0]
        Assert-Dates $remoteLab StartedAt
        $brick = $remoteLab.Endpoints | Where-Object Simulator -EQ 'brick'
        $brick.Port | Should -BeOfType [int]
        $brick.Host | Should -Be '127.0.0.1'
        ($remoteLab.Endpoints | Where-Object Simulator -EQ 'gateway').CaCertificate | Should -Not -BeNullOrEmpty
    }

    It 'Bricks: sessions, devices and callbacks look the same, and a returned session works as -Session' {
        $session = Invoke-Remote '$b = Endpoint brick; Connect-Brick -HostName $b.Host -Port $b.Port'
        Assert-LooksTheSame $session 'DeviceShell.Engine.Bricks.BrickSession'
        Assert-Dates $session.Objects ConnectedAt
        Assert-LooksTheSame (Invoke-Remote 'Get-BrickEnumeration') 'DeviceShell.Engine.Bricks.BrickDevice'
        $callback = Invoke-Remote "Get-BrickDeviceType 'Temperature Bricklet 2.0' | Add-LabBrickDevice -Uid Rmt | Out-Null; Receive-BrickCallback -Uid Rmt -Kind Enumerate -Count 1 -TimeoutSec 10"
        Assert-LooksTheSame $callback 'DeviceShell.Engine.Bricks.BrickEvent'
        Assert-Dates $callback.Objects ReceivedAt

        # The deserialized session goes back as -Session and stands for the live one with its Id.
        $devices = Invoke-Command -Session $remote -ScriptBlock { param($s) Get-BrickEnumeration -Session $s } -ArgumentList $session.Objects[0]
        $devices.Uid | Should -Contain 'Rmt'
        $other = Invoke-Command -Session $remote -ScriptBlock { $g = Endpoint gateway; Connect-Gateway -HostName $g.Host -Port $g.Port -CaCertificate $g.CaCertificate }
        { Invoke-Command -Session $remote -ScriptBlock { param($s) Get-BrickEnumeration -Session $s } -ArgumentList $other -ErrorAction Stop } |
            Should -Throw '*is not a Brick session*'
        Invoke-Command -Session $remote -ScriptBlock { param($s) Disconnect-Gateway -Session $s } -ArgumentList $other
    }

    It 'Gateway: sessions, devices and statuses look the same' {
        $session = Invoke-Remote '$g = Endpoint gateway; Connect-Gateway -HostName $g.Host -Port $g.Port -CaCertificate $g.CaCertificate'
        Assert-LooksTheSame $session 'DeviceShell.Engine.Gateway.GatewaySession'
        Assert-Dates $session.Objects ConnectedAt
        $devices = Invoke-Remote 'Find-GatewayDevice -TimeoutSec 1 | Where-Object ConnectionMode -EQ ServerToDevice | Add-GatewayAsyncConnection | Out-Null; Get-GatewayDevice'
        Assert-LooksTheSame $devices 'DeviceShell.Engine.Gateway.GatewayDevice'
        $statuses = Invoke-Remote 'Receive-GatewayStatus -Count 1 -TimeoutSec 10'
        Assert-LooksTheSame $statuses 'DeviceShell.Engine.Gateway.GatewayStatusChange'
        Assert-Dates $statuses.Objects Timestamp
    }

    It 'Webifi: sessions and messages look the same' {
        $sessions = Invoke-Remote @'
$w = Endpoint webifi
$cred = [pscredential]::new('webifi', (ConvertTo-SecureString 'pswd' -AsPlainText -Force))
$global:wa = Connect-Webifi -Credential $cred -Server "http://$($w.Host):$($w.Port)/" -Network lab -Name a
$global:wb = Connect-Webifi -Credential $cred -Server "http://$($w.Host):$($w.Port)/" -Network lab -Name b
$wa; $wb
'@
        Assert-LooksTheSame $sessions 'DeviceShell.Engine.Webifi.WebifiSession'
        Assert-Dates $sessions.Objects ConnectedAt
        $messages = Invoke-Remote "'one', 'two' | Send-WebifiData -ToNetwork lab -Session `$wb | Out-Null; Receive-WebifiData -Count 2 -TimeoutSec 10 -Session `$wa"
        Assert-LooksTheSame $messages 'DeviceShell.Engine.Webifi.WebifiMessage'
        Assert-Dates $messages.Objects ReceivedAt
        ($messages.Objects | Sort-Object ReceivedAt | Select-Object -Last 1).ReceivedAt | Should -BeGreaterOrEqual $messages.Objects[0].ReceivedAt
    }

    It 'Pi link: the server with its button, sessions and messages look the same' {
        $server = Invoke-Remote '$global:pi = Start-PiButtonServer -Simulated -Port 0; $pi'
        Assert-LooksTheSame $server 'DeviceShell.Engine.PiLink.PiLinkServer'
        $server.Objects[0].Button.Source.Description | Should -BeLike 'simulated*'
        $server.Objects[0].Button.Pin | Should -BeOfType [int]
        $link = Invoke-Remote 'Connect-PiLink localhost -Port $pi.Port'
        Assert-LooksTheSame $link 'DeviceShell.Engine.PiLink.PiLinkSession'
        Assert-Dates $link.Objects ConnectedAt
        $messages = Invoke-Remote '(Send-PiLinkMessage go -WaitReplySec 5) | Out-Null; $pi | Receive-PiLinkMessage -TimeoutSec 2'
        Assert-LooksTheSame $messages 'DeviceShell.Engine.PiLink.PiLinkMessage'
        Assert-Dates $messages.Objects At
        # The view's time column is filled (it formatted a string, or nothing, before).
        $messages.RemoteView | Should -Match '\d\d:\d\d:\d\d\.\d\d\d'
    }

    It 'enums compare and filter by name on the console side' {
        Invoke-Command -Session $remote -ScriptBlock { $global:enumPi = Start-PiButtonServer -Simulated -Port 0; $b = Endpoint brick; Connect-Brick -HostName $b.Host -Port $b.Port | Out-Null }
        $connected = @(Invoke-Command -Session $remote -ScriptBlock { Get-DeviceSession } | Where-Object State -EQ Connected)
        $connected | Should -Not -BeNullOrEmpty
        @($connected | Where-Object World -EQ Brick) | Should -Not -BeNullOrEmpty
        $server = Invoke-Command -Session $remote -ScriptBlock { $enumPi }
        $server.LinkState | Should -Be 'Listening'
        $server.World | Should -BeOfType [string]
        @(Invoke-Command -Session $remote -ScriptBlock { Get-BrickEnumeration } | Where-Object EnumerationType -EQ Available) | Should -Not -BeNullOrEmpty
        Invoke-Command -Session $remote -ScriptBlock { $enumPi | Stop-PiButtonServer }
    }

    It 'nested objects keep their properties: KnownDevices, Options, Endpoints' {
        $brick = Invoke-Command -Session $remote -ScriptBlock { $b = Endpoint brick; $s = Connect-Brick -HostName $b.Host -Port $b.Port; Get-BrickEnumeration -Session $s | Out-Null; $s }
        $brick.KnownDevices | Should -Not -BeNullOrEmpty
        $brick.KnownDevices[0].Uid | Should -Not -BeNullOrEmpty
        $brick.KnownDevices[0].DeviceIdentifier | Should -BeOfType [int]
        $pi = Invoke-Command -Session $remote -ScriptBlock { $global:nestedPi = Start-PiButtonServer -Simulated -Port 0; $nestedPi }
        $pi.Options.MaxMessageBytes | Should -BeOfType [int]
        $pi.Options.IdleTimeout | Should -BeOfType [timespan]
        $webifi = Invoke-Command -Session $remote -ScriptBlock {
            $w = Endpoint webifi
            $cred = [pscredential]::new('webifi', (ConvertTo-SecureString 'pswd' -AsPlainText -Force))
            $x = Connect-Webifi -Credential $cred -Server "http://$($w.Host):$($w.Port)/" -Network lab -Name x
            $y = Connect-Webifi -Credential $cred -Server "http://$($w.Host):$($w.Port)/" -Network lab -Name y
            Find-WebifiDevice -Network lab -TimeoutSec 2 -Session $x | Out-Null
            $x
            Disconnect-Webifi -Session $y
            $nestedPi | Stop-PiButtonServer
        }
        $webifi.KnownDevices.Name | Should -Contain 'y'
        (Invoke-Command -Session $remote -ScriptBlock { $lab }).Endpoints[0].Port | Should -BeOfType [int]
    }

    It 'a session from Get-DeviceSession goes back as -Session' {
        $listed = Invoke-Command -Session $remote -ScriptBlock { Get-DeviceSession } | Where-Object World -EQ Brick | Select-Object -First 1
        $listed | Should -Not -BeNullOrEmpty
        $devices = Invoke-Command -Session $remote -ScriptBlock { param($s) Get-BrickEnumeration -Session $s } -ArgumentList $listed
        $devices | Should -Not -BeNullOrEmpty
        $byPipeline = Invoke-Command -Session $remote -ScriptBlock { param($s) $s | Get-BrickTopology } -ArgumentList $listed
        $byPipeline | Should -Not -BeNullOrEmpty
    }

    It 'remote Register-EngineEvent -Forward with Receive-WebifiData -SourceIdentifier delivers every item in order' {
        Invoke-Command -Session $remote -ScriptBlock {
            $w = Endpoint webifi
            $cred = [pscredential]::new('webifi', (ConvertTo-SecureString 'pswd' -AsPlainText -Force))
            $global:fa = Connect-Webifi -Credential $cred -Server "http://$($w.Host):$($w.Port)/" -Network lab -Name fa
            $global:fb = Connect-Webifi -Credential $cred -Server "http://$($w.Host):$($w.Port)/" -Network lab -Name fb
            Register-EngineEvent -SourceIdentifier Remote.Webifi -Forward | Out-Null
            Receive-WebifiData -Session $fa -SourceIdentifier Remote.Webifi -Count 20
            1..20 | ForEach-Object { "m$_" } | Send-WebifiData -ToNetwork lab -Session $fb | Out-Null
        }
        $received = [System.Collections.Generic.List[object]]::new()
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while ($received.Count -lt 20 -and [DateTime]::UtcNow -lt $deadline) {
            $event = Wait-Event -SourceIdentifier Remote.Webifi -Timeout 5
            if ($event) { $received.Add($event); Remove-Event -EventIdentifier $event.EventIdentifier }
        }
        Invoke-Command -Session $remote -ScriptBlock { Unregister-Event -SourceIdentifier Remote.Webifi -ErrorAction Ignore; Disconnect-Webifi -Session $fa; Disconnect-Webifi -Session $fb }
        $received.Count | Should -Be 20
        $received[0].SourceArgs[1].ReceivedAt | Should -BeOfType [datetime]
        # The client queues each forwarded event from a thread-pool thread, so the queue may hold them out of the order
        # they were sent in (docs/design/decisions.md §21.3); every item carries its number in that order, and the
        # client numbers the events (EventIdentifier) as they arrive, before queueing them: either sorts them back.
        $received | ForEach-Object { $_.SourceArgs[1].Sequence } | Sort-Object | Should -Be (1..20)
        $received | Sort-Object { $_.SourceArgs[1].Sequence } | ForEach-Object { $_.SourceArgs[1].Data } | Should -Be (1..20 | ForEach-Object { "m$_" })
        $received | Sort-Object EventIdentifier | ForEach-Object { $_.SourceArgs[1].Sequence } | Should -Be (1..20)
    }

    It 'every view shows the same columns with Import-PSSession''s format data, in a shell without the module' {
        $fresh = [powershell]::Create()
        try {
            $null = $fresh.AddScript({
                    param($ssh, $module)
                    $PSStyle.OutputRendering = 'PlainText'
                    $s = New-PSSession @ssh -ConnectingTimeout 60000
                    Invoke-Command -Session $s -ScriptBlock { param($module) $PSStyle.OutputRendering = 'PlainText'; Import-Module $module } -ArgumentList $module
                    $null = Import-PSSession -Session $s -Module DeviceShell -FormatTypeName * -AllowClobber -DisableNameChecking
                    foreach ($code in '$global:viewPi = Start-PiButtonServer -Simulated -Port 0; $viewPi', 'Connect-PiLink localhost -Port $viewPi.Port -TimeoutSec 5', 'Get-DeviceSession',
                        'Send-PiLinkMessage go -WaitReplySec 5') {
                        $out = @(Invoke-Command -Session $s -HideComputerName -ScriptBlock { param($code) $o = @(& ([scriptblock]::Create($code))); ($o | Out-String -Width 250); $o } -ArgumentList $code)
                        [pscustomobject]@{ Code = $code; Remote = $out[0]; Local = ($out[1..($out.Count - 1)] | Out-String -Width 250) }
                    }
                    Invoke-Command -Session $s -ScriptBlock { Get-DeviceSession | Disconnect-DeviceSession -Confirm:$false }
                    Remove-PSSession $s
                }).AddArgument($ssh).AddArgument($module)
            $views = $fresh.Invoke()
            $fresh.Streams.Error | Should -BeNullOrEmpty
        }
        finally { $fresh.Dispose() }
        $views.Count | Should -Be 4
        $views | Where-Object { $_.Local -ne $_.Remote } | ForEach-Object { "$($_.Code)`n--remote--$($_.Remote)--here--$($_.Local)" } | Should -BeNullOrEmpty
    }

    It 'fans out to several hosts with -ThrottleLimit, results merged with PSComputerName' {
        # Invoke-Command -HostName takes no -ThrottleLimit; sessions to every host do, and run the script on all at once.
        $hosts = $ssh.Clone(); $hosts.HostName = '127.0.0.1', 'localhost'
        $sites = New-PSSession @hosts -ConnectingTimeout 60000
        $results = Invoke-Command -Session $sites -ThrottleLimit 2 -ScriptBlock {
            param($module)
            Import-Module $module
            $lab = Start-DeviceLab -Brick -StartTimeoutSec 60
            try {
                $b = $lab.Endpoints | Where-Object Simulator -EQ 'brick'
                Connect-Brick -HostName $b.Host -Port $b.Port | Out-Null
                Get-BrickEnumeration
            }
            finally { Disconnect-Brick; Stop-DeviceLab }
        } -ArgumentList $module
        Remove-PSSession $sites
        $results | Should -Not -BeNullOrEmpty
        ($results | Group-Object PSComputerName).Name | Sort-Object | Should -Be @('127.0.0.1', 'localhost')
        $results | ForEach-Object { $_.pstypenames[0] | Should -Be 'Deserialized.DeviceShell.Engine.Bricks.BrickDevice' }
    }
}

Describe 'Deserialized where the module''s types are loaded (jobs, PSSerializer)' {
    It 'serializes every enum of the engine as its name, and no view computes a column with a script block' {
        $server = Start-PiButtonServer -Simulated -Port 0
        try {
            $enums = $server.GetType().Assembly.GetExportedTypes() | Where-Object IsEnum
            $enums | Should -Not -BeNullOrEmpty
            # An enum without type data is listed by name (under StrictMode its missing SerializationMethod would throw).
            $enums | Where-Object { $typeData = Get-TypeData $_.FullName; -not $typeData -or $typeData.SerializationMethod -ne 'String' } |
                ForEach-Object FullName | Should -BeNullOrEmpty
        }
        finally { $server | Stop-PiButtonServer }
        # Import-PSSession drops a view's script blocks: their columns would be empty where the module is not loaded.
        Select-String -Path (Join-Path (Split-Path $module) DeviceShell.format.ps1xml) -Pattern '<ScriptBlock>' | Should -BeNullOrEmpty
    }

    It 'keeps dates, the button, and resolves the session by Id' {
        $server = Start-PiButtonServer -Simulated -Port 0
        $link = Connect-PiLink localhost -Port $server.Port -TimeoutSec 5
        try {
            function RoundTrip($value) { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($value)) }
            $serverCopy = RoundTrip $server
            $serverCopy.Button.Source.Description | Should -Be $server.Button.Source.Description
            $copy = RoundTrip $link
            $copy.pstypenames[0] | Should -Be 'Deserialized.DeviceShell.Engine.PiLink.PiLinkSession'
            $copy.ConnectedAt | Should -BeOfType [datetime]
            $copy.ConnectedAt | Should -Be $link.ConnectedAt
            (Send-PiLinkMessage -Session $copy -Message go -WaitReplySec 5).Text | Should -Be 'Button released'
        }
        finally {
            Disconnect-PiLink -Session $link
            $server | Stop-PiLinkServer
        }
    }
}
