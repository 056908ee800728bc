#!/usr/bin/env bash
# The test command (npm test): native core tests, the type check, then the vitest suite.
# Expects `npm run build` to have run (the addon, the core test binary and dist/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-core.sh
npx tsc -p tsconfig.test.json
npx vitest run "$@"
