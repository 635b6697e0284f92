# xflow: build the module against the runtime image's exact nginx, then a
# slim image with nginx, the runtime libraries, the module and an example
# configuration.
#
#   docker build -t xflow .
#   docker run -e KAFKA_BROKERS=kafka:9092 -p 8080:8080 xflow

ARG DEBIAN=bookworm

FROM debian:${DEBIAN} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        make ca-certificates
WORKDIR /src
COPY . .
# the same targets CI runs: dependencies, the module, the unit suites
RUN make deps && make module && make unit-plain

FROM debian:${DEBIAN}-slim
ENV DEBIAN_FRONTEND=noninteractive
# nginx from the same Debian release as the build stage: the module was
# compiled against this nginx's source tree (nginx-dev), --with-compat
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        nginx librdkafka1 libzstd1 zlib1g libssl3 libmaxminddb0 \
    && rm -rf /var/lib/apt/lists/* \
    && rm -f /etc/nginx/sites-enabled/default
COPY --from=build /src/build/ngx_xflow_module.so /usr/lib/nginx/modules/ngx_http_xflow_module.so
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
