# Builds the operator image: a static-enough release binary on a distroless base, running as a
# non-root user with a read-only root filesystem (as the Helm chart sets it).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p cloudwatch-operator --bin cloudwatch-operator

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/cloudwatch-operator /usr/local/bin/cloudwatch-operator
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/cloudwatch-operator"]
CMD ["run"]
