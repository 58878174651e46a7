#Requires -Version 7.4
# Device functions by name against the Lab's Brick Daemon: dynamic parameters from the catalogue, completion,
# -WhatIf, the function list, and callbacks decoded into named values for several kinds of device, each driven by
# Set-LabBrickInput as a test of a script's reaction would drive it.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $script:Lab = Start-DeviceLab -Brick -StartTimeoutSec 60
    $endpoint = $script:Lab.Endpoints | Where-Object Simulator -EQ 'brick'
    $script:Brick = Connect-Brick -HostName $endpoint.Host -Port $endpoint.Port -TimeoutSec 2

    # Callbacks of one device, decoded, until one matches or the time is up.
    function script:Wait-BrickCallback([string] $Uid, [scriptblock] $Until, [double] $TimeoutSec = 5) {
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
        while ([DateTime]::UtcNow -lt $deadline) {
            $left = [Math]::Max(0.05, ($deadline - [DateTime]::UtcNow).TotalSeconds)
            $item = Receive-BrickCallback -Uid $Uid -Kind Callback -Count 1 -TimeoutSec $left
            if ($item -and (& $Until $item)) { return $item }
        }
    }
}

AfterAll {
    Disconnect-Brick -All -ErrorAction SilentlyContinue
    if ($script:Lab) { Stop-DeviceLab -Lab $script:Lab -ErrorAction SilentlyContinue }
}

Describe 'Completion' {
    It 'completes -Uid right after Connect-Brick, before any enumeration ran' {
        $script:Brick.KnownDevices | Should -BeNullOrEmpty
        $line = 'Get-BrickTemperature -Uid '
        (TabExpansion2 $line $line.Length).CompletionMatches.ListItemText | Should -Contain '4ER'
    }

    It 'completes -Name with the functions of the device type of -Uid' {
        $line = 'Invoke-BrickFunction -Uid 4ER -Name GetTemp'
        $names = (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText
        $names | Should -Contain 'GetTemperature'
        $names | Should -Contain 'GetTemperatureCallbackConfiguration'
        $names | Should -Not -Contain 'GetHumidity'
    }

    It 'completes a function parameter with constants by name' {
        $line = 'Invoke-BrickFunction -Uid 4ER -Name SetTemperatureCallbackConfiguration -Option '
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Contain 'Greater'
    }

    It 'completes -Name of Get-BrickFunction (by -Uid or -DeviceType) and of Set-LabBrickInput' {
        $line = 'Get-BrickFunction -Uid 4ER -Name GetTemp'
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Contain 'GetTemperature'
        $line = "Get-BrickFunction -DeviceType 'Master Brick' -Name StackV"
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Contain 'StackVoltage'
        $line = 'Set-LabBrickInput -Uid 4ER -Name Temp'
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Contain 'Temperature'
        $line = 'Set-LabBrickInput -Uid 23Qx -Name '
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Contain 'State'
    }

    It 'completes -DeviceIdentifier of Add-LabBrickDevice with identifiers and -DeviceType of Get-BrickFunction with names' {
        $line = 'Add-LabBrickDevice -Uid X1 -DeviceIdentifier 211'
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Contain '2113'
        $line = 'Get-BrickFunction -DeviceType Temperature'
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Contain "'Temperature Bricklet 2.0'"
    }
}

Describe 'Invoke-BrickFunction -Name' {
    It 'returns the named returns as properties' {
        $result = Invoke-BrickFunction -Uid 4ER -Name GetTemperature
        $result.Temperature | Should -BeOfType [double]
        $result.Temperature | Should -BeGreaterThan -45
        $result.Units.Temperature | Should -Be 'Degree Celsius'
        $result.Function | Should -Be 'GetTemperature'
        $result.PSObject.TypeNames | Should -Contain 'DeviceShell.Engine.Bricks.BrickFunctionResult'
    }

    It 'takes the function parameters as dynamic parameters, constants by name or raw value' {
        Invoke-BrickFunction -Uid 4ER -Name SetTemperatureCallbackConfiguration -Period 100 -ValueHasToChange $false -Option x -Min 0 -Max 0
        $config = Invoke-BrickFunction -Uid 4ER -Name GetTemperatureCallbackConfiguration
        $config.Period | Should -Be 100
        $config.Option | Should -Be 'Off'
        Invoke-BrickFunction -Uid 4ER -Name SetTemperatureCallbackConfiguration -Period 0 -ValueHasToChange $true -Option Outside -Min 10 -Max 40
        $config = Invoke-BrickFunction -Uid 4ER -Name GetTemperatureCallbackConfiguration
        $config.Option | Should -Be 'Outside'
        $config.ValueHasToChange | Should -BeTrue
        $config.Max | Should -Be 40
    }

    It 'takes scaled values in, returns them scaled out, and -Raw is the bindings integer both ways' {
        Set-LabBrickInput -Uid 4ER -Name Temperature -Value 2345
        (Invoke-BrickFunction -Uid 4ER -Name GetTemperature).Temperature | Should -Be 23.45
        (Invoke-BrickFunction -Uid 4ER -Name GetTemperature -Raw).Temperature | Should -BeExactly ([int16] 2345)
        # Period in seconds, Min in °C; Max and ValueHasToChange left out take the configuration's defaults.
        Invoke-BrickFunction -Uid 4ER -Name SetTemperatureCallbackConfiguration -Period 1.5 -Option Smaller -Min -5.25
        $raw = Invoke-BrickFunction -Uid 4ER -Name GetTemperatureCallbackConfiguration -Raw
        $raw.Period, $raw.Min, $raw.Max, $raw.ValueHasToChange | Should -Be @(1500, -525, 0, $false)
        (Invoke-BrickFunction -Uid 4ER -Name GetTemperatureCallbackConfiguration).Min | Should -Be -5.25
        Invoke-BrickFunction -Uid 4ER -Name SetTemperatureCallbackConfiguration -Period 0 -Option Off -Min 0 -Raw
        (Get-BrickFunction -Uid 4ER -Name GetTemperature).Returns[0].ToString() | Should -Be 'Temperature: Int16 [Degree Celsius, raw × 1/100]'
    }

    It 'refuses a value outside the configuration range with the range in the unit' {
        Add-LabBrickDevice -Uid Dc1 -DeviceIdentifier 'DC Brick' -Position 2
        Invoke-BrickFunction -Uid Dc1 -Name SetVelocity -Velocity 150 -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'ArgumentOutOfRange,*'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failures[0].Exception.Message | Should -BeLike '*-100 to 100 Percent*150*'
        Remove-LabBrickDevice -Uid Dc1
    }

    It 'rejects a constant the function does not know' {
        { Invoke-BrickFunction -Uid 4ER -Name SetTemperatureCallbackConfiguration -Period 0 -ValueHasToChange $true -Option Sideways -Min 0 -Max 0 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,DeviceShell.Commands.InvokeBrickFunctionCommand'
    }

    It 'names an unknown function and an unknown UID by their own ErrorIds, even with function arguments given' {
        { Invoke-BrickFunction -Uid 4ER -Name GetHumidity -ErrorAction Stop } | Should -Throw '*has no function*GetHumidity*' -ErrorId 'BrickUnknownFunction,*'
        { Invoke-BrickFunction -Uid 4ER -Name SetHumidity -Humidity 3 -ErrorAction Stop } | Should -Throw -ErrorId 'BrickUnknownFunction,*'
        # At once: an enumeration without the UID says so; brickd would never answer its identity request. A 20 s
        # session timeout against a 10 s bound keeps the two apart on a loaded machine (2.5 s at load 50 against 2 s).
        $script:Brick.Timeout = [timespan]::FromSeconds(20)
        try {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $failure = { Invoke-BrickFunction -Uid 1Zz9 -Name SetTemperatureCallbackConfiguration -Period 1 -ErrorAction Stop } | Should -Throw -ErrorId 'BrickUnknownUid,*' -PassThru
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
        }
        finally {
            $script:Brick.Timeout = [timespan]::FromSeconds(2)
        }
        $failure.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'calls a function on several UIDs of different types in one -Uid, as the pipeline does' {
        $identities = Invoke-BrickFunction -Uid 4ER, 23Qx -Name GetIdentity
        $identities.DeviceName | Should -Be @('Temperature Bricklet 2.0', 'RGB LED Button Bricklet')
        $identities.DeviceIdentifier | Should -Be @(2113, 282)
        (Invoke-BrickFunction -Uid 4ER, 23Qx -Name GetChipTemperature).Temperature.Count | Should -Be 2
    }

    It 'changes nothing under -WhatIf' {
        Invoke-BrickFunction -Uid 4ER -Name SetTemperatureCallbackConfiguration -Period 250 -ValueHasToChange $false -Option Off -Min 0 -Max 0
        Invoke-BrickFunction -Uid 4ER -Name SetTemperatureCallbackConfiguration -Period 999 -ValueHasToChange $true -Option Greater -Min 0.01 -Max 0 -WhatIf
        (Invoke-BrickFunction -Uid 4ER -Name GetTemperatureCallbackConfiguration).Period | Should -Be 250
        Invoke-BrickFunction -Uid 4ER -Name SetTemperatureCallbackConfiguration -Period 0 -ValueHasToChange $false -Option Off -Min 0 -Max 0
    }

    It 'calls a function without parameters on every device piped in, each by its own type' {
        $chips = Get-BrickEnumeration -WaitSec 5 | Where-Object Uid -In '4ER', '6qY' | Invoke-BrickFunction -Name GetChipTemperature
        $chips.DeviceName | Sort-Object | Should -Be @('Master Brick', 'Temperature Bricklet 2.0')
        $chips.Temperature | Should -Not -BeNullOrEmpty
        $chips.ChipTemperature | Should -Be $chips.Temperature -Because 'the name before the configurations named it stays an alias'
    }

    It 'says that a function with parameters needs -Uid on the command line' {
        $null = Get-BrickEnumeration -WaitSec 5 | Where-Object Uid -EQ '4ER' |
            Invoke-BrickFunction -Name SetTemperatureCallbackConfiguration -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'FunctionParametersNeedUid*'
    }

    It 'still takes the raw -FunctionId -Payload form' {
        $raw = Invoke-BrickFunction -Uid 4ER -FunctionId 1 -ResponseExpected
        $raw.Payload.Count | Should -Be 2
    }
}

Describe 'Get-BrickFunction' {
    It 'lists the functions and callbacks of the device behind a UID' {
        $entries = Get-BrickFunction -Uid 4ER
        ($entries | Where-Object Name -EQ 'SetTemperatureCallbackConfiguration').Parameters.Name |
            Should -Be @('Period', 'ValueHasToChange', 'Option', 'Min', 'Max')
        ($entries | Where-Object Kind -EQ 'Callback').Name | Should -Be 'Temperature'
    }

    It 'lists a device type given by name without a session' {
        $entries = Get-BrickFunction -DeviceType 'Master Brick' -Name GetStackVoltage
        $entries.Returns.Name | Should -Be 'Voltage'
        $entries.Returns.Unit | Should -Be 'Volt'
        $entries.DeviceIdentifier | Should -Be 13
    }
}

Describe 'Add-LabBrickDevice and Set-LabBrickInput' {
    It 'plugs a device type piped from Get-BrickDeviceType, or given by name' {
        $piped = Get-BrickDeviceType 'Temperature Bricklet 2.0' | Add-LabBrickDevice -Uid T1 -PassThru
        $piped.DeviceIdentifier | Should -Be 2113
        (Add-LabBrickDevice -Uid T2 -DeviceIdentifier 'RGB LED Button Bricklet' -PassThru).DeviceIdentifier | Should -Be 282
    }

    It 'sets a reading the getter then reports' {
        Set-LabBrickInput -Uid T1 -Name Temperature -Value 2500
        (Invoke-BrickFunction -Uid T1 -Name GetTemperature).Temperature | Should -Be 25
        (Invoke-BrickFunction -Uid T1 -Name GetTemperature -Raw).Temperature | Should -Be 2500
    }

    It 'changes nothing under -WhatIf' {
        Set-LabBrickInput -Uid T1 -Name Temperature -Value 9000 -WhatIf
        (Invoke-BrickFunction -Uid T1 -Name GetTemperature).Temperature | Should -Be 25
        (Invoke-BrickFunction -Uid T1 -Name GetTemperature -Raw).Temperature | Should -Be 2500
    }
}

Describe 'The bindings'' ALREADY_CONNECTED and DEVICE_REPLACED' {
    It 'refuses to connect a connected session again with BrickAlreadyConnected (ResourceExists)' {
        $failure = { Connect-Brick -Session $script:Brick -ErrorAction Stop } | Should -Throw -ErrorId 'BrickAlreadyConnected,*' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'ResourceExists'
        $failure.Exception.ErrorCode | Should -Be -7
        $script:Brick.State | Should -Be 'Connected'
    }

    It 'connects a disconnected session again with the settings it has, and not with new ones' {
        $endpoint = $script:Lab.Endpoints | Where-Object Simulator -EQ 'brick'
        $session = Connect-Brick -HostName $endpoint.Host -Port $endpoint.Port -NoAutoReconnect
        try {
            # What a lost link leaves with -NoAutoReconnect: a session that is disconnected but not closed.
            $session.DisconnectAsync().Wait()
            $session.State | Should -Be 'Disconnected'
            { Connect-Brick -Session $session -Port 1 -ErrorAction Stop } | Should -Throw -ErrorId 'SessionWithConnectParameters,*'
            (Connect-Brick -Session $session) | Should -Be $session
            $session.State | Should -Be 'Connected'
            (Get-BrickIdentity -Session $session -Uid 4ER).DeviceIdentifier | Should -Be 2113
        }
        finally {
            Disconnect-Brick -Session $session
        }
    }

    It 'ends a call for a device whose UID another type took since with BrickDeviceReplaced (InvalidOperation)' {
        Add-LabBrickDevice -Uid Rep -DeviceIdentifier 'Temperature Bricklet 2.0'
        $device = Get-BrickIdentity -Uid Rep
        ($device | Invoke-BrickFunction -Name GetTemperature).Temperature | Should -BeOfType [double]
        Add-LabBrickDevice -Uid Rep -DeviceIdentifier 'Humidity Bricklet 2.0' -Replace
        (Receive-BrickCallback -Uid Rep -Kind Enumerate -Count 2 -TimeoutSec 10)[-1].Device.DeviceIdentifier | Should -Be 283
        $failure = { $device | Invoke-BrickFunction -Name GetTemperature -ErrorAction Stop } | Should -Throw -ErrorId 'BrickDeviceReplaced,*' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $failure.Exception.ErrorCode | Should -Be -16
        # Asked anew by UID, the device now there answers.
        (Invoke-BrickFunction -Uid Rep -Name GetHumidity).Humidity | Should -BeOfType [double]
        Remove-LabBrickDevice -Uid Rep
    }
}

Describe 'Decoded callbacks' {
    It 'a temperature sensor''s threshold callback fires when the reading crosses it' {
        Add-LabBrickDevice -Uid Th1 -DeviceIdentifier 'Temperature Bricklet 2.0'
        Set-LabBrickInput -Uid Th1 -Name Temperature -Value 2000
        Invoke-BrickFunction -Uid Th1 -Name SetTemperatureCallbackConfiguration -Period 0.05 -ValueHasToChange $false -Option Greater -Min 30 -Max 0
        Receive-BrickCallback -Uid Th1 -Kind Callback -TimeoutSec 0.5 | Should -BeNullOrEmpty
        Set-LabBrickInput -Uid Th1 -Name Temperature -Value 3500
        $callback = Wait-BrickCallback Th1 { $args[0].Values.Temperature -eq 35 }
        $callback.RawValues.Temperature | Should -Be 3500
        $callback.Name | Should -Be 'Temperature'
        $callback.Payload | Should -Be ([BitConverter]::GetBytes([int16] 3500))
        Invoke-BrickFunction -Uid Th1 -Name SetTemperatureCallbackConfiguration -Period 0 -ValueHasToChange $false -Option Off -Min 0 -Max 0
    }

    It 'a button reports its state by name' {
        Add-LabBrickDevice -Uid Bt1 -DeviceIdentifier 'RGB LED Button Bricklet'
        Get-BrickFunction -Uid Bt1 -Kind Callback | Out-Null   # learns the device type, so its callbacks decode
        Set-LabBrickInput -Uid Bt1 -Name ButtonState -Value Pressed
        $callback = Wait-BrickCallback Bt1 { $args[0].Name -eq 'ButtonStateChanged' }
        $callback.Values.State | Should -Be 'Pressed'
        Set-LabBrickInput -Uid Bt1 -Name ButtonState -Value Released
        (Wait-BrickCallback Bt1 { $args[0].Name -eq 'ButtonStateChanged' }).Values.State | Should -Be 'Released'
    }

    It 'a digital input reports the changed channel' {
        Add-LabBrickDevice -Uid Di1 -DeviceIdentifier 'Industrial Digital In 4 Bricklet 2.0'
        Invoke-BrickFunction -Uid Di1 -Name SetAllValueCallbackConfiguration -Period 0.05 -ValueHasToChange $true
        # The first callback reports the inputs as they are; what changed is told relative to it.
        (Wait-BrickCallback Di1 { $args[0].Name -eq 'AllValue' }).Values.Value | Should -Be @($false, $false, $false, $false)
        Set-LabBrickInput -Uid Di1 -Name Value -Value $true, $false, $false, $false
        $callback = Wait-BrickCallback Di1 { $args[0].Name -eq 'AllValue' -and $args[0].Values.Value[0] }
        $callback.Values.Changed[0] | Should -BeTrue
        $callback.Values.Value | Should -Be @($true, $false, $false, $false)
    }

    It 'the Master Brick reports its stack voltage' {
        Add-LabBrickDevice -Uid Ms1 -DeviceIdentifier 'Master Brick' -Position 1
        Invoke-BrickFunction -Uid Ms1 -Name SetStackVoltageCallbackPeriod -Period 50 -Raw
        Set-LabBrickInput -Uid Ms1 -Name StackVoltage -Value 12000
        $callback = Wait-BrickCallback Ms1 { $args[0].Values.Voltage -eq 12 }
        $callback.Name | Should -Be 'StackVoltage'
        Invoke-BrickFunction -Uid Ms1 -Name SetStackVoltageCallbackPeriod -Period 0
    }
}

Describe 'Without a session' {
    It 'says that the function parameters need a session' {
        Disconnect-Brick -All
        { Invoke-BrickFunction -Uid 4ER -Name GetTemperature -ErrorAction Stop } | Should -Throw '*needs an open Brick session*Connect-Brick*' -ErrorId 'SessionNotFound,*'
    }

    It 'says that a device type name names nothing, unless it is a pattern' {
        Get-BrickDeviceType 'Nope' -ErrorVariable failures -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'UnknownDeviceType,*'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Get-BrickDeviceType 'Nope*' -ErrorVariable none | Should -BeNullOrEmpty
        $none | Should -BeNullOrEmpty
    }
}
