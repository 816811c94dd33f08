//! End-to-end tests against a real kube-apiserver: one test binary, so one bed
//! ([`cwo_e2e::Bed::shared`]) serves every test in it.

mod corpus;
mod fixture_manifests;
mod harness;
mod project_manifests;
