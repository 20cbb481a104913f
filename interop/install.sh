#!/usr/bin/env bash
# Idempotent installer/builder for the interop suite and the side-by-side benchmark.
#
# Needs (Debian): Java 17 + Maven (installed with apt-get if missing), Go >= 1.22, Python 3 + pip,
# Rust/cargo. Fetches only from package registries (Maven Central, Go module proxy, PyPI,
# crates.io). Quiet on success; on failure prints the failed step and the tail of its log.
#
#   interop/install.sh            # everything
#   interop/install.sh java go    # only some parts: apache java go python rust
#
# Produces:
#   interop/apache/lib/*.jar                 Apache RocketMQ 5.3.3 namesrv+broker+tools jars
#   interop/java/target/                     Java tests + benchmark clones on rocketmq-client 5.3.3
#   interop/java/target-4.9.8/               the same on rocketmq-client 4.9.8
#   interop/go/interop-go                    Go client test (rocketmq-client-go/v2)
#   python package rocketmq-client-python==0.5.0rc2 (C++ client) in the current python3
#   interop/rust/target/debug/interop-rust-client   rocketmq-client-rust 1.0.0 test
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOGDIR="${INTEROP_INSTALL_LOGS:-/tmp/interop-install-logs}"
mkdir -p "$LOGDIR"
PARTS=("$@")
[[ ${#PARTS[@]} -eq 0 ]] && PARTS=(apache java go python rust)

want() { local p; for p in "${PARTS[@]}"; do [[ "$p" == "$1" ]] && return 0; done; return 1; }

die() { echo "interop/install: ERROR: $*" >&2; exit 1; }

# run NAME CMD...: run quietly, log to $LOGDIR/NAME.log, fail loudly
run() {
  local name="$1"; shift
  if ! "$@" > "$LOGDIR/$name.log" 2>&1; then
    echo "interop/install: FAILED step '$name': $*" >&2
    echo "---- last 40 lines of $LOGDIR/$name.log ----" >&2
    tail -n 40 "$LOGDIR/$name.log" >&2
    exit 1
  fi
}

# newer_than TARGET PATHS...: true if TARGET is missing or any file under PATHS is newer
stale() {
  local target="$1"; shift
  [[ -e "$target" ]] || return 0
  [[ -n "$(find "$@" -newer "$target" -type f 2>/dev/null | head -n 1)" ]]
}

apt_install() {
  command -v apt-get >/dev/null || die "$* missing and no apt-get to install it"
  run apt-update apt-get update -q
  run "apt-install-$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

# ---------------------------------------------------------------- toolchains
if want apache || want java; then
  if ! command -v java >/dev/null || ! java -version 2>&1 | grep -q 'version "\(1[7-9]\|2[0-9]\)'; then
    apt_install openjdk-17-jdk-headless
  fi
  command -v mvn >/dev/null || apt_install maven
fi
if want go; then
  command -v go >/dev/null || die "Go >= 1.22 is required (go not found in PATH)"
  gov="$(go env GOVERSION | sed 's/^go//')"
  [[ "$(printf '%s\n1.22\n' "$gov" | sort -V | head -n1)" == "1.22" ]] || die "Go >= 1.22 is required, found $gov"
fi
if want python; then
  command -v python3 >/dev/null || apt_install python3 python3-pip
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
fi
if want rust; then
  command -v cargo >/dev/null || die "Rust/cargo is required (cargo not found in PATH)"
fi

MVN=(mvn -q -B -Dstyle.color=never)

# ------------------------------------------------------------ Apache broker jars
if want apache; then
  if [[ ! -f "$HERE/apache/lib/rocketmq-broker-5.3.3.jar" || ! -f "$HERE/apache/lib/rocketmq-tools-5.3.3.jar" ]] \
     || stale "$HERE/apache/lib/rocketmq-broker-5.3.3.jar" "$HERE/apache/pom.xml"; then
    rm -rf "$HERE/apache/lib"
    run apache-jars bash -c "cd '$HERE/apache' && ${MVN[*]} dependency:copy-dependencies"
  fi
  [[ -f "$HERE/apache/lib/rocketmq-broker-5.3.3.jar" ]] || die "apache jars missing after download"
fi

# ------------------------------------------------------------ Java client tests
if want java; then
  if stale "$HERE/java/target/interop-java.jar" "$HERE/java/src" "$HERE/java/pom.xml" || [[ ! -d "$HERE/java/target/lib" ]]; then
    run java-5.3.3 bash -c "cd '$HERE/java' && ${MVN[*]} package"
  fi
  if stale "$HERE/java/target-4.9.8/interop-java.jar" "$HERE/java/src" "$HERE/java/pom.xml" || [[ ! -d "$HERE/java/target-4.9.8/lib" ]]; then
    run java-4.9.8 bash -c "cd '$HERE/java' && ${MVN[*]} -P client4 package"
  fi
  [[ -f "$HERE/java/target/lib/rocketmq-client-5.3.3.jar" ]] || die "rocketmq-client 5.3.3 jar missing"
  [[ -f "$HERE/java/target-4.9.8/lib/rocketmq-client-4.9.8.jar" ]] || die "rocketmq-client 4.9.8 jar missing"
fi

# ------------------------------------------------------------ Go client test
if want go; then
  run go-mod-download bash -c "cd '$HERE/go' && go mod download"
  run go-build bash -c "cd '$HERE/go' && go build -o interop-go ."
fi

# ------------------------------------------------------------ C++ client (Python wheel)
if want python; then
  if ! python3 -c 'import importlib.metadata as m, sys; sys.exit(0 if m.version("rocketmq-client-python") == "0.5.0rc2" else 1)' 2>/dev/null; then
    run pip-wheel python3 -m pip install -q --only-binary :all: rocketmq-client-python==0.5.0rc2
  fi
  run python-import python3 -c 'from rocketmq.client import Producer, PushConsumer'
fi

# ------------------------------------------------------------ Rust client test
if want rust; then
  run cargo-fetch bash -c "cd '$HERE/rust' && cargo fetch --locked"
  # -j 2: the machine has 2 cores and is shared
  run cargo-build bash -c "cd '$HERE/rust' && cargo build --locked -j 2"
  [[ -x "$HERE/rust/target/debug/interop-rust-client" ]] || die "rust test binary missing after build"
fi

echo "interop/install: ok (${PARTS[*]})"
