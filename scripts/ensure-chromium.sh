#!/usr/bin/env bash
# The browser tests drive Debian's chromium with Playwright (playwright cannot download
# its own browser here). Install it when we can (root with apt-get); otherwise say how,
# and the browser tests skip with that reason.
set -u
browser=${EXPLAIN_CHROMIUM:-/usr/bin/chromium}
if [ -x "$browser" ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium for the browser tests (apt-get)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && exit 0
fi
echo "chromium not found at $browser: the browser tests will be skipped. Install it with: sudo apt-get install chromium" >&2
exit 0
