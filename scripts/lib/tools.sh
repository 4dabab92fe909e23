# Where the tools that tests need are found, shared by scripts/provision
# (which installs them) and the scripts that use them (which never do).
# Sourced, not run.
#
# TOOLS_ROOT, for scripts/provision's own test only, stands in for the
# machine: tools are then looked up in $TOOLS_ROOT/bin alone and
# PostgreSQL in $TOOLS_ROOT/postgresql/*/bin, so the test can show a
# machine where nothing is installed.

# The path of the program NAME, or nothing. cargo installs into
# $CARGO_HOME/bin, which a non-login shell may not have on PATH.
# Whether OpenSSL's headers are there for building librdkafka (under
# TOOLS_ROOT: its include/openssl/ssl.h).
has_openssl_headers() {
    if [[ -n ${TOOLS_ROOT:-} ]]; then
        [[ -e $TOOLS_ROOT/include/openssl/ssl.h ]]
        return
    fi
    command -v pkg-config >/dev/null && pkg-config --exists openssl
}

tool_path() {
    local name=$1
    if [[ -n ${TOOLS_ROOT:-} ]]; then
        [[ -x $TOOLS_ROOT/bin/$name ]] && echo "$TOOLS_ROOT/bin/$name"
        return 0
    fi
    if command -v "$name" 2>/dev/null; then
        return 0
    fi
    local cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin/$name
    [[ -x $cargo_bin ]] && echo "$cargo_bin"
    return 0
}

# The folder holding initdb, pg_ctl and friends (the newest version if
# several are installed), or nothing. PG_BIN overrides the search.
pg_bin_dir() {
    if [[ -n ${PG_BIN:-} ]]; then
        [[ -x $PG_BIN/initdb ]] && echo "$PG_BIN"
        return 0
    fi
    local pattern=/usr/lib/postgresql
    [[ -n ${TOOLS_ROOT:-} ]] && pattern=$TOOLS_ROOT/postgresql
    local dir
    dir=$(ls -d "$pattern"/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n $dir && -x $dir/initdb ]]; then
        echo "$dir"
        return 0
    fi
    [[ -n ${TOOLS_ROOT:-} ]] && return 0
    if command -v pg_config >/dev/null && [[ -x $(pg_config --bindir)/initdb ]]; then
        pg_config --bindir
        return 0
    fi
    if command -v initdb >/dev/null; then
        dirname "$(command -v initdb)"
    fi
    return 0
}

# `require_tools SCRIPT TOOL...`: exits with one line on stderr naming what
# is missing and the command that installs it. A PostgreSQL tool is named
# `postgresql:initdb`.
require_tools() {
    local script=$1 tool missing=()
    shift
    for tool in "$@"; do
        case $tool in
        postgresql:*) [[ -n $(pg_bin_dir) ]] || missing+=("PostgreSQL (${tool#postgresql:})") ;;
        *) [[ -n $(tool_path "$tool") ]] || missing+=("$tool") ;;
        esac
    done
    if ((${#missing[@]} > 0)); then
        local list
        list=$(printf '%s, ' "${missing[@]}")
        echo "$script: missing ${list%, }; run scripts/provision" >&2
        exit 1
    fi
}
