//! `write_marks`: where in the WAL each user's last write is, so that a read of theirs
//! goes to a replica only once it has replayed it ([`dbkit::migrations::WriteMarks`]).

use dbkit::migrations::WriteMarks;

pub const MIGRATION: WriteMarks = WriteMarks::named("m20261204_000018_create_write_marks");
