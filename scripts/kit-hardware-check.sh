#!/usr/bin/env bash
# The kit's start script (kit-build/hardware-check, from `npm run kit`): unpacks the kit's Node and Dawn into a cache
# folder, finds the Vulkan loader and a Vulkan driver (the NVIDIA ICD), says exactly what is missing when it cannot,
# then runs the check (lib/hardware-check.mjs) with the arguments given, e.g. --budget 480 --out DIR.
set -euo pipefail
kit=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { echo "hardware-check: $*" >&2; }
die() { say "error: $1"; say "  fix: $2"; exit 3; }

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "this kit is for Linux x86-64; this is $(uname -s)-$(uname -m)" "run it on an x86-64 Linux machine"
command -v gzip >/dev/null || die "gzip is missing (it unpacks the kit's Node and Dawn)" "install gzip, or unpack node.gz and dawn.node.gz by hand into \$EI_KIT_CACHE"

id=$(sed -n 's/.*"id": *"\([0-9a-f]*\)".*/\1/p' "$kit/kit.json")
[ -n "$id" ] || die "$kit/kit.json has no id" "rebuild the kit with npm run kit"
cache=${EI_KIT_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/ei-kit/$id}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then cache=$(mktemp -d "${TMPDIR:-/tmp}/ei-kit-$id.XXXXXX"); fi
# Unpack once per kit id; the rename makes a half-written file (a run killed while unpacking) never look complete.
unpack() {
  [ -s "$2" ] && return 0
  gzip -dc "$1" >"$2.tmp.$$" && chmod 755 "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
}
unpack "$kit/node.gz" "$cache/node" || die "could not unpack $kit/node.gz into $cache" "free disk space there, or set EI_KIT_CACHE to a writable folder"
mkdir -p "$cache/lib"
cp -R "$kit/lib/." "$cache/lib/"
unpack "$kit/dawn.node.gz" "$cache/lib/node_modules/webgpu/dist/linux-x64/dawn.node" || die "could not unpack $kit/dawn.node.gz into $cache" "free disk space there, or set EI_KIT_CACHE to a writable folder"

# The Vulkan loader: the system's, else the copy the kit brought (the build machine's libvulkan.so.1).
find_system_loader() {
  local d
  for d in ${LD_LIBRARY_PATH:+${LD_LIBRARY_PATH//:/ }} /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /usr/lib64 /lib64 /usr/lib /usr/local/lib; do
    [ -e "$d/libvulkan.so.1" ] && { echo "$d/libvulkan.so.1"; return 0; }
  done
  { PATH=$PATH:/sbin:/usr/sbin ldconfig -p 2>/dev/null || true; } | sed -n 's/.*libvulkan\.so\.1 (libc6,x86-64) => //p' | head -1
}
loader=$(find_system_loader)
if [ -z "$loader" ]; then
  if [ -e "$cache/lib/libvulkan.so.1" ]; then
    loader="$cache/lib/libvulkan.so.1 (brought by the kit)"
    export LD_LIBRARY_PATH="$cache/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  else
    die "no Vulkan loader (libvulkan.so.1) in LD_LIBRARY_PATH, /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /usr/lib64 or ldconfig, and the kit brought none" \
      "install it (Debian/Ubuntu: apt-get install libvulkan1; RHEL: dnf install vulkan-loader), or rebuild the kit on a machine that has it"
  fi
fi

# The Vulkan driver: the user's choice (VK_ICD_FILENAMES / VK_DRIVER_FILES), else the NVIDIA ICD manifest.
icd=${VK_ICD_FILENAMES:-${VK_DRIVER_FILES:-}}
icd_note="set by the caller"
if [ -z "$icd" ]; then
  for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json; do
    [ -e "$f" ] && { icd=$f; icd_note="found"; break; }
  done
fi
if [ -z "$icd" ]; then
  # Containers often mount the NVIDIA driver's libraries without its ICD manifest: write one for the driver library.
  glx=$({ PATH=$PATH:/sbin:/usr/sbin ldconfig -p 2>/dev/null || true; } | sed -n 's/.*libGLX_nvidia\.so\.0 (libc6,x86-64) => //p' | head -1)
  if [ -n "$glx" ]; then
    icd="$cache/nvidia_icd.json"
    printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$glx" >"$icd"
    icd_note="written by the kit for $glx (no manifest was installed)"
  else
    die "no Vulkan driver: no nvidia_icd.json in /usr/share/vulkan/icd.d, /etc/vulkan/icd.d, /usr/local/share/vulkan/icd.d or /usr/local/nvidia/share/vulkan/icd.d, no libGLX_nvidia.so.0 for one, and VK_ICD_FILENAMES is unset" \
      "install the NVIDIA driver with its Vulkan part (nvidia-driver / libnvidia-gl-<version>), or point VK_ICD_FILENAMES at a driver's ICD manifest (json)"
  fi
fi
for f in ${icd//:/ }; do [ -e "$f" ] || die "the Vulkan ICD manifest $f does not exist" "fix VK_ICD_FILENAMES, or unset it to let the kit search"; done
export VK_ICD_FILENAMES=$icd
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
export EI_KIT_VULKAN_LOADER=$loader EI_KIT_ICD="$icd ($icd_note)" EI_KIT_DIR=$kit EI_KIT_CACHE_DIR=$cache
say "node $("$cache/node" --version), Vulkan loader $loader, driver $icd ($icd_note)"
exec "$cache/node" "$cache/lib/hardware-check.mjs" "$@"
