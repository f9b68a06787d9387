#!/usr/bin/env bash
# Usage: with_web_server.sh PORT BOT_URL COMMAND...
# Serves web/ on 127.0.0.1:PORT (devtools/serve_web.py, CSP allowing BOT_URL) in the
# background, runs COMMAND in the foreground, and stops the web server however COMMAND ends.
set -euo pipefail
port="$1"; bot_url="$2"; shift 2
mkdir -p var/log
.venv/bin/python -m devtools.serve_web --port "$port" --bot-url "$bot_url" 2>var/log/web.log &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 40); do
  if curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then echo "web server failed to start, see var/log/web.log" >&2; exit 1; fi
  sleep 0.25
done
"$@"
