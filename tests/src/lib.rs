//! End-to-end test support shared by the axum and actix test suites: the gateway sandbox,
//! apps built with each framework crate, a buyer that follows a payment over real HTTP,
//! the scenarios every app must pass, clients that stall a server, and a real browser.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod apps;
pub mod browser;
pub mod buyer;
pub mod databases;
pub mod guard_contract;
pub mod harness;
pub mod ledger_contract;
pub mod redis_server;
pub mod scenarios;
pub mod slow_clients;
