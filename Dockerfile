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

# ---- build: Debian 12 with CI's packages ----------------------------------
FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
# The one package list (scripts/packages.txt), as CI installs it.
COPY scripts/packages.txt /tmp/packages.txt
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends $(sed -e 's/#.*//' /tmp/packages.txt) \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# scripts/test.sh's configure line; only the daemon is built (tests run in CI).
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHPAD_WERROR=ON \
      -DHPAD_BUILD_TESTS=OFF -DHPAD_BUILD_BENCH=OFF \
 && cmake --build build -j2 --target hpad \
 && strip --strip-debug build/controller/hpad \
 && build/controller/hpad --version

# ---- runtime: slim Debian with only hpad's shared libraries ----------------
FROM debian:12-slim
ARG DEBIAN_FRONTEND=noninteractive
# The runtime halves of the -dev packages hpad links, as `ldd build/controller/hpad`
# lists them on Debian 12: cpprestsdk, OpenSSL 3, yaml-cpp, prometheus-cpp
# core (we render /metrics ourselves, no civetweb), cpp-httplib (+ brotli);
# ca-certificates for API servers with publicly signed certificates.
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
      ca-certificates libcpprest2.10 libssl3 libyaml-cpp0.7 \
      libprometheus-cpp-core1.0 libcpp-httplib0.11 libbrotli1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/controller/hpad /usr/local/bin/hpad
# Fail the image build, not the first pod start, if a library is missing.
RUN ! ldd /usr/local/bin/hpad | grep "not found" && /usr/local/bin/hpad --version
# Numeric non-root user (matches runAsUser in manifests/deployment.yaml), so
# Kubernetes can verify runAsNonRoot without a passwd lookup.
USER 65532:65532
EXPOSE 10257
ENTRYPOINT ["hpad"]
