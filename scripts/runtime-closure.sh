#!/usr/bin/env bash
# Lays out the runtime image's whole root filesystem: the binary, exactly the
# shared libraries `ldd` resolves for it, the dynamic loader its ELF header
# names (PT_INTERP), and the CA bundle. The Dockerfile's rootfs stage runs it
# and its final `FROM scratch` stage copies DEST and nothing else, so the image
# has no shell, no package manager and no passwd file (the user is numeric).
# tests/integration/manifests_test.cc runs it against build/controller/hpad and
# checks the closure is complete.
#
# Usage: runtime-closure.sh BINARY DEST
#   DEST/usr/local/bin/<name of BINARY>   the binary
#   DEST/<path>                           every library at the path ldd prints
#                                         (the loader's default search path)
#   DEST/<PT_INTERP>                      the dynamic loader, e.g. /lib64/ld-linux-x86-64.so.2
#   DEST/etc/ssl/certs/ca-certificates.crt, DEST/usr/lib/ssl/cert.pem -> it
#                                         (OpenSSL's default verify file on Debian)
# Fails if ldd cannot resolve a library or the binary is not dynamic.
set -euo pipefail

bin=${1:?usage: runtime-closure.sh BINARY DEST}
dest=${2:?usage: runtime-closure.sh BINARY DEST}
ca_bundle=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

[ -x "$bin" ] || { echo "runtime-closure: $bin is not an executable" >&2; exit 1; }
listing=$(ldd "$bin") || { echo "runtime-closure: ldd failed on $bin" >&2; exit 1; }
if grep -q 'not found' <<<"$listing"; then
  echo "runtime-closure: unresolved libraries:" >&2
  grep 'not found' <<<"$listing" >&2
  exit 1
fi

# The loader the kernel starts, as the ELF program header names it.
interp=$(readelf -l "$bin" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p')
[ -n "$interp" ] || { echo "runtime-closure: $bin names no program interpreter (not dynamic?)" >&2; exit 1; }

# Every absolute path ldd prints: "name => /path (0x..)" and "/path (0x..)".
# linux-vdso.so.1 has no path: the kernel maps it.
mapfile -t libs < <(awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$listing")
libs+=("$interp")

copy() {  # SOURCE TARGET: the file's content (symlinks followed), mode kept
  mkdir -p "$(dirname "$2")"
  cp -L --preserve=mode "$1" "$2"
}

mkdir -p "$dest"
copy "$bin" "$dest/usr/local/bin/$(basename "$bin")"
for lib in "${libs[@]}"; do
  copy "$lib" "$dest$lib"
done
copy "$ca_bundle" "$dest/etc/ssl/certs/ca-certificates.crt"
mkdir -p "$dest/usr/lib/ssl"
ln -sfn /etc/ssl/certs/ca-certificates.crt "$dest/usr/lib/ssl/cert.pem"

printf 'runtime-closure: %s + %d libraries (loader %s) + CA bundle in %s\n' "$bin" "${#libs[@]}" "$interp" "$dest"
