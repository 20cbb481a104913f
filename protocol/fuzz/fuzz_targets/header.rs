//! Typed headers: the input is a frame; its ext map goes through the typed header of every
//! request code, and what decodes must re-encode to the same header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::command::ExtFields;
use protocol::frame::FRAME_BYTES_MAX_DEFAULT;
use protocol::header::RequestHeader;
use protocol::RemotingCommand;

fuzz_target!(|data: &[u8]| {
    let Ok((command, _)) = RemotingCommand::decode(data, FRAME_BYTES_MAX_DEFAULT) else {
        return;
    };
    let codes = [
        command.code,
        10,
        11,
        12,
        14,
        15,
        17,
        21,
        29,
        30,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        38,
        39,
        40,
        41,
        42,
        202,
        203,
        204,
        207,
        208,
        212,
        215,
        220,
        222,
        300,
        307,
        309,
        310,
        320,
    ];
    for code in codes {
        if let Ok(Some(header)) = RequestHeader::decode(code, command.ext_fields.as_ref()) {
            let mut written = ExtFields::new();
            header.encode(&mut written);
            assert_eq!(
                RequestHeader::decode(code, Some(&written)),
                Ok(Some(header))
            );
        }
    }
});
