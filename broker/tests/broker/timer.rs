//! Timer messages over TCP: `TIMER_DELAY_MS` / `TIMER_DELIVER_MS` / `TIMER_DELAY_SEC`, the
//! horizon, and restart.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use broker::BrokerConfig;
use protocol::code::response;
use protocol::message::properties::keys;

use crate::common::{props, records, start_with, Client, Record};

/// Pull sysFlag FLAG_SUSPEND | FLAG_SUBSCRIPTION.
const SUSPEND: i32 = 6;

fn pull_until(client: &mut Client, topic: &str, count: usize) -> Vec<Record> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut got = Vec::new();
    while got.len() < count && Instant::now() < deadline {
        let offset = i64::try_from(got.len()).expect("small");
        let pulled = client.pull("tg", topic, 0, offset, SUSPEND, 3_000, Some("*"));
        if pulled.code == response::SUCCESS {
            got.extend(records(&pulled.body));
        }
    }
    got
}

fn epoch_ms() -> i64 {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(elapsed.as_millis()).expect("fits")
}

#[test]
fn timer_message_arrives_at_an_arbitrary_ms_delay() {
    let dir = crate::common::tempdir();
    let broker = start_with(BrokerConfig::for_tests(dir.path()));
    let mut client = Client::connect(broker.local_addr());
    let sent_at = Instant::now();
    let sent = client.send_message(
        "TimerTopic",
        0,
        b"t1",
        &props(&[("TIMER_DELAY_MS", "730"), ("KEYS", "tk")]),
    );
    let acked_at = Instant::now();
    assert_eq!(sent.code, response::SUCCESS, "{sent:?}");
    let got = pull_until(&mut client, "TimerTopic", 1);
    let arrived_at = Instant::now();
    assert_eq!(got.len(), 1);
    assert!(
        arrived_at - sent_at >= Duration::from_millis(680),
        "early: {:?}",
        arrived_at - sent_at
    );
    assert!(
        arrived_at - acked_at <= Duration::from_millis(1_730),
        "late: {:?}",
        arrived_at - acked_at
    );
    assert_eq!(got[0].body, b"t1");
    assert_eq!(got[0].property(keys::KEYS), Some("tk"));
    assert_eq!(got[0].property(keys::TIMER_DELAY_MS), None);
    assert!(got[0].property(keys::TIMER_OUT_MS).is_some());

    // Absolute deliver time; a later one sent first arrives second.
    let at = epoch_ms() + 900;
    let late = at.to_string();
    let early = (at - 500).to_string();
    for (body, deliver) in [(&b"second"[..], &late), (&b"first"[..], &early)] {
        let reply = client.send_message(
            "TimerAbsolute",
            0,
            body,
            &props(&[("TIMER_DELIVER_MS", deliver)]),
        );
        assert_eq!(reply.code, response::SUCCESS, "{reply:?}");
    }
    let got = pull_until(&mut client, "TimerAbsolute", 2);
    let bodies: Vec<_> = got.iter().map(|record| record.body.clone()).collect();
    assert_eq!(bodies, [b"first".to_vec(), b"second".to_vec()]);
    assert!(epoch_ms() >= at - 50, "second not before its deliver time");
}

#[test]
fn timer_past_the_horizon_is_illegal_and_delay_level_wins() {
    let dir = crate::common::tempdir();
    let mut config = BrokerConfig::for_tests(dir.path());
    config.timer_max_delay_sec = 10;
    config.message_delay_levels_ms = vec![200];
    let broker = start_with(config);
    let mut client = Client::connect(broker.local_addr());
    let reply = client.send_message("TimerFar", 0, b"x", &props(&[("TIMER_DELAY_SEC", "11")]));
    assert_eq!(reply.code, response::MESSAGE_ILLEGAL, "{reply:?}");
    let reply = client.send_message("TimerFar", 0, b"x", &props(&[("TIMER_DELAY_MS", "abc")]));
    assert_eq!(reply.code, response::MESSAGE_ILLEGAL, "{reply:?}");
    let both = props(&[("TIMER_DELAY_SEC", "9"), ("DELAY", "1")]);
    let reply = client.send_message("TimerFar", 0, b"level", &both);
    assert_eq!(reply.code, response::SUCCESS, "{reply:?}");
    let got = pull_until(&mut client, "TimerFar", 1);
    assert_eq!(got.len(), 1, "the 200 ms level, not the 9 s timer");
    assert_eq!(got[0].property(keys::TIMER_DELAY_SEC), None);
}

#[test]
fn timer_message_survives_restart_without_duplicates() {
    let dir = crate::common::tempdir();
    {
        let broker = start_with(BrokerConfig::for_tests(dir.path()));
        let mut client = Client::connect(broker.local_addr());
        let quick = client.send_message(
            "TimerRestart",
            0,
            b"quick",
            &props(&[("TIMER_DELAY_MS", "200")]),
        );
        assert_eq!(quick.code, response::SUCCESS);
        let slow = client.send_message(
            "TimerRestart",
            0,
            b"slow",
            &props(&[("TIMER_DELAY_MS", "1500")]),
        );
        assert_eq!(slow.code, response::SUCCESS);
        assert_eq!(pull_until(&mut client, "TimerRestart", 1).len(), 1);
        broker.shutdown().expect("clean shutdown");
    }
    let broker = start_with(BrokerConfig::for_tests(dir.path()));
    let mut client = Client::connect(broker.local_addr());
    let got = pull_until(&mut client, "TimerRestart", 2);
    let bodies: Vec<_> = got.iter().map(|record| record.body.clone()).collect();
    assert_eq!(bodies, [b"quick".to_vec(), b"slow".to_vec()]);
    std::thread::sleep(Duration::from_millis(300));
    let more = client.pull("tg", "TimerRestart", 0, 2, 4, 0, Some("*"));
    assert!(records(&more.body).is_empty(), "no duplicate: {more:?}");
}
