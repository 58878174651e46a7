#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The Python Exemplary tutorial in PowerShell: a button server (the Lab's pibutton simulator, or one started in this
# process with -Simulated), a client that sends 'go' every so often and reads the replies, and tcpcom's one-client rule.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $script:lab = Start-DeviceLab -PiButton -StartTimeoutSec 60
    $script:button = $script:lab.Endpoints | Where-Object Simulator -EQ 'pibutton'
}

AfterAll {
    Disconnect-PiLink -All
    Get-DeviceSession -World PiLink | Where-Object { $_.GetType().Name -eq 'PiLinkServer' } | Stop-PiLinkServer
    if ($script:lab) { Stop-DeviceLab -Lab $script:lab }
}

Describe 'The tutorial button server (Lab simulator)' {
    It 'answers go with the button state while a client polls every so often' {
        $link = Connect-PiLink -HostName $button.Host -Port $button.Port -TimeoutSec 5
        try {
            $link.LinkState.ToString() | Should -Be 'Connected'
            (Send-PiLinkMessage -Session $link -Message 'go' -WaitReplySec 5).Text | Should -Be 'Button released'

            Set-PiButtonState -Pressed -Lab $lab -TimeoutSec 5
            $replies = foreach ($poll in 1..3) {
                (Send-PiLinkMessage -Session $link -Message 'go' -WaitReplySec 5).Text
                Start-Sleep -Milliseconds 200 # the point: a client that polls every so often, as the tutorial's does
            }
            $replies | Should -Be @('Button pressed', 'Button pressed', 'Button pressed')

            Set-PiButtonState -Lab $lab -TimeoutSec 5
            (Send-PiLinkMessage -Session $link -Message 'go' -WaitReplySec 5).Text | Should -Be 'Button released'
        }
        finally {
            Disconnect-PiLink -Session $link
        }
    }

    It 'reports the client states in tcpcom order' {
        $link = Connect-PiLink -HostName $button.Host -Port $button.Port -TimeoutSec 5
        try {
            Send-PiLinkMessage -Session $link -Message 'go'
            $items = Receive-PiLinkMessage -Session $link -Count 3 -TimeoutSec 5
            $items.StateName | Should -Be @('CONNECTING', 'CONNECTED', 'MESSAGE')
            $items[2].Text | Should -BeIn @('Button pressed', 'Button released')
        }
        finally {
            Disconnect-PiLink -Session $link
        }
    }

    It 'refuses a second client with SERVER_OCCUPIED' {
        $first = Connect-PiLink -HostName $button.Host -Port $button.Port -TimeoutSec 5
        try {
            { Connect-PiLink -HostName $button.Host -Port $button.Port -TimeoutSec 5 -OccupiedWaitSec 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'PiLinkServerOccupied*'
            (Send-PiLinkMessage -Session $first -Message 'go' -WaitReplySec 5).Text | Should -Not -BeNullOrEmpty
        }
        finally {
            Disconnect-PiLink -Session $first
        }
    }
}

Describe 'A button server in this process' {
    It 'follows Set-PiButtonState and shows its own state changes' {
        $server = Start-PiButtonServer -Simulated -Port 0 -Pin 5
        try {
            $server.LinkState.ToString() | Should -Be 'Listening'
            $link = Connect-PiLink -HostName 127.0.0.1 -Port $server.Port -TimeoutSec 5
            Set-PiButtonState -Pressed -Pin 5
            (Send-PiLinkMessage -Session $link -Message 'go' -WaitReplySec 5).Text | Should -Be 'Button pressed'
            (Get-PiButtonState -Simulated -Pin 5).Pressed | Should -BeTrue
            Set-PiButtonState -Pin 5
            (Send-PiLinkMessage -Session $link -Message 'go' -WaitReplySec 5).Text | Should -Be 'Button released'

            ($server | Receive-PiLinkMessage -Count 4 -TimeoutSec 5).StateName |
                Should -Be @('LISTENING', 'CONNECTED', 'MESSAGE', 'MESSAGE')
            Disconnect-PiLink -Session $link
            ($server | Receive-PiLinkMessage -Count 1 -TimeoutSec 5).StateName | Should -Be 'LISTENING'
        }
        finally {
            Stop-PiLinkServer -Session $server
        }
        $server.LinkState.ToString() | Should -Be 'Terminated'
    }

    It 'gives clear errors for a missing GPIO chip and a closed port' {
        { Start-PiButtonServer -Chip 99 -Port 0 -ErrorAction Stop } | Should -Throw -ErrorId 'PiGpioChipNotFound*'
        $server = Start-PiLinkServer -Port 0
        $port = $server.Port
        Stop-PiLinkServer -Session $server
        { Connect-PiLink -HostName 127.0.0.1 -Port $port -TimeoutSec 2 -ErrorAction Stop } | Should -Throw -ErrorId 'PiLinkConnectionFailed*'
    }

    It 'listens only on the address given with -LocalAddress' {
        # Linux routes all of 127.0.0.0/8 to the loopback interface: a server on every interface answers 127.0.0.2,
        # one bound to 127.0.0.1 does not.
        $everywhere = Start-PiButtonServer -Simulated -Port 0
        $loopbackOnly = Start-PiButtonServer -Simulated -Port 0 -LocalAddress 127.0.0.1
        try {
            $loopbackOnly.Endpoint | Should -BeLike '127.0.0.1:*'
            $link = Connect-PiLink -HostName 127.0.0.2 -Port $everywhere.Port -TimeoutSec 5
            (Send-PiLinkMessage -Session $link -Message 'go' -WaitReplySec 5).Text | Should -Be 'Button released'
            Disconnect-PiLink -Session $link
            $link = Connect-PiLink -HostName 127.0.0.1 -Port $loopbackOnly.Port -TimeoutSec 5
            (Send-PiLinkMessage -Session $link -Message 'go' -WaitReplySec 5).Text | Should -Be 'Button released'
            Disconnect-PiLink -Session $link
            { Connect-PiLink -HostName 127.0.0.2 -Port $loopbackOnly.Port -TimeoutSec 2 -ErrorAction Stop } | Should -Throw -ErrorId 'PiLinkConnectionFailed*'
            # 192.0.2.1 (TEST-NET-1) is no address of this machine.
            $failure = { Start-PiButtonServer -Simulated -Port 0 -LocalAddress 192.0.2.1 -ErrorAction Stop } | Should -Throw -ErrorId 'PiLinkAddressNotAvailable*' -PassThru
            $failure.CategoryInfo.Category | Should -Be 'InvalidArgument'
        }
        finally {
            $everywhere, $loopbackOnly | Stop-PiLinkServer
        }
    }
}


Describe 'Set-PiButtonState and Stop-PiButtonServer' {
    It 'says Pressed/Released in its verbose output' {
        $server = Start-PiButtonServer -Simulated -Port 0 -Pin 6
        try {
            $verbose = Set-PiButtonState -Pressed -Pin 6 -Verbose 4>&1 | ForEach-Object Message
            $verbose | Should -Contain 'Pressed simulated chip 0 line 6.'
            $verbose = Set-PiButtonState -Pin 6 -Verbose 4>&1 | ForEach-Object Message
            $verbose | Should -Contain 'Released simulated chip 0 line 6.'
        }
        finally {
            Stop-PiButtonServer -Session $server
        }
    }

    It 'gives PiButtonNotFound for a line no button server of this process reads, and presses nothing' {
        $failure = { Set-PiButtonState -Pressed -Chip 7 -Pin 42 -ErrorAction Stop } | Should -Throw -ErrorId 'PiButtonNotFound*' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        (Get-PiButtonState -Simulated -Chip 7 -Pin 42).Pressed | Should -BeFalse
    }

    It 'stops the newest button server under its own noun, and only button servers' {
        $plain = Start-PiLinkServer -Port 0
        $button = Start-PiButtonServer -Simulated -Port 0
        $newerPlain = Start-PiLinkServer -Port 0
        try {
            Stop-PiButtonServer -PassThru | Should -Be $button
            $button.LinkState.ToString() | Should -Be 'Terminated'
            $newerPlain.LinkState.ToString() | Should -Be 'Listening'
            $failure = { Stop-PiButtonServer -Session $plain -ErrorAction Stop } | Should -Throw -ErrorId 'NotAPiButtonServer*' -PassThru
            $failure.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $plain.LinkState.ToString() | Should -Be 'Listening'
        }
        finally {
            $plain, $newerPlain | Stop-PiLinkServer
        }
    }
}
