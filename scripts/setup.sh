#!/usr/bin/env bash
# Installs what ei-engine needs beyond Node: npm packages, and Debian's chromium (SwiftShader Vulkan
# driver + headless browser) and libvulkan1 (the Vulkan loader Dawn links against).
# Idempotent: does nothing when everything is present. --quiet prints only what it does.
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
say() { echo "ei setup: $*" >&2; }

missing=()
[ -e /usr/lib/chromium/vk_swiftshader_icd.json ] || [ -n "${EI_SWIFTSHADER_ICD:-}" ] || missing+=(chromium)
have_vulkan() { dpkg -s libvulkan1 >/dev/null 2>&1 || { PATH=$PATH:/sbin:/usr/sbin ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; }; }
have_vulkan || missing+=(libvulkan1)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt=(apt-get); elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then apt=(sudo apt-get); else apt=(); fi
  if ! command -v apt-get >/dev/null; then apt=(); fi
  if [ ${#apt[@]} -eq 0 ]; then
    say "missing Debian packages: ${missing[*]} (needed for the software GPU adapter and browser tests)."
    say "install them with:  sudo apt-get install -y ${missing[*]}"
    say "(a hardware GPU with a Vulkan driver also works for the CLI; the browser tests need chromium)"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${apt[@]}" update -qq >/dev/null || { say "apt-get update failed"; exit 1; }
  "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    say "apt-get install ${missing[*]} failed; install them by hand and rerun"; exit 1; }
fi

# npm dependencies: install from the lockfile when node_modules is missing or older than it.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2
fi
[ $quiet = 1 ] || say "ready: Node $(node --version), chromium + libvulkan1 present"
