#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.5.0' }
# Help as users read it in PowerShell: Get-Help on every exported cmdlet of the staged module, the
# about_DeviceShell topic, and the online links. The MAML is plain text, so no markdown may leak into it.

BeforeDiscovery {
    $manifest = Join-Path $PSScriptRoot '../../out/DeviceShell/DeviceShell.psd1'
    $script:Cmdlets = (Import-PowerShellDataFile $manifest).CmdletsToExport
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $script:ModuleFolder = $DeviceShellFolder
    $script:DocsFolder = Join-Path $RepoRoot docs/cmdlets
    $script:CommonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    # Code spans, bold and inline links: what a markdown page has and a console cannot render. A lone
    # backtick is PowerShell's escape character (`n), which help text may show.
    $script:MarkdownMarkers = '`[^`]+`|\*\*|\]\('

    function Get-HelpText([string] $Name) {
        # A help object has only the sections its page has (no alertSet without notes): read the absent ones as empty.
        Set-StrictMode -Off
        $help = Get-Help $Name -Full
        @(
            $help.Synopsis
            $help.description.Text
            $help.parameters.parameter.description.Text
            $help.examples.example.remarks.Text
            $help.alertSet.alert.Text
            $help.returnValues.returnValue.description.Text
        ) | Where-Object { $_ }
    }
}

AfterAll {
    Get-Module DeviceShell | Remove-Module -Force
}

Describe 'Help of <_>' -ForEach $Cmdlets {
    BeforeAll {
        $script:Name = $_
        $script:Help = Get-Help $Name -Full
    }

    It 'has a synopsis of its own' {
        $Help.Synopsis | Should -Not -BeNullOrEmpty
        # Without MAML help, PowerShell puts the syntax in the synopsis.
        $Help.Synopsis | Should -Not -BeLike "$Name *"
    }

    It 'has a description' {
        ($Help.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        $parameters = (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $CommonParameters }
        foreach ($parameter in $parameters) {
            $described = $Help.parameters.parameter | Where-Object name -EQ $parameter
            ($described.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$parameter of $Name needs a description"
        }
    }

    It 'has at least one example with code' {
        @($Help.examples.example).Count | Should -BeGreaterThan 0
        @($Help.examples.example)[0].code | Should -Not -BeNullOrEmpty
    }

    It 'shows no markdown markers' {
        Get-HelpText $Name | Where-Object { $_ -match $MarkdownMarkers } | Should -BeNullOrEmpty
    }

    It 'links its online page in the repository' {
        (Get-Command $Name).HelpUri | Should -Be "https://github.com/deviceshell/DeviceShell/blob/main/docs/cmdlets/$Name.md"
        Join-Path $DocsFolder "$Name.md" | Should -Exist
    }
}

Describe 'about_DeviceShell' {
    It 'ships in the module''s en-US folder' {
        Join-Path $ModuleFolder 'en-US/about_DeviceShell.help.txt' | Should -Exist
    }

    It 'covers <_>' -ForEach 'WORLDS', 'SESSIONS', 'EVENTS', 'THE LAB', 'ERRORS' {
        (Get-Help about_DeviceShell | Out-String) | Should -Match "(?m)^$_\s*$"
    }

    It 'fits an 80-column console: no line is longer than 80 characters' {
        $long = Get-Content (Join-Path $ModuleFolder 'en-US/about_DeviceShell.help.txt') |
            Where-Object Length -GT 80
        $long | Should -BeNullOrEmpty
    }

    It 'is what Get-Help DeviceShell finds' {
        $found = Get-Help DeviceShell
        ($found | Out-String) | Should -Match 'about_DeviceShell'
    }
}
