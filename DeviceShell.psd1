# DeviceShell module manifest. The build stamps ModuleVersion from Directory.Build.props into the
# staged copy (out/DeviceShell/DeviceShell.psd1); CmdletsToExport is explicit and checked by the
# contract tests against the [Cmdlet] classes in DeviceShell.dll.
@{
    RootModule           = 'DeviceShell.dll'
    ModuleVersion        = '0.0.0'
    GUID                 = '6f4b8c2e-3d1a-4e5b-9c7f-2a8d0e1b4c63'
    Author               = 'DeviceShell contributors'
    CompanyName          = 'DeviceShell'
    Copyright            = '(c) DeviceShell contributors. MIT License.'
    Description          = 'Script, automate and test connected devices from PowerShell: Tinkerforge Bricks (TFP), Suprema G-SDK gateways (gRPC/TLS), Webifi relay networks and Raspberry Pi TCP links, each with a built-in simulator.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    TypesToProcess       = @('DeviceShell.types.ps1xml')
    FormatsToProcess     = @('DeviceShell.format.ps1xml')
    FunctionsToExport    = @()
    # Earlier names of renamed cmdlets, so scripts written for them keep working.
    AliasesToExport      = @('Get-AcceptFilter', 'Set-AcceptFilter')
    VariablesToExport    = @()
    CmdletsToExport      = @(
        # Sessions and Lab
        'Get-DeviceSession'
        'Disconnect-DeviceSession'
        'Start-DeviceLab'
        'Stop-DeviceLab'
        'Start-DeviceRecording'
        'Stop-DeviceRecording'
        'Get-LabReplayReport'
        # Bricks
        'Connect-Brick'
        'Disconnect-Brick'
        'Set-BrickSession'
        'Get-BrickEnumeration'
        'Get-BrickTopology'
        'Get-BrickIdentity'
        'Invoke-BrickFunction'
        'Get-BrickFunction'
        'Receive-BrickCallback'
        'Get-BrickDeviceType'
        'Get-BrickTemperature'
        'Add-LabBrickDevice'
        'Remove-LabBrickDevice'
        'Set-LabBrickInput'

        # Gateway
        'Connect-Gateway'
        'Disconnect-Gateway'
        'Find-GatewayDevice'
        'Connect-GatewayDevice'
        'Disconnect-GatewayDevice'
        'Add-GatewayAsyncConnection'
        'Remove-GatewayAsyncConnection'
        'Get-GatewayDevice'
        'Get-GatewayAcceptFilter'
        'Set-GatewayAcceptFilter'
        'Get-GatewayPendingDevice'
        'Set-GatewayConnectionMode'
        'Enable-GatewayDeviceSsl'
        'Disable-GatewayDeviceSsl'
        'Receive-GatewayStatus'
        'Get-GatewaySlaveDevice'
        'Set-GatewaySlaveDevice'
        'Add-LabGatewayDevice'
        'Remove-LabGatewayDevice'

        # Webifi
        'Connect-Webifi'
        'Disconnect-Webifi'
        'Find-WebifiDevice'
        'Get-WebifiErrorText'
        'Receive-WebifiData'
        'Receive-WebifiStatus'
        'Send-WebifiData'
        'Set-WebifiSession'

        # Pi link
        'Start-PiButtonServer'
        'Stop-PiButtonServer'
        'Set-PiButtonState'
        'Get-PiButtonState'
        'Start-PiLinkServer'
        'Stop-PiLinkServer'
        'Disconnect-PiLinkClient'
        'Connect-PiLink'
        'Send-PiLinkMessage'
        'Receive-PiLinkMessage'
        'Disconnect-PiLink'

    )
    PrivateData          = @{
        PSData = @{
            Tags         = @('IoT', 'Tinkerforge', 'gRPC', 'Suprema', 'Webifi', 'RaspberryPi', 'Simulator', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            ProjectUri   = 'https://github.com/deviceshell/DeviceShell'
            LicenseUri   = 'https://github.com/deviceshell/DeviceShell/blob/main/LICENSE'
            ReleaseNotes = 'First release: the Bricks, Gateway, Webifi and Pi link worlds with sessions, events and error records (Get-Help about_DeviceShell), and a simulator for each world (Start-DeviceLab).'
        }
    }
}
