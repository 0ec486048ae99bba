# hpad container image.
#
# No container engine exists on the machines hpad is developed on, so this
# file cannot be built there. Its build stage therefore does exactly what CI
# does (.ci/run): the same Debian 12 packages (scripts/packages.txt), then scripts/test.sh's
# configure and build commands (Ninja, RelWithDebInfo, -Werror), so every
# green CI run proves the steps below. Keep the package list and the cmake
# lines in sync with scripts/test.sh.
#
#   docker build -t hpad:0.1.0 .
#   docker run --rm hpad:0.1.0 --help
#
# The build stage's base image is an argument, so a reproducible build pins
# it by digest without editing this file:
#   docker build --build-arg BUILD_IMAGE=debian:12@sha256:<digest> -t hpad:0.1.0 .
# (`docker buildx imagetools inspect debian:12` prints the digest. None is
# recorded here: the development machines reach no container registry.)
ARG BUILD_IMAGE=debian:12

# ---- build: Debian 12 with CI's packages ----------------------------------
FROM ${BUILD_IMAGE} AS build
ARG DEBIAN_FRONTEND=noninteractive
# The one package list (scripts/packages.txt), as CI installs it.
COPY scripts/packages.txt /tmp/packages.txt
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends $(sed -e 's/#.*//' -e 's/@.*//' /tmp/packages.txt) \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# scripts/test.sh's configure line; only the daemon is built (tests run in CI).
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHPAD_WERROR=ON \
      -DHPAD_BUILD_TESTS=OFF -DHPAD_BUILD_BENCH=OFF \
 && cmake --build build -j2 --target hpad kubectl-hpad \
 && strip --strip-debug build/controller/hpad build/controller/kubectl-hpad \
 && build/controller/hpad --version

# ---- rootfs: hpad, exactly its ldd closure, the loader, CA certificates ----
# scripts/runtime-closure.sh copies what `ldd` resolves for hpad (cpprestsdk,
# OpenSSL 3, yaml-cpp, prometheus-cpp core, cpp-httplib, brotli, zlib,
# libstdc++, glibc) to the same paths, the dynamic loader the ELF header names
# (PT_INTERP, /lib64/ld-linux-x86-64.so.2 on amd64) and the CA bundle.
# tests/integration/manifests_test.cc runs the same script on the locally
# built hpad and checks the closure is complete.
FROM build AS rootfs
RUN scripts/runtime-closure.sh build/controller/hpad /rootfs \
 && install -m 0755 build/controller/kubectl-hpad /rootfs/usr/local/bin/kubectl-hpad \
 && chroot --userspec=65532:65532 /rootfs /usr/local/bin/hpad --version

# ---- runtime: nothing but /rootfs ------------------------------------------
# No shell, no package manager, no passwd file: only /rootfs above. `scratch`
# is no image to pin (the build stage's base is pinned by BUILD_IMAGE, top).
FROM scratch
COPY --from=rootfs /rootfs/ /
# OpenSSL's default verify file, for API servers with publicly signed certificates.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# Numeric non-root user (matches runAsUser in manifests/deployment.yaml), so
# Kubernetes can verify runAsNonRoot without a passwd lookup. The manifests
# mount the root filesystem read-only: hpad writes no file.
USER 65532:65532
EXPOSE 10257
ENTRYPOINT ["/usr/local/bin/hpad"]
