#!/usr/bin/env bash
# Runs the real-Prometheus dashboard check: installs Debian's prometheus when missing, then
# scrapes a test app under load and queries every dashboard panel.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v "${PROMETHEUS_BIN:-prometheus}" >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
fi
exec cargo nextest run ops::prometheus_scrape:: --no-capture
