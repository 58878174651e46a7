#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Every default view of the module (each <View> of the staged DeviceShell.format.ps1xml), rendered with real objects from
# the Lab at 80 and 120 columns: no line longer than the width, every column header whole on one line, no value cut
# with an ellipsis, no array or object shown as its type name, TimeSpans and dates in one human format
# (docs/design/decisions.md §21.2).

BeforeDiscovery {
    $formatFile = Join-Path $PSScriptRoot ../../out/DeviceShell/DeviceShell.format.ps1xml
    $script:renderings = foreach ($view in ([xml](Get-Content -Raw $formatFile)).Configuration.ViewDefinitions.View) {
        foreach ($width in 80, 120) { @{ View = $view.Name; Width = $width } }
    }
    $script:renderings = @($renderings | Sort-Object { $_.View -eq 'DeviceSession' })

    # Every engine type with a date or duration property, found by reflection so a new one is checked too. The connect
    # options of Bricks, Gateway and Webifi are left out: the cmdlets build them from parameters and never emit them.
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Get-DeviceSession | Out-Null
    $engine = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'DeviceShell.Engine' } | Select-Object -First 1
    $inputsOnly = 'BrickConnectOptions', 'GatewayConnectOptions', 'WebifiConnectOptions'
    $script:timedTypes = foreach ($type in $engine.GetExportedTypes()) {
        if ($type.IsAbstract -or $type.IsGenericTypeDefinition -or $type.Name -in $inputsOnly) { continue }
        $timed = @($type.GetProperties('Public, Instance') | Where-Object { $_.GetIndexParameters().Count -eq 0 -and
                ([Nullable]::GetUnderlyingType($_.PropertyType) ?? $_.PropertyType) -in [DateTime], [DateTimeOffset], [TimeSpan] } | ForEach-Object Name)
        if ($timed) { @{ Type = $type.FullName; Properties = $timed } }
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $PSStyle.OutputRendering = 'PlainText'
    $formatFile = Join-Path $PSScriptRoot ../../out/DeviceShell/DeviceShell.format.ps1xml
    $script:views = @{}
    foreach ($view in ([xml](Get-Content -Raw $formatFile)).Configuration.ViewDefinitions.View) { $views[$view.Name] = $view }

    $script:lab = Start-DeviceLab -StartTimeoutSec 60
    # Real objects for each view, by view name.
    $script:samples = @{}
    $brick = Connect-Brick -HostName $lab['brick'].Host -Port $lab['brick'].Port
    $samples.BrickSession = $brick
    $samples.BrickDevice = Get-BrickEnumeration -Session $brick
    $samples.BrickNode = Get-BrickTopology -Session $brick
    $samples.BrickResponse = Invoke-BrickFunction -Session $brick -Uid 4ER -FunctionId 1 -ResponseExpected
    $samples.BrickDeviceType = 'Temperature Bricklet 2.0', 'Industrial Dual Analog In Bricklet 2.0' | ForEach-Object { Get-BrickDeviceType $_ }
    $samples.BrickReading = Get-BrickTemperature -Session $brick -Uid 4ER
    $samples.BrickFunctionResult = @(Invoke-BrickFunction -Session $brick -Uid 4ER -Name GetTemperatureCallbackConfiguration) +
        @(Invoke-BrickFunction -Session $brick -Uid Xyz -Name GetValue)
    $samples.BrickFunctionInfo = Get-BrickFunction -Session $brick -Uid 4ER
    Invoke-BrickFunction -Session $brick -Uid 4ER -Name SetTemperatureCallbackConfiguration -Period 0.1 -Option Greater -Min 25
    Set-LabBrickInput -Uid 4ER -Name Temperature -Value 3000
    Get-BrickDeviceType 'Temperature Bricklet 2.0' | Add-LabBrickDevice -Uid Vw | Out-Null
    $samples.BrickEvent = @(Receive-BrickCallback -Session $brick -Uid 4ER -Kind Callback -Count 1 -TimeoutSec 10) +
        @(Receive-BrickCallback -Session $brick -Uid Vw -Kind Enumerate -Count 1 -TimeoutSec 10)

    $gw = $lab['gateway']
    $gateway = Connect-Gateway -HostName $gw.Host -Port $gw.Port -CaCertificate $gw.CaCertificate
    $samples.GatewaySession = $gateway
    $samples.GatewaySearchResult = Find-GatewayDevice -Session $gateway -TimeoutSec 1
    $samples.GatewaySearchResult | Where-Object ConnectionMode -EQ ServerToDevice | Add-GatewayAsyncConnection -Session $gateway | Out-Null
    $samples.GatewayStatusChange = Receive-GatewayStatus -Session $gateway -Count 2 -TimeoutSec 10
    $samples.GatewayPendingDevice = Wait-Until { Get-GatewayPendingDevice -Session $gateway }
    $samples.GatewayAcceptFilter = $samples.GatewayPendingDevice | Set-GatewayAcceptFilter -Session $gateway -Add -Confirm:$false -PassThru
    $samples.GatewayDevice = Wait-Until { Get-GatewayDevice -Session $gateway }
    Set-GatewaySlaveDevice -Session $gateway -DeviceId $samples.GatewayDevice[0].DeviceId -Rs485SlaveDeviceId 7, 8 -Confirm:$false
    $samples.GatewaySlaveDevice = Get-GatewaySlaveDevice -Session $gateway

    $ep = $lab['webifi']
    $cred = [pscredential]::new('webifi', (ConvertTo-SecureString 'pswd' -AsPlainText -Force))
    $a = Connect-Webifi -Credential $cred -Server "http://$($ep.Host):$($ep.Port)/" -Network lab -Name a
    $b = Connect-Webifi -Credential $cred -Server "http://$($ep.Host):$($ep.Port)/" -Network lab -Name b -Transport LongPolling
    $samples.WebifiSession = $a, $b
    $samples.WebifiSendReceipt = 'one', 'two' | Send-WebifiData -ToNetwork lab -Session $b -PassThru
    $samples.WebifiMessage = Receive-WebifiData -Count 2 -TimeoutSec 10 -Session $a
    $samples.WebifiDevice = Find-WebifiDevice -Network lab -TimeoutSec 1 -Session $b
    $samples.WebifiErrorDescription = Get-WebifiErrorText 2, 5
    $bad = Connect-Webifi -Credential $cred -Server "http://$($ep.Host):$($ep.Port)/" -Network lab, bogus -Name c -ErrorAction SilentlyContinue
    $samples.WebifiStatusChange = @(Receive-WebifiStatus -Session $bad -Kind Connected -Count 1 -TimeoutSec 10) +
        @(Receive-WebifiStatus -Session $bad -Kind Error -Count 1 -TimeoutSec 10)
    $samples.WebifiError = $samples.WebifiStatusChange.Error

    $pi = Start-PiButtonServer -Simulated -Port 0
    $samples.PiLinkServer = $pi
    $samples.PiLinkSession = Connect-PiLink localhost -Port $pi.Port -TimeoutSec 5
    Set-PiButtonState -Pressed
    $samples.PiButtonState = Get-PiButtonState -Simulated
    $samples.PiLinkMessage = @(Send-PiLinkMessage go -TimeoutSec 5) + @($pi | Receive-PiLinkMessage -TimeoutSec 2)

    $samples.DeviceLab = $lab
    $samples.PiLinkOptions = $samples.PiLinkSession.Options
    $samples.LabEndpoint = $lab.Endpoints
    $recordingPath = Join-Path ([IO.Path]::GetTempPath()) "deviceshell-views-$PID.devrec"
    $samples.DeviceRecorder = Start-DeviceRecording -Session $samples.PiLinkSession -Path $recordingPath -Force
    $null = Send-PiLinkMessage -Session $samples.PiLinkSession go -TimeoutSec 5
    $null = Stop-DeviceRecording -Session $samples.PiLinkSession
    $replayLab = Start-DeviceLab -Replay $recordingPath -TimeoutSec 60
    $samples.LabReplayReport = Get-LabReplayReport -Lab $replayLab
    Stop-DeviceLab -Lab $replayLab
    Remove-Item $recordingPath
    # The Format-List views of types that also have a table (XList beside X).
    foreach ($name in @($views.Keys)) { if ($name -match '^(.+)List$' -and $samples.ContainsKey($Matches[1])) { $samples[$name] = $samples[$Matches[1]] } }
    $samples.DeviceSessionList = @($brick, $gateway) + $samples.WebifiSession + @($samples.PiLinkSession, $samples.PiLinkServer)
}

AfterAll {
    Get-DeviceSession | Disconnect-DeviceSession -Confirm:$false
    Stop-DeviceLab
}

Describe 'Default views at 80 and 120 columns' {
    It 'has real objects for every view' {
        $views.Keys | Where-Object { $_ -ne 'DeviceSession' -and -not $samples[$_] } | Should -BeNullOrEmpty -Because 'each view is rendered with objects of its type'
    }

    It '<View> at <Width> columns: headers whole, nothing cut, values shown as values' -ForEach $renderings {
        # Get-DeviceSession puts its shared type name on the sessions themselves (a PSObject's type names follow its
        # object), after which they format as its table: so it runs last, and only here.
        $objects = if ($View -eq 'DeviceSession') { Get-DeviceSession } else { @($samples[$View]) }
        $objects | Should -Not -BeNullOrEmpty
        $text = if ($views[$View].SelectSingleNode('ListControl')) { $objects | Format-List -View $View | Out-String -Width $Width } else { $objects | Out-String -Width $Width }
        $lines = @($text -split '\r?\n' | ForEach-Object TrimEnd)
        $lines | Where-Object Length -GT $Width | Should -BeNullOrEmpty -Because "no line is wider than $Width"
        $lines | Where-Object { $_.Contains([char] 0x2026) } | Should -BeNullOrEmpty -Because 'no value or header is cut'
        $text | Should -Not -Match 'System\.[\w.]+\[\]|DeviceShell\.Engine\.' -Because 'arrays and objects show their values, not their type names'
        $text | Should -Not -Match '\d\d:\d\d:\d\d\.\d{7}' -Because 'a TimeSpan reads as a human duration'
        $text | Should -Not -Match '\b\d{1,2}/\d{1,2}/\d{4}\b' -Because 'dates are yyyy-MM-dd everywhere'
        $table = $views[$View].SelectSingleNode('TableControl')
        if ($table) {
            $labels = foreach ($header in $table.TableHeaders.TableColumnHeader) { $header.Label }
            $rule = [array]::FindIndex([string[]] $lines, [Predicate[string]] { param($line) $line -match '^[\s-]+$' -and $line.Contains('-') })
            $rule | Should -BeGreaterThan 0 -Because 'a table has a header rule'
            $headerLine = $lines[$rule - 1]
            foreach ($label in $labels) { $headerLine | Should -Match "(^|\s)$([regex]::Escape($label))(\s|$)" -Because "the $label header is whole on one line" }
        }
    }

    It '<View> in Format-List at 80 columns shows arrays and dictionaries as values' -ForEach ($renderings | Where-Object Width -EQ 80) {
        $objects = if ($View -eq 'DeviceSession') { Get-DeviceSession } else { @($samples[$View]) }
        $text = $objects | Format-List | Out-String -Width 80
        $text | Should -Not -Match 'System\.[\w.]+\[\]|System\.Collections\.' -Because 'Format-List shows the values'
        $text | Should -Not -Match '\d\d:\d\d:\d\d\.\d{7}' -Because 'a TimeSpan reads as a human duration in lists too'
        $text | Should -Not -Match '\b\d{1,2}/\d{1,2}/\d{4}\b' -Because 'dates are yyyy-MM-dd in lists too'
    }

    It 'Format-Table and Format-List of <Type> show <Properties> as the views do' -ForEach $timedTypes {
        $objects = @($samples.Values | ForEach-Object { $_ } | Where-Object { $null -ne $_ -and $_.GetType().FullName -eq $Type })
        $objects | Should -Not -BeNullOrEmpty -Because "the check needs a real $Type (add one to the samples)"
        foreach ($format in 'Format-Table', 'Format-List') {
            $text = $objects | & $format | Out-String -Width 200
            foreach ($object in $objects) {
                foreach ($name in $Properties) {
                    $value = $object.$name
                    if ($null -eq $value) { continue }
                    # A date reads yyyy-MM-dd HH:mm:ss, or HH:mm:ss.fff where it stamps an event; a duration {0:g}.
                    $shown = if ($value -is [TimeSpan]) { @('{0:g}' -f $value) } else { ('{0:yyyy-MM-dd HH:mm:ss}' -f $value), ('{0:HH:mm:ss.fff}' -f $value) }
                    foreach ($raw in @($value.ToString(), "$value") | Where-Object { $_ -notin $shown }) {
                        $text | Should -Not -Match ([regex]::Escape($raw)) -Because "$format shows $Type.$name as the other views do, not as $raw"
                    }
                    if ($format -eq 'Format-List') {
                        $text | Should -Match "(?m)^$name\s*:\s*($(($shown | ForEach-Object { [regex]::Escape($_) }) -join '|'))\s*`$" -Because "Format-List shows $Type.$name as $($shown -join ' or ')"
                    }
                }
            }
        }
    }

    It 'the "try first" line of ./build.sh shell shows the topology as one table' {
        $text = & { $brick = Connect-Brick -HostName $lab['brick'].Host -Port $lab['brick'].Port; Get-BrickTopology } | Out-String -Width 80
        $lines = @($text -split '\r?\n' | Where-Object { $_.Trim() })
        $lines.Count | Should -BeLessThan 20
        $lines | Where-Object { $_ -match '^\S+\s+:\s' } | Should -BeNullOrEmpty -Because 'it is a table, not a list'
    }

    It 'Get-BrickFunction of every device type at 80 columns cuts no function, parameter or return name' {
        $functions = @(Get-BrickDeviceType | ForEach-Object { Get-BrickFunction -DeviceType $_.Name })
        $functions.Count | Should -BeGreaterThan 3000
        $words = [Collections.Generic.HashSet[string]]::new([string[]]((($functions | Out-String -Width 80) -split '[\s(),]+')))
        $cut = foreach ($function in $functions) {
            foreach ($name in @($function.Name) + @($function.Parameters | ForEach-Object Name) + @($function.Returns | ForEach-Object Name)) {
                if ($name -and -not $words.Contains($name)) { "$($function.DeviceName) $($function.Name): $name" }
            }
        }
        $cut | Select-Object -First 5 | Should -BeNullOrEmpty
    }
}
