//! Fusion (placeholder while sentiment is built).
