//! The administration REST API under /api/v3.
