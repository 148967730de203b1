#!/usr/bin/env bash
# Provides what test/cluster needs: etcd (Debian's etcd-server) and kube-apiserver, built from
# Debian 12's own `kubernetes` source package with Debian's Go, fully offline from its vendor/ tree.
# The binary is cached outside the repository (default /var/cache/cellflow), so only the first run
# on a machine pays the build (~6 min on 2 cores). Idempotent; needs root or sudo for apt.
#
#   CELLFLOW_CACHE_DIR   cache root (default /var/cache/cellflow)
#   CELLFLOW_KEEP_BUILD  keep the source tree and Go cache after a successful build (default: removed)
#
# No mirror address is written anywhere: the deb-src list is derived at run time from the machine's
# own /etc/apt/sources.list.d/debian.sources, in private apt state that leaves the system's alone.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
kube_deb_version="$(tr -d '[:space:]' <"$repo_root/test/cluster/kube-apiserver.version")"
cache_root="${CELLFLOW_CACHE_DIR:-/var/cache/cellflow}"
out_dir="$cache_root/kube-apiserver-$kube_deb_version"
out_bin="$out_dir/kube-apiserver"
work="$cache_root/build-$kube_deb_version"

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"

log() { echo "[setup-cluster-harness] $*"; }

# 1. Debian packages: etcd for the harness; Go, reflect2 1.0.2 and dpkg-dev for the build.
packages=(etcd-server openssl)
if [ ! -x "$out_bin" ]; then
  packages+=(golang-go golang-github-modern-go-reflect2-dev dpkg-dev make rsync)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# etcd-server's package may start a system etcd on 2379; the harness uses its own ports and
# never that service, so leave it alone.

if [ -x "$out_bin" ]; then
  log "kube-apiserver cached: $out_bin"
  exit 0
fi

$sudo_cmd mkdir -p "$cache_root"
[ -w "$cache_root" ] || $sudo_cmd chown "$(id -u):$(id -g)" "$cache_root"

# One build at a time per machine (CI and a developer may both call this).
exec 9>"$cache_root/.build.lock"
flock 9
if [ -x "$out_bin" ]; then
  log "kube-apiserver cached (built by a concurrent run): $out_bin"
  exit 0
fi

started=$(date +%s)
mkdir -p "$work"
cd "$work"

# 2. Source package through private apt lists derived from the machine's own sources.
system_sources=/etc/apt/sources.list.d/debian.sources
if [ ! -r "$system_sources" ]; then
  echo "error: $system_sources not found; cannot derive a deb-src list" >&2
  exit 1
fi
apt_dir="$work/apt"
mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
sed -E 's/^Types:.*$/Types: deb-src/' "$system_sources" >"$apt_dir/parts/debian.sources"
apt_opts=(
  -o "Dir::Etc::SourceList=/dev/null"
  -o "Dir::Etc::SourceParts=$apt_dir/parts"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Sandbox::User=root"
)
src_dir="$(find "$work" -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)"
if [ -z "$src_dir" ] || [ ! -f "$work/.source-ok" ]; then
  rm -rf "$work"/kubernetes-* "$work"/kubernetes_*
  log "fetching source package kubernetes=$kube_deb_version"
  apt-get "${apt_opts[@]}" update -qq
  apt-get "${apt_opts[@]}" source -qq "kubernetes=$kube_deb_version" >/dev/null
  src_dir="$(find "$work" -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)"
  [ -n "$src_dir" ] || { echo "error: apt-get source produced no tree" >&2; exit 1; }
  touch "$work/.source-ok"
fi
cd "$src_dir"

# 3. Fixes the vendored tree needs under Go >= 1.18.
# 3a. reflect2 1.0.1 crashes (SIGSEGV on the first custom resource): use Debian's 1.0.2.
reflect2_src=/usr/share/gocode/src/github.com/modern-go/reflect2
if ! grep -q 'go1.18' vendor/github.com/modern-go/reflect2/*.go 2>/dev/null; then
  [ -d "$reflect2_src" ] || { echo "error: $reflect2_src missing" >&2; exit 1; }
  log "replacing vendored reflect2 with Debian's $(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev)"
  rm -rf vendor/github.com/modern-go/reflect2
  mkdir -p vendor/github.com/modern-go/reflect2
  find "$reflect2_src" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) ! -name '*_test.go' \
    -exec cp {} vendor/github.com/modern-go/reflect2/ \;
fi
# 3b. kubernetes#99804 (fixed upstream by kube-openapi#230): with newer Go, reflect.DeepEqual on
# reflect.Value makes "" (and 0, false) look like null, so `type: string` fields reject "".
for f in vendor/github.com/go-openapi/validate/type.go \
  vendor/k8s.io/kube-openapi/pkg/validation/validate/type.go; do
  [ -f "$f" ] || continue
  if grep -q 'reflect.DeepEqual(reflect.Zero(reflect.TypeOf(data)), reflect.ValueOf(data))' "$f"; then
    log "patching empty-string-is-null validation in $f"
    sed -i -E 's/if data == nil \|\| reflect\.DeepEqual\(reflect\.Zero\(reflect\.TypeOf\(data\)\), reflect\.ValueOf\(data\)\) \{/if data == nil {/' "$f"
    grep -q 'if data == nil {' "$f" || { echo "error: patch of $f did not apply" >&2; exit 1; }
    # `reflect` may now be unused in this file.
    if ! grep -q 'reflect\.' "$f"; then sed -i -E '/^\s*"reflect"$/d' "$f"; fi
  fi
done

# 4. Build offline.
log "building kube-apiserver (first run only; ~6 min on 2 cores)"
rm -rf _output # a failed earlier attempt may have left truncated tool binaries behind
export GOCACHE="$work/gocache" GOPATH="$work/gopath" GOFLAGS=-mod=vendor GOPROXY=off CGO_ENABLED=0 HOME="$work"
export KUBE_GIT_VERSION="v1.20.2" KUBE_GIT_TREE_STATE=clean KUBE_GIT_COMMIT="" KUBE_GIT_MAJOR=1 KUBE_GIT_MINOR=20
nice -n 10 make WHAT=cmd/kube-apiserver KUBE_BUILD_PLATFORMS=linux/"$(go env GOARCH)" >"$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log" >&2
  echo "error: kube-apiserver build failed; full log in $work/build.log" >&2
  exit 1
}
built="$(find _output -type f -name kube-apiserver -perm -u+x | head -n1)"
[ -n "$built" ] || { echo "error: build produced no kube-apiserver binary" >&2; exit 1; }

mkdir -p "$out_dir.tmp"
cp "$built" "$out_dir.tmp/kube-apiserver"
"$out_dir.tmp/kube-apiserver" --version >"$out_dir.tmp/VERSION"
rm -rf "$out_dir"
mv "$out_dir.tmp" "$out_dir"
log "built $(cat "$out_dir/VERSION") in $(($(date +%s) - started)) s: $out_bin"

cd "$cache_root"
if [ "${CELLFLOW_KEEP_BUILD:-0}" != "1" ]; then
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
fi
