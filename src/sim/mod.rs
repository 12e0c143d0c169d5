//! The simulated cluster: a Kubernetes API server, its controllers and a kubelet, in
//! process, over real HTTP on 127.0.0.1 (DESIGN.md section 6).
//!
//! It exists to demo, test and benchmark kos. Nothing in kos's own code path may know it is
//! there: kos reaches it only through a kubeconfig, like any other cluster.
//!
//! Layout: [`store`] holds every object and the watch history; [`clock`] scales simulated
//! time; [`logs`] keeps container logs.

pub mod clock;
pub mod errors;
pub mod faults;
pub mod log_api;
pub mod logs;
pub mod store;
pub mod table;
