# The tracer image: seccomp-tracer, static, alone in a FROM scratch image (docs/design.md, "The tracer").
#
# Offline, as CI builds it (tests/containers/build-images makes the builder image first):
#   tracer-image/build-image            (or: podman build --pull=never -t seccomp-tracer .)
# Anywhere else, from Debian's own image:
#   docker build --build-arg BUILDER_IMAGE=docker.io/library/debian:bookworm -t seccomp-tracer .
#
# BUILDER_IMAGE  a Debian 12 (bookworm) image; the packages below are installed when missing.
# VERSION        the image's version label; a test keeps it equal to project(VERSION) in CMakeLists.txt.
# SOURCE         where the source lives (the image's source label).
ARG BUILDER_IMAGE=localhost/kubectl-seccomp/bookworm:latest

FROM ${BUILDER_IMAGE} AS builder
# The local builder image already has all of these (no network needed); debian:bookworm does not.
RUN set -e; \
    if ! command -v cmake >/dev/null || ! command -v ninja >/dev/null || ! command -v g++ >/dev/null \
       || [ ! -e /usr/include/rapidjson/document.h ]; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        g++ make cmake ninja-build rapidjson-dev; \
      rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
# The sources (.dockerignore keeps build trees, tests and docs out).
COPY . ./
# The tracer alone: it needs nothing but the compiler and RapidJSON's headers.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DKSC_TESTS=OFF -DKSC_TRACER_STATIC=ON \
      -DKSC_BUILD_PLUGIN=OFF \
      >/dev/null \
 && cmake --build /build --target seccomp-tracer -j"$(nproc)"
# /out is the final image's root: the stripped tracer, and the licence when the repository has one.
# (CMakeLists.txt is there only so the pattern never matches nothing, which COPY refuses.)
COPY CMakeLists.txt LICENS[E] /out/
RUN set -e; \
    rm /out/CMakeLists.txt; \
    tracer=$(find /build -type f -name seccomp-tracer -perm -u+x | head -n1); \
    test -n "$tracer"; \
    strip --strip-all -o /out/seccomp-tracer "$tracer"; \
    if readelf -l /out/seccomp-tracer | grep -q 'program interpreter'; then \
      echo "seccomp-tracer is not static" >&2; exit 1; fi; \
    size=$(stat -c %s /out/seccomp-tracer); \
    echo "seccomp-tracer: $size bytes stripped"; \
    if [ "$size" -gt 1572864 ]; then echo "seccomp-tracer is over 1.5 MiB" >&2; exit 1; fi; \
    /out/seccomp-tracer --version

FROM scratch
ARG VERSION=0.1.0
ARG SOURCE=https://github.com/kubectl-seccomp/kubectl-seccomp
LABEL org.opencontainers.image.title="seccomp-tracer" \
      org.opencontainers.image.description="Records the syscalls of a container's processes with ptrace (kubectl seccomp record's ephemeral container)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}"
COPY --from=builder /out/ /
ENTRYPOINT ["/seccomp-tracer"]
