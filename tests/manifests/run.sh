#!/usr/bin/env bash
# ctest manifests_schema: validates every plain manifest under manifests/
# against the Kubernetes object schemas (validate.js, npm package
# kubernetes-models, offline), then shows the check can fail: a copy of the
# Deployment with `replicas: "two"` and an object of a kind no schema knows
# must both be refused.
#
# Usage: run.sh SOURCE_DIR WORK_DIR
#   WORK_DIR (in the build tree) receives package.json, package-lock.json,
#   validate.js and node_modules/ (`npm ci`, pinned by the committed lock file).
#
# Never passes by skipping: missing node or npm, a failed install, or a
# validator that accepts the broken copies all fail the test.
set -euo pipefail

src=${1:?usage: run.sh SOURCE_DIR WORK_DIR}
work=${2:?usage: run.sh SOURCE_DIR WORK_DIR}
here=$src/tests/manifests

die() { echo "manifests_schema: FAIL: $*" >&2; exit 1; }

command -v node >/dev/null || die "node is not installed (scripts/packages.txt lists nodejs; run scripts/install-deps.sh)"
command -v npm >/dev/null || die "npm is not installed (it ships with the nodejs of this machine kind; on plain Debian 12: apt-get install npm)"
echo "node $(node --version), npm $(npm --version)"

mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$here/validate.js" "$work/"
# Install only when the lock file changed since the last install (npm ci
# wipes node_modules, so a second run of the suite stays offline and quick).
stamp=$work/node_modules/.hpad-lock-sha256
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # --ignore-scripts: no package needs an install script, so none runs.
  npm ci --prefix "$work" --ignore-scripts --no-audit --no-fund --loglevel=error \
    || die "npm ci failed (the npm registry must be reachable for the first run)"
  echo "$want" > "$stamp"
fi

echo "== every manifest under manifests/ (Helm chart excluded)"
node "$work/validate.js" "$src/manifests" || die "a manifest does not match its Kubernetes schema (see INVALID above)"

# Negative cases, from temporary files: the validator must refuse them.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
expect_invalid() {  # NAME FILE PATTERN: validate.js exits 1 and prints PATTERN
  local out rc=0
  out=$(node "$work/validate.js" "$2" 2>&1) || rc=$?
  echo "$out"
  [ "$rc" -eq 1 ] || die "$1: validate.js exited $rc, expected 1 (the broken manifest was not refused)"
  grep -q -- "$3" <<<"$out" || die "$1: the refusal does not mention '$3'"
  echo "== $1: refused as expected"
}

sed 's/^\(  replicas:\) 2$/\1 "two"/' "$src/manifests/deployment.yaml" > "$tmp/replicas-two.yaml"
grep -q 'replicas: "two"' "$tmp/replicas-two.yaml" || die "could not make the broken Deployment (manifests/deployment.yaml changed shape?)"
expect_invalid 'Deployment with replicas: "two"' "$tmp/replicas-two.yaml" '/spec/replicas must be integer'

cat > "$tmp/unknown-kind.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deploymnet
metadata:
  name: typo
EOF
expect_invalid 'unknown kind' "$tmp/unknown-kind.yaml" 'no schema for this apiVersion/kind'

sed 's/^\(      port:\) 10257$/\1 "ten-thousand"/' "$src/manifests/service.yaml" > "$tmp/port-string.yaml"
grep -q 'port: "ten-thousand"' "$tmp/port-string.yaml" || die "could not make the broken Service (manifests/service.yaml changed shape?)"
expect_invalid 'Service with a non-numeric port' "$tmp/port-string.yaml" '/spec/ports/0/port'

echo "manifests_schema: all plain manifests valid; broken copies refused"
