//! Integration tests of the admin REST API against a real relay on 127.0.0.1.

mod common;

#[path = "api/auth.rs"]
mod auth;
#[path = "api/control.rs"]
mod control;
#[path = "api/harness.rs"]
mod harness;
#[path = "api/limits.rs"]
mod limits;
#[path = "api/routes.rs"]
mod routes;
