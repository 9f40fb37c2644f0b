#!/usr/bin/env bash
# Regenerates libs/scanner/data/gadgets.scanned.json: the gadget scan under every interpreter Brine models
# (Debian's Python 3.11 with torch 1.13, and the torch-oracle roots: Python 3.13/torch 2.6, Python 3.14/torch 2.14).
set -euo pipefail
cd "$(dirname "$0")/../.."
oracle=../shared/tools/torch-oracle
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 scripts/gadgets/find_gadgets.py > "$tmp/1.13.json"
"$oracle" run 2.6 python3 scripts/gadgets/find_gadgets.py > "$tmp/2.6.json"
"$oracle" run 2.14 python3 scripts/gadgets/find_gadgets.py > "$tmp/2.14.json"
python3 scripts/gadgets/merge.py libs/scanner/data/gadgets.scanned.json "$tmp/1.13.json" "$tmp/2.6.json" "$tmp/2.14.json"
