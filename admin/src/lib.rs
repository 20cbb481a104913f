//! `mqadmin`: RocketMQ's admin sub-commands over the `client` crate.
//!
//! # Layout
//!
//! - [`cli`]: the clap command line (Java's sub-command names and short flags).
//! - [`topics`]: topic, cluster, broker and name-server commands.
//! - [`messages`]: group, offset and message commands.
//! - [`report`]: tables for people, JSON (`--json`) for scripts.
//!
//! [`run`] executes one parsed command; `main.rs` only parses, prints and exits with
//! [`CommandError::exit_code`].

pub mod cli;
pub mod messages;
pub mod report;
pub mod topics;

use std::time::Duration;

use client::admin::AdminClient;
use client::{ClientConfig, ClientError};
use protocol::code::response;

use crate::cli::{Cli, Command, Target};
use crate::report::Report;

/// A failed command with its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    pub exit_code: i32,
    pub message: String,
}

/// Exit code: the operation failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit code: bad usage.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: name server or broker unreachable.
pub const EXIT_UNREACHABLE: i32 = 3;
/// Exit code: not found.
pub const EXIT_NOT_FOUND: i32 = 4;

impl CommandError {
    #[must_use]
    pub fn usage(message: impl Into<String>) -> CommandError {
        CommandError {
            exit_code: EXIT_USAGE,
            message: message.into(),
        }
    }

    #[must_use]
    pub fn not_found(message: impl Into<String>) -> CommandError {
        CommandError {
            exit_code: EXIT_NOT_FOUND,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CommandError {}

impl From<ClientError> for CommandError {
    fn from(error: ClientError) -> CommandError {
        let exit_code = match &error {
            ClientError::NoNameServer | ClientError::InvalidArgument(_) => EXIT_USAGE,
            error if error.is_transport() => EXIT_UNREACHABLE,
            ClientError::NameServerUnreachable { .. } => EXIT_UNREACHABLE,
            ClientError::TopicNotExist { .. } | ClientError::BrokerNotFound { .. } => {
                EXIT_NOT_FOUND
            }
            ClientError::Response { code, .. }
                if matches!(
                    *code,
                    response::TOPIC_NOT_EXIST
                        | response::QUERY_NOT_FOUND
                        | response::SUBSCRIPTION_GROUP_NOT_EXIST
                        | response::CONSUMER_NOT_ONLINE
                ) =>
            {
                EXIT_NOT_FOUND
            }
            _ => EXIT_FAILED,
        };
        let message = match &error {
            ClientError::NameServerUnreachable { tried, .. } => {
                format!("cannot reach the name server ({tried}): {error}")
            }
            _ => error.to_string(),
        };
        CommandError { exit_code, message }
    }
}

/// Result of a command.
pub type CommandResult = Result<Report, CommandError>;

/// Runs one parsed command line.
///
/// # Errors
/// [`CommandError`] with the exit code to use.
pub async fn run(cli: Cli) -> CommandResult {
    let config = ClientConfig {
        namesrv_addr: cli.namesrv.clone(),
        request_timeout: Duration::from_millis(cli.timeout_ms.max(1)),
        connect_timeout: Duration::from_millis(cli.timeout_ms.clamp(1, 3000)),
        ..ClientConfig::default()
    };
    let admin = AdminClient::start(config.clone())?;
    let outcome = dispatch(&admin, &config, cli.command).await;
    admin.shutdown().await;
    outcome
}

async fn dispatch(admin: &AdminClient, config: &ClientConfig, command: Command) -> CommandResult {
    match command {
        Command::UpdateTopic {
            target,
            topic,
            read_queue_nums,
            write_queue_nums,
            perm,
            order,
        } => {
            topics::update_topic(
                admin,
                &target,
                &topic,
                read_queue_nums,
                write_queue_nums,
                perm,
                order,
            )
            .await
        }
        Command::DeleteTopic { topic, cluster } => {
            topics::delete_topic(admin, &topic, &cluster).await
        }
        Command::UpdateTopicPerm {
            target,
            topic,
            perm,
        } => topics::update_topic_perm(admin, &target, &topic, perm).await,
        Command::TopicRoute { topic } => topics::topic_route(admin, &topic).await,
        Command::TopicList { cluster } => topics::topic_list(admin, cluster.as_deref()).await,
        Command::TopicStatus { topic } => topics::topic_status(admin, &topic).await,
        Command::TopicClusterList { topic } => topics::topic_cluster_list(admin, &topic).await,
        Command::UpdateBrokerConfig { target, key, value } => {
            topics::update_broker_config(admin, &target, &key, &value).await
        }
        Command::GetBrokerConfig { target } => topics::get_broker_config(admin, &target).await,
        Command::ClusterList { cluster } => topics::cluster_list(admin, cluster.as_deref()).await,
        Command::BrokerStatus { target } => topics::broker_status(admin, &target).await,
        Command::UpdateKvConfig {
            namespace,
            key,
            value,
        } => topics::update_kv_config(admin, &namespace, &key, &value).await,
        Command::DeleteKvConfig { namespace, key } => {
            topics::delete_kv_config(admin, &namespace, &key).await
        }
        Command::WipeWritePerm { broker_name } => {
            topics::write_perm(admin, &broker_name, true).await
        }
        Command::AddWritePerm { broker_name } => {
            topics::write_perm(admin, &broker_name, false).await
        }
        Command::StatsAll { topic, active_only } => {
            topics::stats_all(admin, topic.as_deref(), active_only).await
        }
        other => messages::dispatch(admin, config, other).await,
    }
}

/// The broker addresses a `-b`/`-c` pair names.
///
/// # Errors
/// Usage error when neither is given; cluster lookup errors.
pub async fn target_addrs(
    admin: &AdminClient,
    target: &Target,
) -> Result<Vec<String>, CommandError> {
    match (&target.broker_addr, &target.cluster) {
        (Some(addr), _) => Ok(vec![addr.clone()]),
        (None, Some(cluster)) => {
            let addrs = admin
                .master_addrs(Some(cluster))
                .await
                .map_err(|error| match error {
                    ClientError::InvalidArgument(message) => CommandError::not_found(message),
                    other => other.into(),
                })?;
            if addrs.is_empty() {
                return Err(CommandError::not_found(format!(
                    "cluster {cluster} has no master"
                )));
            }
            Ok(addrs)
        }
        (None, None) => Err(CommandError::usage("give -b brokerAddr or -c clusterName")),
    }
}

/// Parses a time: milliseconds since the epoch, `now`, or `yyyy-MM-dd#HH:mm:ss:SSS` (UTC).
///
/// # Errors
/// Usage error for anything else.
pub fn parse_time(text: &str) -> Result<i64, CommandError> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("now") {
        return Ok(client::message::now_ms());
    }
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let bad = || {
        CommandError::usage(format!(
            "bad time {text:?}: use ms, now or yyyy-MM-dd#HH:mm:ss:SSS"
        ))
    };
    let (date, time) = text.split_once('#').ok_or_else(bad)?;
    let date: Vec<i64> = date
        .split('-')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let time: Vec<i64> = time
        .split(':')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let ([year, month, day], [hour, minute, second, milli]) = (date.as_slice(), time.as_slice())
    else {
        return Err(bad());
    };
    if !(1..=12).contains(month) || !(1..=31).contains(day) {
        return Err(bad());
    }
    let days = days_from_civil(*year, *month, *day);
    Ok((((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + milli)
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Formats ms since the epoch as `yyyy-MM-dd HH:mm:ss,SSS` (UTC).
#[must_use]
pub fn format_time(ms: i64) -> String {
    if ms <= 0 {
        return "-".to_owned();
    }
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02},{:03}",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        let ms = parse_time("2024-02-29#12:34:56:789").unwrap();
        assert_eq!(ms, 1_709_210_096_789);
        assert_eq!(format_time(ms), "2024-02-29 12:34:56,789");
        assert_eq!(parse_time("1000").unwrap(), 1000);
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("2024-13-01#00:00:00:000").is_err());
    }

    #[test]
    fn error_exit_codes() {
        let unreachable: CommandError = ClientError::NameServerUnreachable {
            tried: "127.0.0.1:1".into(),
            last_error: "refused".into(),
        }
        .into();
        assert_eq!(unreachable.exit_code, EXIT_UNREACHABLE);
        let missing: CommandError = ClientError::TopicNotExist { topic: "T".into() }.into();
        assert_eq!(missing.exit_code, EXIT_NOT_FOUND);
        let refused: CommandError = ClientError::Response {
            addr: "a".into(),
            code: 1,
            remark: "no".into(),
        }
        .into();
        assert_eq!(refused.exit_code, EXIT_FAILED);
    }
}
