#!/usr/bin/env bash
# Ollama for the "Ollama" dev container (.devcontainer/ollama/devcontainer.json).
#
#   ollama.sh install   install Ollama once (onCreateCommand; kept by a Codespaces prebuild)
#   ollama.sh start     install if still missing, start `ollama serve` in the background and
#                       pull $OLLAMA_EMBEDDING_MODEL if it is not here yet (postStartCommand,
#                       on every start of the container)
#
# The server's log: $OLLAMA_LOG, by default ~/.ollama/serve.log.
set -euo pipefail

URL="http://127.0.0.1:11434"
LOG="${OLLAMA_LOG:-$HOME/.ollama/serve.log}"

serving() { curl -fsS --max-time 2 "$URL/api/version" >/dev/null 2>&1; }

install() {
    if command -v ollama >/dev/null 2>&1; then
        echo "Ollama is installed: $(ollama --version 2>/dev/null | tail -n 1)"
        return
    fi
    # The official script unpacks a .tar.zst archive and stops when the zstd command is missing,
    # which it is in this image.
    if ! command -v zstd >/dev/null 2>&1; then
        sudo apt-get update -q
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends zstd
    fi
    # No systemd in a dev container: the script installs the program and says it cannot start a
    # service; `start` below runs the server instead.
    curl -fsSL https://ollama.com/install.sh | sh
}

serve() {
    if serving; then
        echo "Ollama is already serving on $URL."
        return
    fi
    mkdir -p "$(dirname "$LOG")"
    # setsid + nohup, every stream redirected: the server must outlive the lifecycle command's
    # shell, which is ended as soon as this script returns.
    setsid --fork nohup ollama serve >>"$LOG" 2>&1 </dev/null
    for _ in $(seq 1 60); do
        if serving; then
            echo "Ollama is serving on $URL (log: $LOG)."
            return
        fi
        sleep 1
    done
    echo "Ollama did not answer on $URL within 60 s; its log is $LOG." >&2
    return 1
}

pull() {
    local model="${OLLAMA_EMBEDDING_MODEL:?OLLAMA_EMBEDDING_MODEL is not set}"
    if ollama show "$model" >/dev/null 2>&1; then
        echo "$model is already here."
        return
    fi
    echo "Downloading $model (some hundreds of MB; the editor can be used meanwhile)..."
    # Bounded, so that a stalled download ends with a message instead of running forever; the
    # next start of the container tries again, or run: ollama pull $model
    timeout 30m ollama pull "$model"
}

case "${1:-}" in
    install) install ;;
    start) install && serve && pull ;;
    *) echo "usage: $0 install|start" >&2; exit 2 ;;
esac
