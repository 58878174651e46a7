#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.5.0' }
# Another module got there first: a session that already holds an older Google.Protobuf in PowerShell's
# default load context imports DeviceShell and uses the Gateway (gRPC, protobuf) and Webifi (WebSocket)
# cmdlets. Once imported, DeviceShell.dll stays loaded for the life of a process, so this runs in a pwsh
# of its own, whatever the other suites imported before.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Set-StrictMode -Version 3.0
    . (Join-Path $PSScriptRoot 'FreshPwsh.ps1')
    $script:ModuleFolder = $DeviceShellFolder
    $script:Dependencies = Join-Path $ModuleFolder 'Dependencies'
    # Downloaded by the <PackageDownload> in src/DeviceShell.BuildTools/DeviceShell.BuildTools.csproj.
    $script:ForeignVersion = '3.25.1'
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
    $foreign = Join-Path $packages "google.protobuf/$ForeignVersion/lib/net5.0/Google.Protobuf.dll"
    $result = Join-Path ([System.IO.Path]::GetTempPath()) "deviceshell-isolation-$PID.json"

    $script:Run = Invoke-FreshPwsh -TimeoutSec 180 -Script @"
`$ErrorActionPreference = 'Stop'
# Assembly.LoadFrom puts it into the default load context, as Add-Type -Path or another module would.
`$foreign = [System.Reflection.Assembly]::LoadFrom('$foreign')
Import-Module '$ModuleFolder/DeviceShell.psd1'
`$lab = Start-DeviceLab -Gateway -Webifi -StartTimeoutSec 60
try {
    `$gw = `$lab['gateway']
    `$gateway = Connect-Gateway -HostName `$gw.Host -Port `$gw.Port -CaCertificate `$gw.CaCertificate -TimeoutSec 10
    `$found = @(Find-GatewayDevice -Session `$gateway -TimeoutSec 0.5)
    `$server = "http://`$(`$lab['webifi'].Host):`$(`$lab['webifi'].Port)/"
    `$credential = [pscredential]::new('webifi', (ConvertTo-SecureString 'pswd' -AsPlainText -Force))
    `$listener = Connect-Webifi -Credential `$credential -Server `$server -Network lab -Name listener
    `$talker = Connect-Webifi -Credential `$credential -Server `$server -Name talker
    'one', 'two' | Send-WebifiData -ToNetwork lab -Session `$talker -TimeoutSec 10
    `$received = @(Receive-WebifiData -Count 2 -TimeoutSec 10 -Session `$listener)
    `$loaded = foreach (`$context in [System.Runtime.Loader.AssemblyLoadContext]::All) {
        foreach (`$assembly in `$context.Assemblies) {
            @{ Context = `$context.Name; Name = `$assembly.GetName().Name; Version = "`$(`$assembly.GetName().Version)"; Location = `$assembly.Location }
        }
    }
    @{
        GatewayDevices = `$found.Count
        WebifiData     = @(`$received.Data)
        # What a script in this session gets for the type name: still the foreign copy.
        SessionProtobuf = "`$([Google.Protobuf.ByteString].Assembly.GetName().Version)"
        Loaded         = @(`$loaded)
    } | ConvertTo-Json -Depth 4 | Set-Content '$result'
}
finally {
    Disconnect-Gateway -All -ErrorAction SilentlyContinue
    Disconnect-Webifi -All -ErrorAction SilentlyContinue
    Stop-DeviceLab -Lab `$lab
}
"@
    $script:Facts = if (Test-Path $result) { Get-Content $result -Raw | ConvertFrom-Json } else { $null }
    Remove-Item $result -ErrorAction SilentlyContinue

    function Get-LoadedFrom([string] $Folder) {
        $Facts.Loaded | Where-Object { $_.Location -and [System.IO.Path]::GetDirectoryName($_.Location) -eq $Folder }
    }
}

Describe 'DeviceShell next to another version of its dependencies' {
    It 'runs the Gateway and Webifi cmdlets against the Lab' {
        $Run.ExitCode | Should -Be 0 -Because $Run.Errors
        $Facts.GatewayDevices | Should -Be 4
        $Facts.WebifiData | Should -Be @('one', 'two')
    }

    It 'leaves the foreign Google.Protobuf in the default load context for the session''s own scripts' {
        $Facts.SessionProtobuf | Should -BeLike "$ForeignVersion.*"
        $default = @($Facts.Loaded | Where-Object { $_.Context -eq 'Default' -and $_.Name -eq 'Google.Protobuf' })
        $default.Version | Should -Be @("$ForeignVersion.0")
    }

    It 'loads its own Google.Protobuf into the DeviceShell load context' {
        $shipped = [System.Reflection.AssemblyName]::GetAssemblyName((Join-Path $Dependencies 'Google.Protobuf.dll')).Version
        "$shipped" | Should -Not -BeLike "$ForeignVersion.*"
        $own = @($Facts.Loaded | Where-Object { $_.Context -eq 'DeviceShell' -and $_.Name -eq 'Google.Protobuf' })
        $own.Version | Should -Be @("$shipped")
    }

    It 'loads every assembly of Dependencies/ that it uses into the DeviceShell load context only' {
        $fromDependencies = @(Get-LoadedFrom $Dependencies)
        $fromDependencies.Name | Should -Contain 'DeviceShell.Engine'
        $fromDependencies | Where-Object Context -NE 'DeviceShell' | Should -BeNullOrEmpty
    }

    It 'has loaded the gRPC and WebSocket client libraries it ships, privately' {
        # Whichever of them the engine ships: the engine is moving onto Grpc.Net.Client and Websocket.Client.
        $shipped = 'Grpc.Net.Client', 'Grpc.Core.Api', 'Websocket.Client', 'System.Reactive' |
            Where-Object { Test-Path (Join-Path $Dependencies "$_.dll") }
        $private = ($Facts.Loaded | Where-Object Context -EQ 'DeviceShell').Name
        foreach ($name in $shipped) { $private | Should -Contain $name }
    }
}
