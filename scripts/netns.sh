#!/usr/bin/env bash
# Runs a command inside a private network namespace that has loopback and a veth pair
# (10.77.0.1 <-> 10.77.0.2). WebRTC needs it: Chromium gathers no loopback ICE candidates, so with only
# `lo` two pages never connect, while the veth addresses give them host candidates. Nothing inside can
# reach any other network, so test traffic stays on this machine.
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: scripts/netns.sh <command> [args...]" >&2
  exit 2
fi
if [ "${MESHCALL_IN_NETNS:-}" = 1 ]; then
  exec "$@"
fi
export MESHCALL_IN_NETNS=1
# As root a plain network namespace; otherwise a user namespace maps us to root inside it.
userns=()
[ "$(id -u)" = 0 ] || userns=(--user --map-root-user)
exec unshare "${userns[@]}" --net -- sh -ec '
  ip link set lo up
  ip link add v0 type veth peer name v1
  ip addr add 10.77.0.1/24 dev v0
  ip addr add 10.77.0.2/24 dev v1
  ip link set v0 up
  ip link set v1 up
  exec "$@"' netns "$@"
