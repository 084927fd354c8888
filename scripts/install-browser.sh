#!/usr/bin/env bash
# Installs Debian's Chromium and ChromeDriver for the browser test of the HTML report,
# when they are missing (needs root, as on the project's machines).
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "Chromium/ChromeDriver are missing and this is not root: install the Debian packages" \
       "chromium and chromium-driver to run the browser test" >&2
  exit 0
fi
echo "Installing Chromium and ChromeDriver from Debian's packages" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
