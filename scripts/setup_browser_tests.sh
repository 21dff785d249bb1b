#!/usr/bin/env bash
# Install what tests/browser/test_jupyterlab.py needs on a Debian machine; idempotent, safe to run before every CI run.
#
#   * Debian's chromium (Playwright drives it with executable_path=/usr/bin/chromium; it cannot download its own);
#   * npm (for the next step), if missing;
#   * the npm packages 3dmol (the version py3Dmol is written for) and @jupyter-widgets/html-manager, into
#     cormorant_lab.viz.js_dir() (default ~/.cache/cormorant_lab/js, or $CORMORANT_LAB_JS_DIR): outside the
#     repository, nothing to commit. The viewers inline 3Dmol.js from there, so they draw with no network;
#   * it checks that the venv has the Python packages the test drives the browser with (playwright, pillow,
#     from the `test` extra) and anywidget (plotly's FigureWidget, from the `notebooks` extra).
#
# Needs the project's venv (bash run.sh setup) and, once, the Debian and npm registries.
# Environment: CORMORANT_LAB_VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
py="${CORMORANT_LAB_VENV:-.venv}/bin/python"
if [ ! -x "$py" ]; then
  echo "setup_browser_tests: no venv at $py; run 'bash run.sh setup' first" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

"$py" -c "import playwright.sync_api, PIL, anywidget" 2>/dev/null || {
  echo "setup_browser_tests: playwright, pillow or anywidget missing; they come with 'bash run.sh setup'" >&2
  exit 1
}

read -r prefix specs < <("$py" -c "
from cormorant_lab.viz import js_dir, npm_packages
print(js_dir(), ' '.join(npm_packages()))")
mkdir -p "$prefix"
# shellcheck disable=SC2086  # specs is a list of package specs
npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error $specs
"$py" -c "
from cormorant_lab.viz import offline_status
status = offline_status()
assert status['3Dmol.js'] and status['html-manager'], status
print('setup_browser_tests: chromium, playwright and', status['3Dmol.js'], 'ready')"
