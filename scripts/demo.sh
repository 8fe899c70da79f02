#!/usr/bin/env bash
# The main demo, end to end on a fresh machine: builds jdyn (native core included) and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
echo "jdyn: building (native core, bindings, examples)..." >&2
mvn -q -B install -DskipTests -pl .,model,native-core,ffm-bindings,examples
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  -cp "examples/target/classes:$(cat examples/target/classpath.txt)" io.jdyn.examples.ClassicOdeDemo "$@"
