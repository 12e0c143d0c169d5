//! kos — Kubernetes Object Status.
//!
//! Applies Kubernetes manifests and follows every applied object and its children until the
//! rollout has succeeded, failed or run out of time. The library holds everything; `main.rs`
//! only parses the command line and maps outcomes to exit codes.
//!
//! Data flows one way (see ARCHITECTURE.md):
//! `manifest` → `apply` → `watch` (cluster → [`model::World`]) → `tracker` (verdict) →
//! front ends (`ui`, plain, json). `status` is the pure rule engine they all share. The
//! simulated cluster is the `kos-sim` crate, reached only over HTTP(S).

pub mod apply;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod duration;
pub mod exit;
pub mod gauge;
pub mod headless;
pub mod held;
pub mod helm;
pub mod manifest;
pub mod model;
pub mod output;
pub mod rollouts;
pub mod status;
pub mod tracker;
pub mod ui;
pub mod watch;
