#Requires -Version 7.4
# High-level streams through Invoke-BrickFunction against the Lab's Brick Daemon: what the bindings chunk
# (WritePixels, SetLEDValues, RS232 Write/Read, GetTemperatureImage, GetWaveform) goes in and comes out whole,
# and a high-level callback arrives whole in Receive-BrickCallback.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $script:Lab = Start-DeviceLab -Brick -StartTimeoutSec 60
    $endpoint = $script:Lab.Endpoints | Where-Object Simulator -EQ 'brick'
    $script:Brick = Connect-Brick -HostName $endpoint.Host -Port $endpoint.Port -TimeoutSec 5
    Add-LabBrickDevice -Uid Lcd1 -DeviceIdentifier 'LCD 128x64 Bricklet' -Position f
    Add-LabBrickDevice -Uid Led1 -DeviceIdentifier 'LED Strip Bricklet 2.0' -Position g
    Add-LabBrickDevice -Uid Rs1 -DeviceIdentifier 'RS232 Bricklet 2.0' -Position h
    Add-LabBrickDevice -Uid Th1 -DeviceIdentifier 'Thermal Imaging Bricklet' -Position 2
    Add-LabBrickDevice -Uid Em1 -DeviceIdentifier 'Energy Monitor Bricklet' -Position 3
}

AfterAll {
    Disconnect-Brick -All -ErrorAction SilentlyContinue
    if ($script:Lab) { Stop-DeviceLab -Lab $script:Lab -ErrorAction SilentlyContinue }
}

Describe 'High-level stream functions' {
    It 'writes a full 128x64 screen to an LCD and reads it back' {
        $screen = [bool[]]::new(128 * 64)
        for ($i = 0; $i -lt $screen.Length; $i++) { $screen[$i] = ($i % 128 + [Math]::Floor($i / 128)) % 3 -eq 0 }
        Invoke-BrickFunction -Uid Lcd1 -Name WritePixels -XStart 0 -YStart 0 -XEnd 127 -YEnd 63 -Pixels $screen
        $read = Invoke-BrickFunction -Uid Lcd1 -Name ReadPixels -XStart 0 -YStart 0 -XEnd 127 -YEnd 63
        $read.Pixels.Count | Should -Be 8192
        [Linq.Enumerable]::SequenceEqual([bool[]] $read.Pixels, $screen) | Should -BeTrue
    }

    It 'sets 150 LEDs of a strip and reads them back, and a part of them' {
        $colours = [byte[]] (0..449 | ForEach-Object { ($_ * 7) % 256 })
        Invoke-BrickFunction -Uid Led1 -Name SetLEDValues -Index 0 -Value $colours
        $all = Invoke-BrickFunction -Uid Led1 -Name GetLEDValues -Index 0 -Length 450
        [Linq.Enumerable]::SequenceEqual([byte[]] $all.Value, $colours) | Should -BeTrue
        (Invoke-BrickFunction -Uid Led1 -Name GetLEDValues -Index 0 -Length 150).Value.Count | Should -Be 150
        (Invoke-BrickFunction -Uid Led1 -Name GetLEDValues -Index 3 -Length 3).Value | Should -Be @($colours[3], $colours[4], $colours[5])
    }

    It 'writes to an RS232 Bricklet in loopback and reads the bytes back' {
        Set-LabBrickInput -Uid Rs1 -Name Loopback -Value $true
        $message = 'The quick brown fox jumps over the lazy dog. ' * 3
        (Invoke-BrickFunction -Uid Rs1 -Name Write -Message $message).MessageWritten | Should -Be $message.Length
        (Invoke-BrickFunction -Uid Rs1 -Name Read -Length 200).Message | Should -BeExactly $message
        (Invoke-BrickFunction -Uid Rs1 -Name Read -Length 200).Message | Should -BeExactly ''
    }

    It 'reads a thermal image and an energy monitor waveform of the right size' {
        $image = Invoke-BrickFunction -Uid Th1 -Name GetTemperatureImage
        $image.Image.Count | Should -Be 4800
        $image.Units.Image | Should -Be 'Kelvin'
        (Invoke-BrickFunction -Uid Em1 -Name GetWaveform).Waveform.Count | Should -Be 1536
    }

    It 'lists a high-level function beside its low-level one' {
        $functions = Get-BrickFunction -Uid Led1
        $functions.Name | Should -Contain 'SetLEDValues'
        $functions.Name | Should -Contain 'SetLEDValuesLowLevel'
        (($functions | Where-Object Name -EQ 'GetLEDValues').Returns.Name) | Should -Be 'Value'
    }

    It 'refuses data longer than the stream takes, as the bindings do' {
        $failure = { Invoke-BrickFunction -Uid Lcd1 -Name SetGUIGraphData -Index 0 -Data ([byte[]]::new(70000)) -ErrorAction Stop } |
            Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'InvalidParameter,*'
        $failure.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }
}

Describe 'High-level callbacks' {
    It 'delivers an RS232 message of several chunks whole' {
        Set-LabBrickInput -Uid Rs1 -Name Loopback -Value $true
        Invoke-BrickFunction -Uid Rs1 -Name EnableReadCallback
        $message = -join (1..150 | ForEach-Object { [char](97 + $_ % 26) })
        Invoke-BrickFunction -Uid Rs1 -Name Write -Message $message | Out-Null
        $whole = Wait-Until {
            Receive-BrickCallback -Uid Rs1 -Kind Callback -Count 1 -TimeoutSec 2 | Where-Object Name -EQ 'Read'
        } -TimeoutSec 10 -Because 'the Read callback with the message'
        $whole.Values.Message | Should -BeExactly $message
        Invoke-BrickFunction -Uid Rs1 -Name DisableReadCallback
    }
}
