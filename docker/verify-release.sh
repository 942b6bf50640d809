#!/bin/sh
# Verifies a release artefact as Apache's own images do: its detached GPG signature (.asc) must be good AND
# made by the key pinned for this release, the key material coming from the project's KEYS file. The
# SHA-512 published next to a tarball comes from the same server as the tarball and proves nothing on its own.
# Runs in the image build's fetch stage (both bases carry gpgv: apt depends on it) and in the unit tests.
#
# usage: verify-release.sh FILE SIGNATURE KEYS FINGERPRINT
#   FINGERPRINT: the 40-hex fingerprint of the signing key's primary key (spaces allowed).
set -eu

if [ $# -ne 4 ]; then
  echo "usage: verify-release.sh FILE SIGNATURE KEYS FINGERPRINT" >&2
  exit 2
fi
file=$1
sig=$2
keys=$3
want=$(printf '%s' "$4" | tr -d ' ' | tr 'abcdef' 'ABCDEF')
name=$(basename "$file")

case $want in
  '' | *[!0-9A-F]*) bad=1 ;;
  *) bad=0 ;;
esac
if [ "$bad" = 1 ] || [ ${#want} -ne 40 ]; then
  echo "verify-release: no signing key pinned for $name: give the release key's full 40-hex fingerprint (FLINK_GPG_KEY), not '${4}'" >&2
  exit 2
fi
if ! command -v gpgv >/dev/null 2>&1; then
  echo "verify-release: gpgv is not installed: cannot check the signature of $name" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# KEYS is a text file of ASCII-armoured keys; gpgv reads binary keyrings only. Each armoured block is
# decoded on its own (armour headers and the CRC line dropped) and the packets are concatenated.
awk -v dir="$work" '
  /^-----BEGIN PGP PUBLIC KEY BLOCK-----/ { n++; f = dir "/key-" n ".b64"; inblock = 1; body = 0; printf "" > f; next }
  /^-----END PGP PUBLIC KEY BLOCK-----/ { if (inblock) close(f); inblock = 0; next }
  !inblock { next }
  { sub(/\r$/, "") }
  !body { if ($0 ~ /^[ \t]*$/) body = 1; next }
  /^=[A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/]$/ { next }
  { print > f }
' "$keys"
: > "$work/keyring.gpg"
for b in "$work"/key-*.b64; do
  [ -e "$b" ] || continue
  if base64 -d "$b" > "$b.bin" 2>/dev/null; then cat "$b.bin" >> "$work/keyring.gpg"; fi
done
if [ ! -s "$work/keyring.gpg" ]; then
  echo "verify-release: $(basename "$keys") holds no public key: cannot check the signature of $name" >&2
  exit 1
fi

rc=0
gpgv --homedir "$work" --status-fd 3 --keyring "$work/keyring.gpg" "$sig" "$file" 3>"$work/status" >/dev/null 2>"$work/log" || rc=$?

# VALIDSIG's last field is the primary key's fingerprint, also when a subkey made the signature.
signer=$(awk '$2 == "VALIDSIG" { print $NF; exit }' "$work/status")
if [ "$rc" = 0 ] && [ -n "$signer" ]; then
  if [ "$signer" = "$want" ]; then
    echo "verify-release: good signature on $name by the pinned key $want"
    exit 0
  fi
  echo "verify-release: $name is signed by key $signer, not by the key pinned for this release ($want): refusing it" >&2
  exit 1
fi
if grep -q '^\[GNUPG:\] BADSIG' "$work/status"; then
  echo "verify-release: BAD signature: $name does not match $(basename "$sig"): it was altered or corrupted after signing: refusing it" >&2
  exit 1
fi
missing=$(awk '$2 == "NO_PUBKEY" { print $3; exit }' "$work/status")
if [ -n "$missing" ]; then
  echo "verify-release: $name is signed by key $missing, which is not in $(basename "$keys") (the pinned key is $want): refusing it" >&2
  exit 1
fi
echo "verify-release: cannot verify $name with $(basename "$sig") (gpgv exit $rc): $(tail -n 3 "$work/log" | tr '\n' ' ')" >&2
exit 1
