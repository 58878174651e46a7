#Requires -Version 7.4
<#
.SYNOPSIS
    Invoke-BrickFunction by name against the raw form, in one run, at the PowerShell prompt's level.
.DESCRIPTION
    Both forms call get_temperature of the Lab's Temperature Bricklet 2.0 (4ER) through the staged module:
    -Name GetTemperature (dynamic parameters from the catalogue, returns unpacked into properties) and
    -FunctionId 1 -ResponseExpected (bytes as sent). The device type is learned before timing, as it is after the
    first call of a session, and each form runs -Calls calls untimed first (PowerShell compiles and caches a
    command's binding over its first few hundred calls). The forms then take turns for -Rounds rounds of -Calls
    calls each and each keeps its best round, so machine load hits both alike. Prints one table row per figure, as the bench suites do.
.EXAMPLE
    ./build.sh; dotnet tool run pwsh -NoProfile -File bench/Measure-BrickFunction.ps1
#>
param(
    [ValidateRange(1, 1000000)] [int] $Calls = 2000,
    [ValidateRange(1, 100)] [int] $Rounds = 5
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot ../out/DeviceShell/DeviceShell.psd1)
$lab = Start-DeviceLab -Brick
try {
    Connect-Brick -HostName $lab['brick'].Host -Port $lab['brick'].Port | Out-Null
    $forms = [ordered]@{
        'Invoke-BrickFunction -FunctionId 1 -ResponseExpected (raw)' = { Invoke-BrickFunction -Uid 4ER -FunctionId 1 -ResponseExpected }
        'Invoke-BrickFunction -Name GetTemperature'                 = { Invoke-BrickFunction -Uid 4ER -Name GetTemperature }
    }
    $best = @{}
    foreach ($form in $forms.Keys) {
        $call = $forms[$form]
        for ($i = 0; $i -lt $Calls; $i++) { $null = & $call }
        $best[$form] = 0.0
    }
    foreach ($round in 1..$Rounds) {
        foreach ($form in $forms.Keys) {
            $call = $forms[$form]
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            for ($i = 0; $i -lt $Calls; $i++) { $null = & $call }
            $best[$form] = [Math]::Max($best[$form], $Calls / $clock.Elapsed.TotalSeconds)
        }
    }
    $raw, $named = $forms.Keys
    '| suite | figure | value | unit | against the reference |'
    '|---|---|---:|---|---|'
    '| bricks-cmdlets | reference: {0} | {1:N1} | calls/s |  |' -f $raw, $best[$raw]
    '| bricks-cmdlets | {0} | {1:N1} | calls/s | {2:N2}x of raw |' -f $named, $best[$named], ($best[$named] / $best[$raw])
}
finally {
    Disconnect-Brick -All -ErrorAction SilentlyContinue
    Stop-DeviceLab -Lab $lab
}
