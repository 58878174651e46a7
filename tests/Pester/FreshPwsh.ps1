# Dot-sourced by the suites that need a PowerShell process of their own: one whose default load context
# has not seen DeviceShell yet (Isolation), whose home and module path are temporary (Packaging), or that leads
# its own process group (Interrupt).
# Invoke-Pester.ps1 runs only *.Tests.ps1, so this file is no suite.

function New-PwshStartInfo {
    <#
    .SYNOPSIS
        How to start a new pwsh (the same build as this one) that runs a script, its output redirected as text.
    .PARAMETER Launcher
        A program and its arguments that run the pwsh command line given after them (e.g. setsid, or unshare -rn).
    #>
    param(
        [Parameter(Mandatory)] [string] $Script,
        [string[]] $Launcher = @()
    )
    $pwsh = @([Environment]::ProcessPath)
    # The pinned pwsh is a dotnet tool: its process is the dotnet host running pwsh.dll.
    if ([System.IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') {
        $pwsh += Join-Path $PSHOME 'pwsh.dll'
    }
    # Text, not the CLIXML that -EncodedCommand would otherwise write to redirected streams.
    $pwsh += '-NoProfile', '-NonInteractive', '-OutputFormat', 'Text', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($Script))
    if ($Launcher) { $pwsh = @($Launcher) + $pwsh }
    $start = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
    foreach ($argument in $pwsh | Select-Object -Skip 1) { $start.ArgumentList.Add($argument) }
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.UseShellExecute = $false
    $start
}

function Invoke-FreshPwsh {
    <#
    .SYNOPSIS
        Runs a script in a new pwsh (the same build as this one) and returns its exit code and output.
    .PARAMETER Environment
        Variables set (or, with a $null value, removed) in the child's environment only.
    .PARAMETER Launcher
        A command that runs the child pwsh (its arguments after it), e.g. 'unshare', '-rn' for a network of its own.
    #>
    param(
        [Parameter(Mandatory)] [string] $Script,
        [hashtable] $Environment = @{},
        [int] $TimeoutSec = 120,
        [string[]] $Launcher = @()
    )
    $start = New-PwshStartInfo -Script $Script -Launcher $Launcher
    foreach ($name in $Environment.Keys) {
        if ($null -eq $Environment[$name]) { [void] $start.Environment.Remove($name) } else { $start.Environment[$name] = $Environment[$name] }
    }
    $process = [System.Diagnostics.Process]::Start($start)
    try {
        # Both pipes are drained while waiting, so a chatty child cannot block on a full pipe.
        $output = $process.StandardOutput.ReadToEndAsync()
        $errors = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSec * 1000)) {
            $process.Kill($true)
            throw "pwsh did not finish within $TimeoutSec s: $Script"
        }
        $process.WaitForExit()
        [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $output.Result; Errors = $errors.Result }
    }
    finally {
        $process.Dispose()
    }
}
