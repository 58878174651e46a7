#Requires -Version 7.4
<#
.SYNOPSIS
    Cold start of the staged module: Import-Module, the first Connect-* and the first request per world, each in a fresh pwsh.
.DESCRIPTION
    For every module folder given, and every world, starts a new pinned pwsh (dotnet tool run pwsh) that imports the
    module, connects to the Lab and makes one request, timing each step with a Stopwatch inside that pwsh (so pwsh's
    own start-up is not counted), and counts the methods the JIT compiled for the connect and the request, a figure
    machine load does not move. The folders take turns round by round and the medians are printed as a Markdown
    table, with each folder's size. Compare the ReadyToRun module ./build.sh stages with plain IL assemblies:

        ./build.sh
        dotnet build src/DeviceShell.BuildTools -c Release -t:StageModule -p:ModuleReadyToRun=false -p:ModuleOut=$PWD/out/DeviceShell-IL
        ./build.sh   # stage the ReadyToRun module again
        dotnet tool run pwsh -NoProfile -File bench/Measure-ColdStart.ps1 -Module out/DeviceShell-IL,out/DeviceShell
.PARAMETER Module
    Staged module folders to compare (default: out/DeviceShell).
.PARAMETER Rounds
    Fresh processes per folder and world; the table shows medians.
#>
param(
    [string[]] $Module = @((Join-Path $PSScriptRoot '..' 'out' 'DeviceShell')),
    [int] $Rounds = 3
)
$ErrorActionPreference = 'Stop'
# -File passes "a, b" as one string: split it as -Command would.
$modules = @($Module -split ',' | ForEach-Object Trim | Where-Object { $_ } | ForEach-Object { (Resolve-Path $_).Path })

# One Lab for every round, from the first folder: only the client side is measured.
Import-Module (Join-Path $modules[0] 'DeviceShell.psd1')
$lab = Start-DeviceLab
$brick = $lab['brick']; $gateway = $lab['gateway']; $webifi = $lab['webifi']; $pibutton = $lab['pibutton']

$worlds = [ordered]@{
    Bricks  = @{ Connect = "Connect-Brick -HostName $($brick.Host) -Port $($brick.Port)"; Request = 'Get-BrickTemperature -Uid 4ER'; Disconnect = 'Disconnect-Brick' }
    Gateway = @{ Connect = "Connect-Gateway -HostName $($gateway.Host) -Port $($gateway.Port) -CaCertificate '$($gateway.CaCertificate)'"; Request = 'Get-GatewayDevice'; Disconnect = 'Disconnect-Gateway' }
    Webifi  = @{
        # The credential is made before the clock starts, as a script gets it from Get-Credential or a vault before it
        # connects: ConvertTo-SecureString's first call loads Microsoft.PowerShell.Security, 60-120 ms that are not Connect-Webifi's.
        Setup      = "`$credential = [pscredential]::new('webifi', (ConvertTo-SecureString 'pswd' -AsPlainText -Force))"
        Connect    = "Connect-Webifi -Credential `$credential -Server 'http://$($webifi.Host):$($webifi.Port)/' -Network lab"
        Request    = "'x' | Send-WebifiData -ToNetwork lab"
        Disconnect = 'Disconnect-Webifi -All'
    }
    'Pi link' = @{ Connect = "Connect-PiLink $($pibutton.Host) -Port $($pibutton.Port)"; Request = 'Send-PiLinkMessage go -WaitReplySec 5'; Disconnect = 'Disconnect-PiLink' }
}

function Measure-FreshPwsh([string] $ModuleFolder, [hashtable] $World) {
    $script = @"
`$ErrorActionPreference = 'Stop'
`$clock = [Diagnostics.Stopwatch]::StartNew()
Import-Module '$(Join-Path $ModuleFolder 'DeviceShell.psd1')'
`$import = `$clock.Elapsed.TotalMilliseconds
$($World.Setup)
`$jitted = [Runtime.JitInfo]::GetCompiledMethodCount(`$false); `$clock.Restart()
`$null = $($World.Connect)
`$connect = `$clock.Elapsed.TotalMilliseconds; `$clock.Restart()
`$null = $($World.Request)
`$request = `$clock.Elapsed.TotalMilliseconds
`$jitted = [Runtime.JitInfo]::GetCompiledMethodCount(`$false) - `$jitted
$($World.Disconnect)
'{0} {1} {2} {3}' -f `$import, `$connect, `$request, `$jitted
"@
    $output = dotnet tool run pwsh -NoProfile -NonInteractive -Command $script
    if ($LASTEXITCODE -ne 0) { throw "The fresh pwsh failed: $output" }
    $figures = ($output | Select-Object -Last 1) -split ' ' | ForEach-Object { [double]::Parse($_, [cultureinfo]::CurrentCulture) }
    [pscustomobject]@{ Import = $figures[0]; Connect = $figures[1]; Request = $figures[2]; Jitted = $figures[3] }
}

function Get-Median([double[]] $Values) {
    $sorted = $Values | Sort-Object
    if ($sorted.Count % 2) { $sorted[[int][math]::Floor($sorted.Count / 2)] } else { ($sorted[$sorted.Count / 2 - 1] + $sorted[$sorted.Count / 2]) / 2 }
}

$results = @{}
try {
    for ($round = 0; $round -lt $Rounds; $round++) {
        foreach ($folder in $modules) {
            foreach ($name in $worlds.Keys) {
                Write-Host "round $($round + 1): $name, $folder"
                $results["$folder|$name"] += @(Measure-FreshPwsh $folder $worlds[$name])
                Start-Sleep -Milliseconds 300   # the Pi button server takes the next client once the last one has gone
            }
        }
    }
}
finally {
    $lab | Stop-DeviceLab
}

$load = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg).Split(' ')[0] } else { 'n/a' }
''
'| module | size | world | Import-Module | first Connect-* | first request | methods JIT-compiled by the connect and request |'
'|---|---:|---|---:|---:|---:|---:|'
foreach ($folder in $modules) {
    $size = (Get-ChildItem $folder -Recurse -File -Exclude *.pdb | Where-Object FullName -notlike "*$([IO.Path]::DirectorySeparatorChar)Lab$([IO.Path]::DirectorySeparatorChar)*" | Measure-Object Length -Sum).Sum
    foreach ($name in $worlds.Keys) {
        $runs = $results["$folder|$name"]
        '| {0} | {1:N1} MiB | {2} | {3:N0} ms | {4:N0} ms | {5:N0} ms | {6:N0} |' -f (Split-Path $folder -Leaf), ($size / 1MB), $name,
            (Get-Median $runs.Import), (Get-Median $runs.Connect), (Get-Median $runs.Request), (Get-Median $runs.Jitted)
    }
}
''
"Medians of $Rounds fresh pwsh processes per cell, folders alternated; sizes without the Lab folder; $([Environment]::ProcessorCount) cores, 1-minute load average $load at the end."
