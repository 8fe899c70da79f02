# Sourced by the project's scripts: picks a JDK >= 22 for the build and makes sure the native
# toolchain's packages are present (installing them with apt-get where it can).
# Prints what it does to stderr; on anything missing that it cannot install, says what and exits.

jdyn_die() { echo "jdyn: $*" >&2; exit 1; }

jdyn_java_feature() {
  # The feature version of the java at $1/bin/java, or 0.
  local v
  v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  echo "${v:-0}" | cut -d. -f1
}

jdyn_pick_jdk() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  candidates+=(/usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk /usr/lib/jvm/*)
  local c
  for c in "${candidates[@]}"; do
    if [ -x "$c/bin/javac" ] && [ "$(jdyn_java_feature "$c")" -ge 22 ] 2>/dev/null; then
      export JAVA_HOME="$c"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  jdyn_die "no JDK 22 or newer found (looked at \$JAVA_HOME and /usr/lib/jvm/*). jdyn's native backend uses the FFM API, final in Java 22: install a JDK 22+ (e.g. Temurin 25) and set JAVA_HOME."
}

jdyn_ensure_packages() {
  # command-or-file:debian-package pairs the build needs.
  local needs=(
    "cmake:cmake"
    "g++:g++"
    "mvn:maven"
    "/usr/include/doctest/doctest.h:doctest-dev"
    "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a:libopenblas-pthread-dev"
  )
  local missing=() n what pkg
  for n in "${needs[@]}"; do
    what=${n%%:*} pkg=${n##*:}
    if [ "${what#/}" != "$what" ]; then
      [ -e "$what" ] || missing+=("$pkg")
    else
      command -v "$what" >/dev/null 2>&1 || missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "jdyn: installing Debian packages: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
  if [ "$(id -u)" -ne 0 ] && [ -z "$sudo" ]; then
    jdyn_die "missing packages ${missing[*]} and no root or sudo to install them: apt-get install ${missing[*]}"
  fi
  $sudo apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2 \
    || jdyn_die "apt-get install ${missing[*]} failed"
}

jdyn_pick_jdk
jdyn_ensure_packages
# nvcc is optional: the CUDA twin builds where it is found.
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
# Maven 3.8's bundled Guava warns about sun.misc.Unsafe on JDK 24+; this keeps the build quiet.
if [ "$(jdyn_java_feature "$JAVA_HOME")" -ge 24 ]; then
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
fi
