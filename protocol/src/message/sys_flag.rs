//! `sysFlag` bits of a stored record (`MessageSysFlag.java`).
//!
//! ```text
//! bit:  10..8         7            6          5            4           3..2        1          0
//!      +-------------+------------+----------+------------+-----------+-----------+----------+------------+
//!      | compression | INNER_BATCH| NEED_    | STOREHOST  | BORNHOST  | tx type   | MULTI_   | COMPRESSED |
//!      | type        |            | UNWRAP   | _V6        | _V6       | 0,4,8,C   | TAGS     |            |
//!      +-------------+------------+----------+------------+-----------+-----------+----------+------------+
//! ```

/// The body is compressed (zlib unless a compression type says otherwise).
pub const COMPRESSED: i32 = 0x1;
/// The `TAGS` property holds several tags.
pub const MULTI_TAGS: i32 = 0x2;
/// Mask of the transaction type bits.
pub const TRANSACTION_TYPE_MASK: i32 = 0xC;
/// Not a transactional message.
pub const TRANSACTION_NOT_TYPE: i32 = 0x0;
/// A half (prepared) transactional message.
pub const TRANSACTION_PREPARED: i32 = 0x4;
/// A committed transactional message.
pub const TRANSACTION_COMMIT: i32 = 0x8;
/// A rolled-back transactional message.
pub const TRANSACTION_ROLLBACK: i32 = 0xC;
/// The born host is IPv6 (16 + 4 bytes instead of 4 + 4).
pub const BORNHOST_V6: i32 = 0x10;
/// The store host is IPv6 (16 + 4 bytes instead of 4 + 4).
pub const STOREHOST_V6: i32 = 0x20;
/// The record wraps an inner batch that needs unwrapping.
pub const NEED_UNWRAP: i32 = 0x40;
/// The record is an inner batch (batch consume queue).
pub const INNER_BATCH: i32 = 0x80;
/// Mask of the compression type bits (8..10).
pub const COMPRESSION_TYPE_MASK: i32 = 0x700;
/// LZ4 compression type.
pub const COMPRESSION_LZ4: i32 = 0x100;
/// ZSTD compression type.
pub const COMPRESSION_ZSTD: i32 = 0x200;
/// ZLIB compression type.
pub const COMPRESSION_ZLIB: i32 = 0x300;

/// The transaction type bits of `sys_flag`.
#[must_use]
pub fn transaction_type(sys_flag: i32) -> i32 {
    sys_flag & TRANSACTION_TYPE_MASK
}

/// True for PREPARED and ROLLBACK records, which get queue offset 0 and are not dispatched to a
/// consume queue.
#[must_use]
pub fn is_invisible_transaction(sys_flag: i32) -> bool {
    matches!(
        transaction_type(sys_flag),
        TRANSACTION_PREPARED | TRANSACTION_ROLLBACK
    )
}
