# What every Pester suite shares: where the repository and the staged module are, the module import, and the one
# bounded wait. A suite's BeforeAll starts with
#     Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
#     Import-DeviceShell
#     Set-StrictMode -Version 3.0
# (strict mode belongs to a scope: a module cannot set it for the suite, so the suite does, and its tests inherit it),
# and waits for a condition with Wait-Until instead of sleeping or writing its own deadline loop.
Set-StrictMode -Version 3.0

$RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot ../..)).Path
$DeviceShellFolder = Join-Path $RepoRoot out/DeviceShell
$DeviceShellManifest = Join-Path $DeviceShellFolder DeviceShell.psd1

function Import-DeviceShell {
    <#
    .SYNOPSIS
        Imports the staged module (out/DeviceShell) into the session the tests run in, afresh.
    #>
    Import-Module $DeviceShellManifest -Force -Global
}

function Wait-Until {
    <#
    .SYNOPSIS
        Runs -Condition until it returns something true and returns that; throws after -TimeoutSec.
    .EXAMPLE
        $pending = Wait-Until { Get-GatewayPendingDevice } -Because 'the device knocks'
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] [scriptblock] $Condition,
        [double] $TimeoutSec = 15,
        [string] $Because = "{ $Condition }"
    )
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ($true) {
        $result = & $Condition
        if ($result) { return $result }
        if ([DateTime]::UtcNow -ge $deadline) { throw "Timed out after $TimeoutSec s waiting for $Because." }
        Start-Sleep -Milliseconds 20
    }
}

Export-ModuleMember -Function Import-DeviceShell, Wait-Until -Variable RepoRoot, DeviceShellFolder, DeviceShellManifest
