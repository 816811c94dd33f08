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

step "unit, property and emulator conformance tests"
cargo test --workspace --exclude cwo-e2e --locked --no-fail-fast

step "end-to-end tests on the local kube-apiserver and the emulator"
# The local bed, never a cluster the caller's KUBECONFIG happens to point at.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
env -u KUBECONFIG cargo test -p cwo-e2e --locked --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "end-to-end tests failed" >&2; exit "$status"; }
# A run that never reached the API server must not pass: the e2e test binary reports the
# server it ran against, and must have run tests.
grep -q "kube-apiserver v1\." "$log" || { echo "the e2e tests did not report a kube-apiserver" >&2; exit 1; }
e2e_passed=$(grep -E '^test result: ok\. [0-9]+ passed' "$log" | awk '{print $4}' | sort -n | tail -1)
[ "${e2e_passed:-0}" -ge 30 ] || { echo "only ${e2e_passed:-0} end-to-end tests ran" >&2; exit 1; }

printf '\nall tests passed in %ss\n' "$((SECONDS - started))"
