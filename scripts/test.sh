#!/usr/bin/env bash
# Runs every test: the native engine's C++ tests (CTest) and all JUnit suites, through Maven.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
rc=0
rm -rf ./*/target/surefire-reports
mvn -q -B verify "$@" || rc=$?
# One closing line over every JUnit report (Maven -q prints none of its own).
python3 - <<'PY' || true
import glob, xml.etree.ElementTree as ET
t = f = e = s = 0
for p in glob.glob("*/target/surefire-reports/TEST-*.xml"):
    r = ET.parse(p).getroot()
    t += int(r.get("tests", 0)); f += int(r.get("failures", 0)); e += int(r.get("errors", 0)); s += int(r.get("skipped", 0))
print(f"junit: {t - f - e - s} passed, {f + e} failed, {s} skipped")
PY
exit $rc
