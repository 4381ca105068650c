#!/usr/bin/env bash
# The GPU side of bench/embedding_server_gpu.py, in two stages (what travels to the GPU box is capped,
# so the e5 GGUF goes in two halves):
#   bash bench/embedding_server_gpu.sh build DIR   # DIR: lltrim.tar.xz (llama.cpp as vendored in
#                                                  # llama-cpp-python 0.3.36's sdist, docs/models/tests
#                                                  # and other backends left out), e5.part (first half),
#                                                  # e5.sha256, in/texts.json; starts the CUDA build
#   bash bench/embedding_server_gpu.sh serve DIR OUT  # DIR: e5.part (second half); waits for the build,
#                                                  # serves the GGUF on loopback, runs the client
set -euo pipefail
WORK=/tmp/embedding-gpu
HERE=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in
  build)
    mkdir -p "$WORK" && cp -r "$2"/* "$WORK"/ && cd "$WORK"
    mv e5.part e5.gguf
    python3 -c "import tarfile; tarfile.open('lltrim.tar.xz').extractall('.')"
    nvidia-smi -L; nvcc --version | tail -1; cmake --version | head -1
    # one architecture (sm_90, the H200), no FlashAttention kernels, no NCCL: the build is minutes, not tens
    setsid nohup bash -c 'cmake -S lltrim -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=ON \
        -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_CUDA_FA=OFF -DGGML_CUDA_NCCL=OFF -DGGML_NATIVE=OFF \
        -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF > cmake.log 2>&1 \
      && cmake --build build --target llama-server -j 16 > build.log 2>&1; echo $? > build.rc' \
      > /dev/null 2>&1 < /dev/null &
    sleep 20; tail -3 cmake.log || true
    ;;
  serve)
    OUT=$3; cd "$WORK"
    cat "$HERE/$2/e5.part" >> e5.gguf
    [ "$(sha256sum e5.gguf | cut -c1-64)" = "$(cat e5.sha256)" ] || { echo "e5.gguf: sha256 differs"; exit 1; }
    started=$(date +%s)
    while [ ! -f build.rc ]; do sleep 5; done
    echo "build waited $(( $(date +%s) - started )) s, rc $(cat build.rc)"; tail -3 build.log; cp build.log cmake.log "$OUT"/ || true
    [ "$(cat build.rc)" = 0 ] || exit 1
    build/bin/llama-server -m e5.gguf --embedding --pooling mean -ngl 99 -c 8192 -np 8 -b 8192 -ub 8192 \
      --host 127.0.0.1 --port 8081 --alias e5 > "$OUT/server.log" 2>&1 &
    for _ in $(seq 120); do
      python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8081/health', timeout=2)" 2>/dev/null && break; sleep 1
    done
    python3 "$HERE/bench/embedding_server_gpu.py" client http://127.0.0.1:8081/v1 "$WORK/in" "$OUT/gpu"
    nvidia-smi --query-gpu=name,memory.used,driver_version --format=csv > "$OUT/nvidia-smi.csv"
    ;;
  *) echo "usage: $0 build DIR | serve DIR OUT" >&2; exit 2 ;;
esac
