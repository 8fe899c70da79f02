#!/bin/sh
# Builds the rest of the jdyn distribution once Maven has copied the jars into DIST/lib and DIST/lib/jit:
# the jlink-trimmed runtime in DIST/runtime (only when the JDK, the module list or the options changed),
# the bin/jdyn launcher and README.txt from TEMPLATES, and (TAR=true) a tar.gz beside DIST.
# Quiet unless something fails.
#   make-dist.sh JAVA_HOME MODULES TEMPLATES DIST VERSION [TAR]
set -eu
java_home=$1 modules=$2 templates=$3 dist=$4 version=$5 tar=${6:-false}

jlink="$java_home/bin/jlink"
[ -x "$jlink" ] || { echo "make-dist: no jlink in $java_home (a JDK, not a JRE, must run Maven)" >&2; exit 1; }
options="--strip-debug --no-header-files --no-man-pages --compress=zip-6"
stamp="$dist.jlink-stamp"
want="$("$java_home/bin/java" -version 2>&1 | head -n 2 | tr '\n' ' ')|$modules|$options"
if [ ! -x "$dist/runtime/bin/java" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  rm -rf "$dist/runtime" "$stamp"
  log="$dist.jlink.log"
  # shellcheck disable=SC2086
  if ! "$jlink" --add-modules "$modules" $options --output "$dist/runtime" >"$log" 2>&1; then
    cat "$log" >&2
    echo "make-dist: jlink failed (above): $jlink --add-modules $modules $options" >&2
    exit 1
  fi
  rm -f "$log"
  printf '%s' "$want" > "$stamp"
fi

mkdir -p "$dist/bin"
cp "$templates/bin/jdyn" "$dist/bin/jdyn"
chmod 755 "$dist/bin/jdyn"
sed -e "s/@VERSION@/$version/g" -e "s/@MODULES@/$modules/g" "$templates/README.txt" > "$dist/README.txt"

if [ "$tar" = true ]; then
  parent=$(dirname "$dist") name=$(basename "$dist")
  tar -C "$parent" -czf "$parent/$name-$version-linux-x86_64.tar.gz" "$name"
fi
