#!/usr/bin/env bash
# The main demo, end to end on a fresh machine: builds jdyn (native core included) and runs it.
#   scripts/demo.sh [args]          torchdyn's moons tutorial: trains a Neural ODE classifier, writes
#                                   target/moons-flows.png (args: --out PATH --n N --epochs E --seed S)
#   scripts/demo.sh classic         the classic-ODE tour (every method, dense output, events, batches)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
main=io.jdyn.examples.MoonsDemo
if [ "${1:-}" = classic ]; then main=io.jdyn.examples.ClassicOdeDemo; shift; fi
echo "jdyn: building (native core, bindings, examples)..." >&2
mvn -q -B install -DskipTests -pl .,model,native-core,ffm-bindings,examples
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Djava.awt.headless=true \
  -cp "examples/target/classes:$(cat examples/target/classpath.txt)" "$main" "$@"
