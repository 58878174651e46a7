#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# One vocabulary across the worlds (docs/design/decisions.md §21): the same parameter name has the same type and meaning in every cmdlet,
# every wait is -TimeoutSec (old names stay as aliases so no script breaks), every Connect to a host takes
# -HostName/-Port (alias -ComputerName), and every Start and Add-Lab has its Stop and Remove. The cases are built
# from the whole module, so a new cmdlet is checked without being listed here.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $commands = Get-Command -Module DeviceShell -CommandType Cmdlet
    $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters

    # Durations with a meaning of their own, not "how long to wait for this command's result".
    $otherDurations = @{
        IdleTimeoutSec     = 'a server drops a client silent this long'
        DownloadTimeoutSec = 'how long the relay holds a long-polling download'
        OccupiedWaitSec    = 'how long Connect-PiLink keeps trying a server that serves another client'
    }
    $waits = foreach ($command in $commands) {
        foreach ($parameter in $command.Parameters.Values | Where-Object { $_.Name -match '(Wait|Timeout)\w*Sec$' -and $_.Name -notin $otherDurations.Keys }) {
            @{ Command = $command.Name; Parameter = $parameter.Name }
        }
    }
    # Connect-<World> reaches a host; Connect-GatewayDevice connects a device the gateway already knows, by id.
    $connects = foreach ($command in $commands | Where-Object { $_.Verb -eq 'Connect' -and $_.Noun -ne 'GatewayDevice' }) {
        @{ Command = $command.Name }
    }
    $starts = foreach ($command in $commands | Where-Object Verb -EQ 'Start') { @{ Command = $command.Name; Stop = "Stop-$($command.Noun)" } }
    $labAdds = foreach ($command in $commands | Where-Object { $_.Verb -eq 'Add' -and $_.Noun -like 'Lab*' }) {
        @{ Command = $command.Name; Remove = "Remove-$($command.Noun)" }
    }
    $names = $commands.Parameters.Values | Where-Object Name -NotIn $common | Group-Object Name | Where-Object Count -GT 1 |
        ForEach-Object { @{ Parameter = $_.Name } }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $script:Commands = Get-Command -Module DeviceShell -CommandType Cmdlet
}

Describe 'The module''s vocabulary' {
    It 'calls the wait of <Command> -TimeoutSec (-<Parameter> only as an alias)' -ForEach $waits {
        $Parameter | Should -Be 'TimeoutSec'
    }

    It 'gives -TimeoutSec one type everywhere: seconds, absent for the default' {
        $types = $Commands.Parameters.Values | Where-Object Name -EQ 'TimeoutSec' | ForEach-Object ParameterType | Sort-Object -Unique
        $types | Should -Be ([System.Nullable[double]])
    }

    It 'gives -<Parameter> one type in every cmdlet' -ForEach $names {
        $types = @($Commands.Parameters.Values | Where-Object Name -EQ $Parameter | ForEach-Object { $_.ParameterType.FullName } | Sort-Object -Unique)
        $types.Count | Should -Be 1 -Because "-$Parameter has the types $($types -join ', ')"
    }

    It 'keeps the old names of renamed waits as aliases' -ForEach @(
        @{ Command = 'Start-DeviceLab'; Old = 'StartTimeoutSec' }
        @{ Command = 'Send-PiLinkMessage'; Old = 'WaitReplySec' }
        @{ Command = 'Get-BrickEnumeration'; Old = 'WaitSec' }
        @{ Command = 'Get-BrickTopology'; Old = 'WaitSec' }
        @{ Command = 'Find-WebifiDevice'; Old = 'WaitSec' }
        @{ Command = 'Find-WebifiDevice'; Old = 'WaitReplySec' }
    ) {
        (Get-Command $Command).Parameters['TimeoutSec'].Aliases | Should -Contain $Old
    }

    It 'lets <Command> take -HostName (alias -ComputerName) and -Port' -ForEach $connects {
        $parameters = (Get-Command $Command).Parameters
        $parameters['HostName'].ParameterType | Should -Be ([string])
        $parameters['HostName'].Aliases | Should -Contain 'ComputerName'
        $parameters['Port'].ParameterType | Should -Be ([int])
    }

    It 'lets <Command> give up after -TimeoutSec' -ForEach $connects {
        (Get-Command $Command).Parameters.Keys | Should -Contain 'TimeoutSec'
    }

    It 'stops what <Command> starts with <Stop>' -ForEach $starts {
        Get-Command $Stop -Module DeviceShell -ErrorAction Ignore | Should -Not -BeNullOrEmpty
    }

    It 'undoes <Command> with <Remove>' -ForEach $labAdds {
        Get-Command $Remove -Module DeviceShell -ErrorAction Ignore | Should -Not -BeNullOrEmpty
    }
}
