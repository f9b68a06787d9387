#!/usr/bin/env bash
# Usage: with_action_server.sh PORT COMMAND...
# Starts the action server in the background, waits until it answers, runs COMMAND in the
# foreground, and stops the action server however COMMAND ends.
set -euo pipefail
port="$1"; shift
mkdir -p var/log
.venv/bin/rasa run actions --actions actions --port "$port" >var/log/actions.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 120); do
  if curl -fsS "http://localhost:$port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then echo "action server failed to start, see var/log/actions.log" >&2; exit 1; fi
  sleep 0.5
done
"$@"
