#!/usr/bin/env bash
# Installs one of the other Kafka clients measured by bench/figures/clients.ts
# into .cache/bench-clients/<name>-<version>/ (never into the project's
# node_modules), once, and prints that folder. Pinned versions:
#
#   platformatic  @platformatic/kafka 2.12.1 (pure JavaScript; runs on the
#                 Node.js 24 of scripts/node-lts.sh, it needs Node.js >= 22)
#   confluent     @confluentinc/kafka-javascript 1.10.1 (librdkafka 2.15.1)
#
# confluent: node-pre-gyp cannot download a prebuilt binary here (GitHub is not
# reachable), and the default source build of the bundled librdkafka
# (configure --install-deps --source-deps-only) downloads zlib, OpenSSL, zstd
# and curl from their sites. CKJS_LINKING=dynamic makes util/configure.js run
# librdkafka's ./configure without those flags, so that it links the system's
# libraries instead (build/deps/librdkafka.so, found through an rpath). Every
# library is optional to that configure (a missing one disables its feature);
# the figures need gzip, hence zlib1g-dev, checked before and after the build.
# Also needed: a C/C++ compiler, make and python3 (node-gyp), and the Node.js
# headers, which node-gyp takes from beside the machine's Node.js
# (/usr/include/node) instead of downloading them. Debian, for every feature:
# apt-get install zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev
# npm_config_build_from_source skips node-pre-gyp's download attempt (npm warns
# that it does not know that setting; node-pre-gyp reads it). It builds for the
# Node.js that runs npm (the machine's): about 4 minutes of CPU on 2 cores.
#
# usage: bench/clients/install.sh platformatic|confluent
# Exits non-zero with the reason on stderr when the install fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
name="${1:-}"
case "$name" in
  platformatic) package=@platformatic/kafka version=2.12.1 ;;
  confluent) package=@confluentinc/kafka-javascript version=1.10.1 ;;
  *) echo "usage: $0 platformatic|confluent" >&2; exit 2 ;;
esac
prefix=.cache/bench-clients/$name-$version
if [ ! -f "$prefix/installed" ] || [ ! -f "$prefix/node_modules/$package/package.json" ]; then
  rm -rf "$prefix"
  mkdir -p "$prefix"
  if [ "$name" = confluent ]; then
    for tool in cc c++ make python3; do
      command -v "$tool" >/dev/null || { echo "$tool is not installed (needed to build librdkafka)" >&2; exit 1; }
    done
    [ -f /usr/include/zlib.h ] ||
      { echo "zlib1g-dev is not installed (no zlib.h: librdkafka would have no gzip)" >&2; exit 1; }
    export CKJS_LINKING=dynamic npm_config_build_from_source=true
  fi
  if ! npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund \
    "$package@$version" >"$prefix/install.log" 2>&1; then
    echo "npm install $package@$version failed: $(grep -m1 -iE 'error|fail' "$prefix/install.log" ||
      tail -1 "$prefix/install.log") (see $prefix/install.log)" >&2
    exit 1
  fi
  if [ "$name" = confluent ]; then
    features=$(node -e "process.stdout.write(require('./$prefix/node_modules/$package').features.join(' '))" 2>&1) ||
      { echo "the built $package@$version does not load: $features" >&2; exit 1; }
    case " $features " in
      *" gzip "*) ;;
      *) echo "librdkafka was built without gzip (features: $features)" >&2; exit 1 ;;
    esac
  fi
  touch "$prefix/installed"
fi
echo "$PWD/$prefix"
