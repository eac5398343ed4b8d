# The gateway's container image: the static binary on distroless/static
# (CA certificates and time zones, no shell, no package manager), run as an
# unprivileged user. The image expects a read-only root filesystem: the
# only places it writes are TMPDIR (multipart uploads and import workbooks
# spooled to disk; mount a tmpfs) and MEDIA_DIR (uploaded media with
# STORAGE=local; mount a volume, or use STORAGE=s3). compose.yaml shows
# both.
#
#   docker build -t partsmarket/gateway .
#   docker run --read-only --tmpfs /tmp -e DATABASE_URL=... partsmarket/gateway

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The same script container_test.go runs: what the test checks is what
# ships.
RUN sh scripts/build-static.sh /out/gateway && mkdir -p /out/media

FROM gcr.io/distroless/static-debian12:nonroot
# nonroot is uid and gid 65532. The media directory is created owned by
# it, so that a named volume mounted there starts writable.
COPY --from=build /out/gateway /usr/local/bin/gateway
COPY --from=build --chown=65532:65532 /out/media /data/media
USER 65532:65532
WORKDIR /
ENV ENV=production \
    PORT=8080 \
    TMPDIR=/tmp \
    MEDIA_DIR=/data/media
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/gateway"]
CMD ["serve"]
