//! Property tests of feed reading: dates in every form feeds write and in impossible ones,
//! and RSS/Atom documents built from generated items, then cut, unclosed or damaged.
//! `PROPTEST_CASES` sets the number of cases (proptest's 256 by default).

mod dates;
mod documents;
