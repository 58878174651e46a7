#Requires -Version 7.4
<#
.SYNOPSIS
    The README's quick starts, run as DeviceShell cmdlets against the Lab: what ./build.sh demo shows.
.DESCRIPTION
    Imports the module and runs each world's quick start from README.md step by step, printing every
    command before its output, as if typed at the prompt. Stops at the first error (exit code 1).
    With -PrepareShell it runs no quick start: it imports the module, starts a Lab with every simulator
    in $lab and prints the commands to try first; ./build.sh shell dot-sources it into an interactive pwsh.
.PARAMETER ModulePath
    The module manifest to import; by default the staged module in out/DeviceShell.
.PARAMETER PrepareShell
    Only import the module and start the Lab, for an interactive session.
.EXAMPLE
    ./docs/QuickStart.ps1
.EXAMPLE
    pwsh -NoExit -Command '. ./docs/QuickStart.ps1 -PrepareShell'
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/DeviceShell/DeviceShell.psd1'),
    [switch] $PrepareShell
)
$ErrorActionPreference = 'Stop'
# Colours only on a terminal: `./build.sh demo > file` should read as plain text (pwsh colours table headers even
# when its output is redirected).
if ([Console]::IsOutputRedirected) { $PSStyle.OutputRendering = 'PlainText' }
Import-Module $ModulePath -Force
$version = (Get-Module DeviceShell).Version

if ($PrepareShell) {
    $lab = Start-DeviceLab
    Write-Host "DeviceShell $version is imported, and `$lab holds a Lab running every simulator:"
    $lab.Endpoints | Out-Host
    Write-Host 'Try first:'
    # The session goes into a variable: written first on the same line, it would make the topology a list.
    Write-Host "  `$brick = Connect-Brick -HostName `$lab['brick'].Host -Port `$lab['brick'].Port; Get-BrickTopology"
    Write-Host '  Get-DeviceSession'
    Write-Host '  Get-Help about_DeviceShell'
    Write-Host 'Leaving pwsh (exit) stops the Lab.'
    return
}

# Each step is one line of the README's quick start. Steps run in this script's scope (dot-sourced), so a
# variable set by one step is there for the next, as at a prompt.
$quickStarts = [ordered]@{
    'Bricks (Tinkerforge Brick Daemon)'                    = @(
        { $lab = Start-DeviceLab -Brick }
        { Connect-Brick -HostName $lab['brick'].Host -Port $lab['brick'].Port }
        { Get-BrickTopology }
        { Get-BrickEnumeration | Get-BrickIdentity }
        { Get-BrickTemperature -Uid 4ER }
        { Get-BrickFunction -Uid 4ER -Name *Temperature* }
        { Invoke-BrickFunction -Uid 4ER -Name GetTemperature }
        { Invoke-BrickFunction -Uid 4ER -Name SetTemperatureCallbackConfiguration -Period 0.1 -Option Greater -Min 25 }
        { Set-LabBrickInput -Uid 4ER -Name Temperature -Value 3000 }
        { Receive-BrickCallback -Uid 4ER -Kind Callback -Count 3 -TimeoutSec 5 | ForEach-Object { $_.Values.Temperature } }
        { Invoke-BrickFunction -Uid 4ER -FunctionId 1 -ResponseExpected }
        { Add-LabBrickDevice -Uid Led -DeviceIdentifier 'LED Strip Bricklet 2.0' }
        { Invoke-BrickFunction -Uid Led -Name SetLEDValues -Index 0 -Value (1..450 | ForEach-Object { $_ % 256 }) }
        { (Invoke-BrickFunction -Uid Led -Name GetLEDValues -Index 0 -Length 450).Value.Count }
        { Get-BrickDeviceType 'Temperature Bricklet 2.0' | Add-LabBrickDevice -Uid Tmp }
        { Receive-BrickCallback -Uid Tmp -Kind Enumerate -Count 1 -TimeoutSec 5 }
        { Disconnect-Brick; Stop-DeviceLab }
    )
    'Gateway (Suprema G-SDK Connect over gRPC and TLS)'    = @(
        { $lab = Start-DeviceLab -Gateway }
        { $gw = $lab['gateway'] }
        { Connect-Gateway -HostName $gw.Host -Port $gw.Port -CaCertificate $gw.CaCertificate }
        { Find-GatewayDevice -TimeoutSec 2 | Where-Object ConnectionMode -eq ServerToDevice | Add-GatewayAsyncConnection }
        { Receive-GatewayStatus -Count 3 -TimeoutSec 10 }
        { Get-GatewayPendingDevice | Set-GatewayAcceptFilter -Add }
        { Get-GatewayDevice }
        { Disconnect-Gateway; Stop-DeviceLab }
    )
    'Webifi (relay network)'                               = @(
        { $lab = Start-DeviceLab -Webifi }
        { $ep = $lab['webifi'] }
        { $cred = [pscredential]::new('webifi', (ConvertTo-SecureString 'pswd' -AsPlainText -Force)) }
        { $a = Connect-Webifi -Credential $cred -Server "http://$($ep.Host):$($ep.Port)/" -Network lab -Name a }
        { $b = Connect-Webifi -Credential $cred -Server "http://$($ep.Host):$($ep.Port)/" -Transport LongPolling }
        { 'a','b' | Send-WebifiData -ToNetwork lab -Session $b }
        { Receive-WebifiData -Count 2 -TimeoutSec 5 -Session $a }
        { Find-WebifiDevice -Network lab -TimeoutSec 1 -Session $b }
        { Disconnect-Webifi -All; Stop-DeviceLab }
    )
    'Pi link (the GPIO button server, without hardware)'   = @(
        { $server = Start-PiButtonServer -Simulated -Port 0 }
        { Connect-PiLink localhost -Port $server.Port }
        { Set-PiButtonState -Pressed }
        { (Send-PiLinkMessage go -TimeoutSec 2).Text }
        { $server | Receive-PiLinkMessage -TimeoutSec 1 }
        { Disconnect-PiLink; $server | Stop-PiButtonServer }
    )
}

foreach ($world in $quickStarts.Keys) {
    Write-Host "`n=== $world ===" -ForegroundColor Cyan
    foreach ($step in $quickStarts[$world]) {
        Write-Host "PS> $("$step".Trim())" -ForegroundColor Yellow
        . $step | Out-Host
    }
}
Write-Host "`nEvery world ran against its simulator. Next: ./build.sh shell for a prompt with the module and a Lab, and Get-Help about_DeviceShell." -ForegroundColor Green
