<#
.SYNOPSIS
    Removes Engram (installed by install.ps1) for the current user. Your data is kept.

.DESCRIPTION
    Removes what install.ps1 recorded in PREFIX\install-manifest.txt (Start menu and Startup
    shortcuts, the PATH entry) and then the prefix. Engram's data folder is kept unless -Purge is
    given. Without an install it does nothing.

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File "$env:LOCALAPPDATA\Programs\Engram\uninstall.ps1"
#>
[CmdletBinding()]
param(
    [string]$Prefix = (Join-Path $env:LOCALAPPDATA 'Programs\Engram'),
    # Also delete Engram's data folder (screenshots, transcripts, memories).
    [switch]$Purge,
    # The data folder -Purge deletes. Default: ENGRAM_HOME, else %LOCALAPPDATA%\engram.
    [string]$DataDir = '',
    # Do not ask before deleting data.
    [switch]$Yes
)

Set-StrictMode -Version 3
$ErrorActionPreference = 'Stop'

function Say([string]$Text) { Write-Host "==> $Text" }
function Note([string]$Text) { Write-Host "    $Text" }
function Fail([string]$Text) { Write-Host "error: $Text" -ForegroundColor Red; exit 1 }
function Get-FullPath([string]$Path) {
    return [System.IO.Path]::GetFullPath([Environment]::ExpandEnvironmentVariables($Path)).TrimEnd('\')
}
function Test-Within([string]$Inner, [string]$Outer) {
    $i = $Inner.ToLowerInvariant(); $o = $Outer.ToLowerInvariant()
    return ($i -eq $o) -or $i.StartsWith($o + '\')
}

$Prefix = Get-FullPath $Prefix
if (-not $DataDir) {
    if ($env:ENGRAM_HOME) { $DataDir = $env:ENGRAM_HOME } else { $DataDir = Join-Path $env:LOCALAPPDATA 'engram' }
}
$DataDir = Get-FullPath $DataDir
$UserHome = Get-FullPath $env:USERPROFILE
$Manifest = Join-Path $Prefix 'install-manifest.txt'

function Test-SafeToDelete([string]$Dir) {
    return ($Dir.Length -gt 3) -and -not (Test-Within $UserHome $Dir)
}

# Ask about the data first, so a "no" changes nothing.
if ($Purge -and -not $Yes -and (Test-Path -LiteralPath $DataDir)) {
    $answer = Read-Host "Delete all Engram data in $DataDir (screenshots, transcripts, memories, vault)? [y/N]"
    if ($answer -notmatch '^(y|yes)$') { Fail 'cancelled; nothing was removed' }
}

if (-not (Test-Path -LiteralPath $Prefix)) {
    Say "Engram is not installed in $Prefix; nothing to remove."
} elseif (-not (Test-Path -LiteralPath $Manifest)) {
    if (Get-ChildItem -LiteralPath $Prefix -Force | Select-Object -First 1) {
        Fail "$Prefix holds no Engram install manifest; left alone"
    }
    Remove-Item -LiteralPath $Prefix -Force
    Say "Removed the empty folder $Prefix."
} else {
    if (-not (Test-SafeToDelete $Prefix)) { Fail "refusing to delete $Prefix" }
    if (Test-Within $DataDir $Prefix) { Fail "the data folder $DataDir lies inside $Prefix; move it out first (nothing was removed)" }
    $running = @(Get-Process -ErrorAction SilentlyContinue | Where-Object { $_.Path -and (Test-Within $_.Path $Prefix) })
    if ($running.Count -gt 0) { Fail 'Engram is running; quit it (tray icon > Quit) and run this again.' }

    Say "Removing Engram from $Prefix"
    foreach ($line in Get-Content -LiteralPath $Manifest) {
        if ($line -match "^file`t(.+)$") {
            if (Test-Path -LiteralPath $Matches[1]) {
                Remove-Item -LiteralPath $Matches[1] -Force
                Note "removed $($Matches[1])"
            }
        } elseif ($line -match "^path`t(.+)$") {
            $dir = $Matches[1].TrimEnd('\')
            $key = [Microsoft.Win32.Registry]::CurrentUser.OpenSubKey('Environment', $true)
            $userPath = [string]$key.GetValue('Path', '', [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
            $parts = @($userPath -split ';' | Where-Object { $_ })
            $kept = @($parts | Where-Object { $_.TrimEnd('\') -ine $dir })
            if ($kept.Count -ne $parts.Count) {
                $key.SetValue('Path', ($kept -join ';'), [Microsoft.Win32.RegistryValueKind]::ExpandString)
                [Environment]::SetEnvironmentVariable('ENGRAM_INSTALLER_REFRESH', '1', 'User')
                [Environment]::SetEnvironmentVariable('ENGRAM_INSTALLER_REFRESH', $null, 'User')
                Note "removed $dir from your PATH"
            }
            $key.Close()
        }
    }
    # This script may be the copy inside the prefix: PowerShell has read it whole already.
    Set-Location -LiteralPath ([System.IO.Path]::GetTempPath())
    Remove-Item -LiteralPath $Prefix -Recurse -Force
    Note "removed $Prefix"
}

if ($Purge) {
    if (Test-Path -LiteralPath $DataDir) {
        if (-not (Test-SafeToDelete $DataDir)) { Fail "refusing to delete $DataDir" }
        Remove-Item -LiteralPath $DataDir -Recurse -Force
        Say "Deleted the data folder $DataDir."
    } else {
        Say "No data folder at $DataDir."
    }
} elseif (Test-Path -LiteralPath $DataDir) {
    Say "Your data is kept in $DataDir (delete it with: uninstall.ps1 -Purge)."
}
