//! End to end: `tune` and `run` against an in-process RocketMQ-protocol broker on loopback,
//! producing valid reports and plots.

mod support;

use loadgen::config::{Load, SendMode, Via, Workload};
use loadgen::peak::PeakRule;
use loadgen::report::{Mode, Phase, Report};
use loadgen::workflow::{self, RampPlan, Settings};

use support::MockBroker;

/// The mock answers loadgen's raw requests only (no heartbeats or client bookkeeping), so
/// the workflow tests drive it through the raw path; the in-process broker test below uses
/// the client crate.
fn workload(broker: &MockBroker) -> Workload {
    Workload {
        namesrv: broker.address.to_string(),
        via: Via::Raw,
        queues: 4,
        message_bytes: 256,
        producers: 2,
        consumers: 1,
        duration_s: 2,
        ..Workload::default()
    }
}

fn settings(workload: Workload, out: &std::path::Path) -> Settings {
    let mut settings = Settings::new(workload);
    settings.out_dir = out.to_path_buf();
    settings.quiet = true;
    settings.command_line = vec!["loadgen".to_owned(), "test".to_owned()];
    settings
}

#[test]
fn tune_ramps_finds_a_peak_holds_and_writes_report_and_plot() {
    let broker = MockBroker::start();
    let out = tempfile::tempdir().expect("tempdir");
    let mut settings = settings(workload(&broker), out.path());
    settings.ramp = Some(RampPlan {
        levels: vec![
            Load::Concurrency { requests: 1 },
            Load::Concurrency { requests: 2 },
            Load::Concurrency { requests: 4 },
        ],
        step_s: 2,
        hold_s: 2,
        rule: PeakRule::default(),
    });
    let finished = workflow::execute(settings).expect("tune");
    let report = &finished.report;
    assert_eq!(report.mode, Mode::Tune);
    assert!(!report.steps.is_empty() && report.steps.len() <= 3);
    assert!(report.steps.iter().all(|s| s.phase == Phase::Ramp));
    let peak = report
        .peak
        .as_ref()
        .expect("a peak is always declared by the end of the ramp");
    let hold = report.hold.as_ref().expect("hold after the peak");
    assert_eq!(hold.phase, Phase::Hold);
    assert_eq!(hold.load, peak.load);
    assert!(
        report.steps[0].messages_per_s > 0.0,
        "{:?}",
        report.steps[0]
    );
    assert_eq!(report.total.send_failed + report.total.response_failed, 0);
    assert!(
        report.total.consumed_per_s > 0.0,
        "the consumer read what was sent"
    );
    assert!(report.total.end_to_end.p99_us > 0);
    assert!(report.seconds.len() >= report.steps.len() * 2);
    assert!(
        report.seconds.iter().any(|s| s.host.is_some()),
        "host sampled each second"
    );
    assert!(report.bottleneck.is_some());
    assert!(!report.host_check.is_empty());
    assert_eq!(broker.stored_messages() as u64, report.total.requests_ok);

    // The report on disk is the same report (schema round trip), and the plot marks steps.
    let read_back = Report::read(&finished.json_path).expect("read report");
    assert_eq!(&read_back, report);
    let svg = std::fs::read_to_string(&finished.svg_path).expect("svg");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<polyline").count(), 2, "throughput and p99");
    assert!(svg.contains("hold c="), "hold labelled");
    assert!(svg.contains("stroke-dasharray"), "steps marked");

    let table = loadgen::compare::render_comparison(&[
        ("a".to_owned(), read_back.clone()),
        ("b".to_owned(), read_back),
    ]);
    assert!(table.contains("(1.00x)"), "{table}");
    assert!(table.contains("ramp level"), "{table}");
    let lines = workflow::summary_lines(report);
    assert!(
        lines.iter().any(|l| l.starts_with("throughput: ")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("[Complete] Send Total: ")),
        "{lines:?}"
    );
}

#[test]
fn run_with_count_batch_and_open_loop_sends_exactly_the_count() {
    let broker = MockBroker::start();
    let out = tempfile::tempdir().expect("tempdir");
    let workload = Workload {
        batch_messages: 10,
        count: 2000,
        duration_s: 0,
        consumers: 0,
        tag_count: 3,
        keys: true,
        load: Load::Rate {
            requests_per_s: 200.0,
        },
        ..workload(&broker)
    };
    let finished = workflow::execute(settings(workload, out.path())).expect("run");
    let report = &finished.report;
    assert_eq!(report.mode, Mode::Run);
    assert_eq!(report.total.requests_ok, 200);
    assert_eq!(broker.stored_messages(), 2000);
    assert!(report.steps[0].measured_s >= 0.0);
}

#[test]
fn oneway_sends_without_responses() {
    let broker = MockBroker::start();
    let out = tempfile::tempdir().expect("tempdir");
    let workload = Workload {
        send_mode: SendMode::Oneway,
        count: 500,
        duration_s: 0,
        consumers: 0,
        load: Load::Concurrency { requests: 8 },
        ..workload(&broker)
    };
    let finished = workflow::execute(settings(workload, out.path())).expect("run");
    assert_eq!(finished.report.total.requests_ok, 500);
    // Oneway requests are not acknowledged; give the mock a moment to store the last ones.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(broker.stored_messages(), 500);
}

#[test]
fn remote_targets_are_refused_without_the_flag() {
    let out = tempfile::tempdir().expect("tempdir");
    let workload = Workload {
        namesrv: "10.255.255.1:9876".to_owned(),
        ..Workload::default()
    };
    let error = workflow::execute(settings(workload, out.path()))
        .err()
        .expect("refused");
    assert!(error.to_string().contains("--allow-remote"), "{error}");
}

/// A counted run through the client crate against our in-process broker: batches, tags,
/// keys; every message is acknowledged once and consumed once.
#[test]
fn client_path_run_sends_and_consumes_exactly_the_count() {
    let store = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let handle =
        broker::spawn(broker::BrokerConfig::for_tests(store.path())).expect("broker starts");
    let namesrv = handle.namesrv_addrs()[0].to_string();
    let out = tempfile::tempdir().expect("tempdir");
    let workload = Workload {
        namesrv,
        via: Via::Client,
        topic: "LoadgenClientCount".to_owned(),
        queues: 4,
        message_bytes: 512,
        batch_messages: 10,
        producers: 2,
        consumers: 2,
        tag_count: 3,
        keys: true,
        count: 3000,
        duration_s: 0,
        load: Load::Concurrency { requests: 8 },
        ..Workload::default()
    };
    let finished = workflow::execute(settings(workload, out.path())).expect("run");
    let total = &finished.report.total;
    assert_eq!(total.send_failed + total.response_failed, 0, "{total:?}");
    assert_eq!(total.requests_ok, 300, "{total:?}");
    assert_eq!(total.messages_ok, 3000, "{total:?}");
    assert_eq!(
        total.consumed, 3000,
        "every message consumed once: {total:?}"
    );
    assert!(
        finished
            .report
            .target
            .description
            .starts_with("client crate"),
        "{}",
        finished.report.target.description
    );
    handle.shutdown().expect("broker stops");
}

/// `tune` against our broker started in process with `broker::spawn` (embedded name server,
/// 2 unpinned shards), through the client crate (the default path). The store lives under the target directory: O_DIRECT needs a real
/// filesystem, which /tmp may not be.
#[test]
fn tune_against_the_in_process_broker() {
    let store = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let handle =
        broker::spawn(broker::BrokerConfig::for_tests(store.path())).expect("broker starts");
    let namesrv = handle
        .namesrv_addrs()
        .first()
        .expect("embedded name server")
        .to_string();
    let out = tempfile::tempdir().expect("tempdir");
    let workload = Workload {
        namesrv,
        // A topic of its own with few queues keeps the run short.
        topic: "LoadgenEndToEnd".to_owned(),
        queues: 4,
        message_bytes: 1024,
        producers: 2,
        consumers: 1,
        ..Workload::default()
    };
    let mut settings = settings(workload, out.path());
    settings.ramp = Some(RampPlan {
        levels: vec![
            Load::Concurrency { requests: 1 },
            Load::Concurrency { requests: 8 },
            Load::Concurrency { requests: 64 },
        ],
        step_s: 2,
        hold_s: 2,
        rule: PeakRule::default(),
    });
    let finished = workflow::execute(settings).expect("tune");
    let report = &finished.report;
    assert!(report.peak.is_some() && report.hold.is_some());
    assert!(report.total.requests_ok > 0);
    assert_eq!(
        report.total.send_failed + report.total.response_failed,
        0,
        "{:?}",
        report.total
    );
    assert!(
        report.total.consumed_per_s > 0.0,
        "the consumer read what was sent"
    );
    assert_eq!(
        Report::read(&finished.json_path).expect("read back"),
        *report
    );
    handle.shutdown().expect("broker stops");
}
