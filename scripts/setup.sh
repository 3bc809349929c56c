#!/usr/bin/env bash
# Set up .venv at the repo root with the pinned packages; install Graphviz (and, with --test,
# Debian's Chromium for the browser tests) where the system package manager allows it.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

system_packages=(graphviz)
[ "$want_test" = 1 ] && system_packages+=(chromium fonts-dejavu-core fonts-wqy-microhei)

missing=()
for package in "${system_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo_cmd="sudo"
    if [ "$(id -u)" -eq 0 ] || [ -n "$sudo_cmd" ]; then
      echo "setup: installing ${missing[*]} with apt-get"
      $sudo_cmd apt-get update -qq || echo "setup: apt-get update failed; trying the install anyway"
      DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null \
        || echo "setup: could not install ${missing[*]}; see the README"
    else
      echo "setup: please run: sudo apt-get install ${missing[*]}"
    fi
  else
    echo "setup: install ${missing[*]} yourself (macOS: brew install graphviz; Windows: winget install graphviz)."
    echo "setup: the app works without Graphviz; only PNG/SVG diagram downloads need it."
  fi
fi

python_bin="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($python_bin --version)"
  "$python_bin" -m venv .venv
fi
requirements=requirements.txt
[ "$want_test" = 1 ] && requirements=requirements-dev.txt
stamp=".venv/.installed-$(cat requirements.txt "$requirements" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages from $requirements"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$requirements"
  touch "$stamp"
fi
