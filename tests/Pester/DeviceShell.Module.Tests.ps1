#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.5.0' }
# The staged module as a user gets it: imports, exports exactly the catalogue, has help, starts the Lab.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $script:ModuleFolder = $DeviceShellFolder
    $script:Manifest = $DeviceShellManifest
    $script:Expected = (Import-PowerShellDataFile $Manifest).CmdletsToExport
}

AfterAll {
    Get-Module DeviceShell | Remove-Module -Force
}

Describe 'The DeviceShell module' {
    It 'imports from the staged folder' {
        Get-Module DeviceShell | Should -Not -BeNullOrEmpty
        (Get-Module DeviceShell).Version | Should -Be (Import-PowerShellDataFile $Manifest).ModuleVersion
    }

    It 'exports exactly the cmdlets of its manifest' {
        $exported = (Get-Command -Module DeviceShell -CommandType Cmdlet).Name | Sort-Object
        $exported | Should -Be ($Expected | Sort-Object)
    }

    It 'ships no System.Management.Automation.dll' {
        Get-ChildItem $ModuleFolder -Recurse -Filter System.Management.Automation.dll | Should -BeNullOrEmpty
    }

    It 'has help with a synopsis and an example for <_>' -ForEach (Import-PowerShellDataFile (Join-Path $PSScriptRoot '../../out/DeviceShell/DeviceShell.psd1')).CmdletsToExport {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "$_*"
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
    }

    It 'lists sessions as DeviceSession objects' {
        # Engine types live in the module's own load context, so they are checked by name, not by type literal.
        Get-DeviceSession | ForEach-Object { $_.PSObject.TypeNames | Should -Contain 'DeviceShell.Engine.Sessions.DeviceSession' }
        { Get-DeviceSession -World Brick, Webifi } | Should -Not -Throw
    }

    It 'reports an unknown session id as ObjectNotFound' {
        Get-DeviceSession -Id 987654 -ErrorVariable failures -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'SessionNotFound*'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}

Describe 'Start-DeviceLab' {
    It 'returns the endpoint of every simulator asked for and stops cleanly' {
        $lab = Start-DeviceLab -Echo -StartTimeoutSec 60
        try {
            $lab.Endpoints.Simulator | Should -Be 'echo'
            $lab['echo'].Port | Should -BeGreaterThan 0
            $client = [System.Net.Sockets.TcpClient]::new()
            $client.Connect($lab['echo'].Host, $lab['echo'].Port)
            $client.Connected | Should -BeTrue
            $client.Dispose()
        }
        finally {
            Stop-DeviceLab -Lab $lab
        }
        $lab.HasExited | Should -BeTrue
    }

    It 'runs on the engine loaded into the module''s own load context, not the default one' {
        $lab = Start-DeviceLab -Echo -StartTimeoutSec 60
        try {
            $engine = $lab.GetType().Assembly
            $engine.GetName().Name | Should -Be 'DeviceShell.Engine'
            [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($engine).Name | Should -Be 'DeviceShell'
            $engine.Location | Should -BeLike '*Dependencies*'
        }
        finally {
            Stop-DeviceLab -Lab $lab
        }
    }

    It 'supports -WhatIf' {
        Start-DeviceLab -Echo -WhatIf | Should -BeNullOrEmpty
    }
}
