# Entrepôt's everyday commands. `just --list` shows them; each is a plain cargo command underneath.

# Run the server on the embedded default (SQLite and blobs in ./data).
serve *ARGS:
    cargo run --release -- serve {{ARGS}}

# The test suite (PostgreSQL half skipped with a warning when none answers; CI requires it).
test:
    cargo test --workspace

# What CI runs: PostgreSQL started if needed, fmt, clippy, tests.
ci:
    bash .ci/run

fmt:
    cargo fmt --all

lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Benchmarks (see docs/benchmarks.md).
bench:
    cargo bench -p entrepot-service
