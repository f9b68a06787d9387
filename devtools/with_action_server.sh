#!/usr/bin/env bash
# Usage: with_action_server.sh PORT COMMAND...
# Starts the action server in the background, waits until it answers, runs COMMAND in the
# foreground, and stops the action server however COMMAND ends. The action server listens on
# 127.0.0.1 (ACTION_SERVER_HOST to change it) and answers only ACTION_SERVER_SECRET's holder.
set -euo pipefail
# Everything the bot writes (var/tracker.db, var/log/*) holds users' facts: owner-only.
umask 077
port="$1"; shift
: "${ACTION_SERVER_SECRET:?ACTION_SERVER_SECRET must be set (the Makefile exports it)}"
mkdir -p var/log
chmod -f 600 var/log/*.log var/tracker.db* 2>/dev/null || true
.venv/bin/python -m actions.server --port "$port" >var/log/actions.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then echo "action server failed to start, see var/log/actions.log" >&2; exit 1; fi
  sleep 0.5
done
"$@"
