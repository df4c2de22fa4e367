//! The integration tests: one binary, one module per area. Every response the suite receives is
//! checked against the OpenAPI document (see `support`).

#![allow(clippy::expect_used, reason = "setup says what failed with expect(); a panic fails the test")]

mod architecture;
mod boundaries;
mod calendar;
mod cli;
mod conditional;
mod contract;
mod event_requests;
mod events;
mod feeds;
mod hardening;
mod idempotency;
mod initiatives;
mod instances;
mod lists;
mod metrics;
mod openapi;
mod postgres;
mod programs;
mod public_internet;
mod relations;
mod reliability;
mod seed;
mod server;
mod structured_data;
mod support;
