#!/usr/bin/env bash
# Sets up what is missing, builds the app in release and serves it.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "meshcall: the app and server are not built yet" >&2
exit 1
