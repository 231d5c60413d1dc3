#!/usr/bin/env bash
# radnb's entry point. Everything sets itself up on a fresh machine:
#   ./dev.sh lab        create the environment, generate the demo cohort, open the tutorials (en/, zh/)
#   ./dev.sh test       create the environment and run the whole test suite
#   ./dev.sh notebooks  run every tutorial (English and Chinese) headless, render it to HTML (release check)
#   ./dev.sh setup      only create/refresh the environment (.venv)
#   ./dev.sh messages   refresh radnb's Chinese message catalogue from the code, compile it (Babel)
# Extra arguments go to JupyterLab (lab), pytest (test) or `radnb notebooks` (notebooks).
set -euo pipefail
cd "$(dirname "$0")"
UV_VERSION=0.13.8

say() { printf '\033[1mradnb:\033[0m %s\n' "$*" >&2; }

find_uv() {
    if [ -x .tools/bin/uv ]; then UV=.tools/bin/uv; return; fi
    local py
    py=$(command -v python3.11 || command -v python3 || command -v python || true)
    if [ -n "$py" ] && "$py" -m venv .tools >/dev/null 2>&1 \
        && .tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"; then
        say "installed uv $UV_VERSION (Python package manager) into .tools/"
        UV=.tools/bin/uv
    elif command -v uv >/dev/null 2>&1; then
        UV=$(command -v uv)
    else
        say "could not install uv: install Python 3.11+ with its venv module (e.g. apt-get install python3-venv) or uv itself, then run this again."
        exit 1
    fi
}

setup() {
    find_uv
    say "setting up the environment in .venv (pinned by uv.lock) ..."
    # pyradiomics' source release needs numpy at build time: pyproject.toml gives uv those
    # build dependencies ([tool.uv.extra-build-dependencies]).
    # --compile-bytecode: every kernel, worker and command then starts from compiled modules,
    # also where PYTHONDONTWRITEBYTECODE is set (uv does not write .pyc files by default).
    "$UV" sync --locked --all-extras --quiet --compile-bytecode
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
    setup)
        setup ;;
    lab)
        setup
        say "preparing the demo cohort (generated once, about a minute) ..."
        .venv/bin/python -m radnb demo
        args=(--ServerApp.root_dir=notebooks)
        [ "$(id -u)" = 0 ] && args+=(--allow-root)
        if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "$(uname)" != Darwin ]; then
            args+=(--no-browser)
            say "no screen found: open the http://127.0.0.1:... URL printed below in your browser."
        fi
        say "starting JupyterLab on the tutorials (Ctrl+C twice to stop) ..."
        exec .venv/bin/jupyter lab "${args[@]}" "$@" ;;
    test)
        setup
        exec .venv/bin/python -m pytest "$@" ;;
    messages)
        setup
        # msgids are the English texts marked with _(), tr(), N_() or ngettext() in radnb/ and
        # passed to radnb.tr() / radnb.say() in the English tutorials' code cells (see
        # radnb/locale/babel.cfg); new ones arrive with an empty msgstr: translate them in the
        # .po, then run this again.
        pot=$(mktemp --suffix=.pot)
        .venv/bin/pybabel extract --no-location --sort-output --omit-header -k tr -k say -k N_ \
            -F radnb/locale/babel.cfg --ignore-dirs '.* __pycache__ node_modules _html' \
            --project radnb -o "$pot" .
        .venv/bin/pybabel update --no-fuzzy-matching --ignore-obsolete --width 100 \
            -i "$pot" -d radnb/locale -D radnb -l zh
        rm -f "$pot"
        .venv/bin/pybabel compile --statistics -d radnb/locale -D radnb -l zh ;;
    notebooks)
        setup
        exec .venv/bin/python -m radnb notebooks --html _html "$@" ;;
    *)
        sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
        [ "$cmd" = help ] || exit 2 ;;
esac
