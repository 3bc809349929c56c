#!/usr/bin/env bash
# Set up (first run only) and serve the app on http://localhost:${PORT:-8501}
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "Keras Functional Studio: http://localhost:${PORT:-8501}"
exec .venv/bin/python -m streamlit run app.py --server.address localhost --server.port "${PORT:-8501}" \
  --server.headless true --server.fileWatcherType none --client.toolbarMode minimal --browser.gatherUsageStats false "$@"
