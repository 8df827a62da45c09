#!/usr/bin/env bash
# The HTML report test opens a report in Debian's Chromium (driven by playwright-core, no browser download).
# Installs it when missing and we may (root with apt-get); otherwise says what the report test needs.
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo "installing Debian's chromium for the HTML report test (log: /tmp/pprl-apt.log)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) > /tmp/pprl-apt.log 2>&1 \
    || echo "could not install chromium (see /tmp/pprl-apt.log); the HTML report test will fail"
else
  echo "note: /usr/bin/chromium is missing; install Debian's chromium (apt-get install chromium)" \
    "for the HTML report test"
fi
exit 0
