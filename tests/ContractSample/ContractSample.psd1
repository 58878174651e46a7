@{
    RootModule      = 'ContractSample.dll'
    ModuleVersion   = '0.0.1'
    CmdletsToExport = @(
        'Set-Widget'
        'Get-BrickWidget'
        'Remove-Widget'
    )
}
