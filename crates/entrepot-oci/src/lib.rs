//! Pure oci protocol parsing and validation (no I/O).
