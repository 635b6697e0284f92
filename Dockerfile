# SPDX-License-Identifier: BSD-2-Clause
# xflow: build the Debian package against the runtime image's exact nginx,
# then a slim image with nginx, the package (the module, xflow-spool-dump,
# the licence) and an example configuration.
#
#   docker build --build-arg XFLOW_VERSION="$(./version.sh)" -t xflow .
#   docker run -e KAFKA_BROKERS=kafka:9092 -p 8080:8080 xflow

ARG DEBIAN=bookworm

FROM debian:${DEBIAN} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        make ca-certificates
WORKDIR /src
COPY . .
# The build context has no .git (.dockerignore): version.sh reads the
# version and commit from .version, written from the build argument
# (without it: debian/changelog's version, commit "unknown").
ARG XFLOW_VERSION=
RUN if [ -n "$XFLOW_VERSION" ]; then echo "$XFLOW_VERSION" > .version; fi
# the same targets CI runs: dependencies, the unit suites, the package
RUN make deps && make unit-plain && make deb

FROM debian:${DEBIAN}-slim
ENV DEBIAN_FRONTEND=noninteractive
# nginx from the same Debian release as the build stage (the module was
# compiled against its source tree, nginx-dev) and the package built
# there.  No library is listed here: apt-get installs the package's
# Depends, which dpkg-shlibdeps derived from what the module links, and
# make check-deploy fails when a library the module needs would be
# missing from this stage.
COPY --from=build /src/build/deb/libnginx-mod-http-xflow_*.deb /tmp/
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        nginx /tmp/libnginx-mod-http-xflow_*.deb \
    && rm -rf /var/lib/apt/lists/* /tmp/libnginx-mod-http-xflow_*.deb \
    && rm -f /etc/nginx/sites-enabled/default
LABEL org.opencontainers.image.title="xflow" \
      org.opencontainers.image.licenses="BSD-2-Clause"
COPY docs/examples/nginx.conf /etc/xflow/nginx.conf.in
ENV KAFKA_BROKERS=kafka:9092
EXPOSE 8080
STOPSIGNAL SIGQUIT
# The hash key is made at first start, never in the image: 32 random bytes
# as 64 hex characters, readable by root only (the master reads it).
CMD ["/bin/sh", "-c", "mkdir -p /etc/xflow \
 && { [ -s /etc/xflow/hash.key ] || (umask 077 \
      && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' \
         > /etc/xflow/hash.key); } \
 && chmod 0400 /etc/xflow/hash.key \
 && sed \"s|@KAFKA_BROKERS@|$KAFKA_BROKERS|\" /etc/xflow/nginx.conf.in \
         > /etc/nginx/nginx.conf \
 && exec nginx -g 'daemon off;'"]
