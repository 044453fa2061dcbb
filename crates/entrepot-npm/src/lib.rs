//! Pure npm protocol parsing and validation (no I/O).
