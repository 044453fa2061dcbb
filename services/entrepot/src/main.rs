//! The `entrepot` binary.
fn main() {}
