#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, unit and property tests, the AWS emulator's
# conformance tests, and the end-to-end tests on a real local kube-apiserver and the emulator.
# Builds the test bed's Kubernetes, etcd and helm binaries first when they are not cached yet.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }
started=$SECONDS

step "test bed binaries (built from Go modules on first use, then cached)"
bash e2e/bed/build-tools.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (unit, property, emulator conformance, end to end)"
cargo test --workspace --locked --no-fail-fast

printf '\nall tests passed in %ss\n' "$((SECONDS - started))"
