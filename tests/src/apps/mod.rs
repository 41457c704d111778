//! The apps under test, one per framework crate and style. Each serves the contract of
//! [`crate::harness::Flavor`]; a paid callback answers `200` with the text
//! `paid {order id}`.

pub mod actix;
pub mod axum;
