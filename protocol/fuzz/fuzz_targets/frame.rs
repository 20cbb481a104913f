//! Frame check + both header encodings: never panic; what decodes re-encodes and decodes
//! to the same command.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use protocol::frame::{self, FRAME_BYTES_MAX_DEFAULT};
use protocol::RemotingCommand;

fuzz_target!(|data: &[u8]| {
    let _ = frame::check(data, 256);
    let _ = frame::check(data, FRAME_BYTES_MAX_DEFAULT);
    if let Ok((command, consumed)) = RemotingCommand::decode(data, FRAME_BYTES_MAX_DEFAULT) {
        assert!(consumed <= data.len());
        let mut out = BytesMut::new();
        if command.encode(&mut out).is_ok() {
            let (again, _) = RemotingCommand::decode(&out, FRAME_BYTES_MAX_DEFAULT)
                .expect("a re-encoded frame decodes");
            assert_eq!(again.code, command.code);
            assert_eq!(
                again.ext_fields.unwrap_or_default(),
                command.ext_fields.unwrap_or_default()
            );
            assert_eq!(again.body, command.body);
        }
    }
});
