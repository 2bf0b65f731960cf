# Shared by scripts/docker-bases.sh and scripts/real-images.sh, which make images from Debian's
# packages with debootstrap: the mirror to use, and unmounting what debootstrap left mounted.
# Expects mp_die from the library the script sourced before this one.
# shellcheck shell=bash

# MP_DEBIAN_MIRROR, else the first Debian archive apt is configured with (deb822 or one-line
# sources), never the security archive.
mp_debian_mirror() {
  if [[ -n "${MP_DEBIAN_MIRROR:-}" ]]; then
    echo "$MP_DEBIAN_MIRROR"
    return
  fi
  local url
  url=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}' | grep -v -- '-security' | head -n 1) || true
  [[ -n "$url" ]] || url=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | head -n 1) || true
  [[ -n "$url" ]] || mp_die "no Debian mirror found in /etc/apt; set MP_DEBIAN_MIRROR"
  echo "$url"
}

# Unmounts every mount below <dir> (debootstrap mounts /proc and /sys in the root it makes),
# deepest first.
mp_unmount_under() { # dir
  local target
  while read -r target; do umount "$target" 2>/dev/null || umount -l "$target" || true; done \
    < <(awk -v d="$1/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r)
}
