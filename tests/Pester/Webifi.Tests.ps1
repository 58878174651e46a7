# Webifi world, end to end in PowerShell: two sessions on the Lab relay talk and discover each other.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-DeviceShell
    Set-StrictMode -Version 3.0
    $script:lab = Start-DeviceLab -Webifi -StartTimeoutSec 60
    $endpoint = $script:lab.Endpoints | Where-Object Simulator -EQ 'webifi'
    $script:server = "http://$($endpoint.Host):$($endpoint.Port)/"
    $script:credential = [pscredential]::new('webifi', (ConvertTo-SecureString 'pswd' -AsPlainText -Force))
    # The talker first, the listener last: the listener is then the Webifi default session.
    $script:talker = Connect-Webifi -Credential $script:credential -Server $script:server -Network net1 -Name talker -Transport LongPolling -DownloadTimeoutSec 10
    $script:listener = Connect-Webifi -Credential $script:credential -Server $script:server -Network lab, net2 -Name listener
}

AfterAll {
    Disconnect-Webifi -All
    if ($script:lab) { Stop-DeviceLab -Lab $script:lab }
}

Describe 'Webifi sessions on the Lab relay' {
    It 'connects both sessions with their own session ids' {
        $script:talker.State | Should -Be 'Connected'
        $script:listener.State | Should -Be 'Connected'
        $script:talker.SessionId | Should -Not -Be $script:listener.SessionId
        @(Get-DeviceSession -World Webifi).Count | Should -BeGreaterOrEqual 2
    }

    It 'delivers pipeline data to the default session in order' {
        'a', 'b' | Send-WebifiData -ToNetwork lab -Session $script:talker -TimeoutSec 10
        $received = @(Receive-WebifiData -Count 2 -TimeoutSec 10)
        $received.Data | Should -Be @('a', 'b')
        $received[0].FromSessionId | Should -Be $script:talker.SessionId
    }

    It 'answers a session id with a data type and a receipt' {
        $receipt = Send-WebifiData -Data 'pong' -DataType reply -ToSessionId $script:talker.SessionId -Session $script:listener -TimeoutSec 10 -PassThru
        $receipt.FromSessionId | Should -Be $script:listener.SessionId
        $message = Receive-WebifiData -DataType reply -Count 1 -TimeoutSec 10 -Session $script:talker
        $message.Data | Should -Be 'pong'
    }

    It 'discovers each other' {
        $found = @(Find-WebifiDevice -Network lab -WaitSec 1 -Session $script:talker)
        $found.Name | Should -Contain 'listener'
        ($found | Where-Object Name -EQ 'listener').SessionId | Should -Be $script:listener.SessionId

        $back = @(Find-WebifiDevice -Network net1 -WaitSec 1 -Session $script:listener)
        $back.Name | Should -Contain 'talker'
    }

    It 'reports unknown recipients as non-terminating errors' {
        Send-WebifiData -Data 'x' -ToSessionId 999999 -Session $script:talker -TimeoutSec 10 -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'WebifiNotDelivered*'
    }

    It 'names the networks the relay refused and listens to the others' {
        $session = Connect-Webifi -Credential $script:credential -Server $script:server -Network net1, bogus, nope -ErrorVariable refused -ErrorAction SilentlyContinue
        try {
            $refused.Count | Should -Be 1
            $refused[0].FullyQualifiedErrorId | Should -BeLike 'WebifiNetworkNotSet*'
            $refused[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $refused[0].Exception.Message | Should -BeLike '*unknown networks: bogus, nope*'
            $session.Networks | Should -Be @('net1')
            'still here' | Send-WebifiData -ToNetwork net1 -Session $script:talker -TimeoutSec 10
            (Receive-WebifiData -Count 1 -TimeoutSec 5 -Session $session).Data | Should -Be 'still here'
        }
        finally {
            Disconnect-Webifi -Session $session
        }
    }

    It 'refuses a wrong password with an AuthenticationError' {
        $bad = [pscredential]::new('webifi', (ConvertTo-SecureString 'wrong' -AsPlainText -Force))
        { Connect-Webifi -Credential $bad -Server $script:server -ErrorAction Stop } | Should -Throw -ErrorId 'WebifiAuthenticationFailed*'
    }

    It 'describes error codes' {
        (Get-WebifiErrorText -Code 5).Text | Should -BeLike '*networks*'
    }
}
