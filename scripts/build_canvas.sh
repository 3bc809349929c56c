#!/usr/bin/env bash
# Rebuild the Builder's node canvas (React Flow) into components/builder/canvas_frontend/build/, which is committed:
# users and scripts/start.sh need no Node. Needs Node 18+ and npm; installs the locked packages (npm ci) first.
# tests/test_canvas.py checks that build/manifest.json records the hash of the committed sources.
set -euo pipefail
cd "$(dirname "$0")/../components/builder/canvas_frontend"
npm ci --no-audit --no-fund
node build.mjs
