//! Pure parsers for the /proc and /sys files the host check reads.
//!
//! Every function takes the file's text and returns a value; none touches the file system,
//! so each is unit-tested on text captured from real hosts (see `tests/fixtures/`).
//! Malformed lines are skipped rather than failing the whole file: the check reports what it
//! could read and marks the rest "unknown".

use serde::{Deserialize, Serialize};

/// A sysfs "choice" file: the options with the active one in brackets, as in
/// `/sys/block/*/queue/scheduler` (`none [mq-deadline] kyber bfq`) or
/// `/sys/kernel/mm/transparent_hugepage/enabled` (`always [madvise] never`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// The bracketed option; `None` when the file lists options without brackets
    /// (a device with no scheduler support prints only `none`).
    pub active: Option<String>,
    pub available: Vec<String>,
}

/// Parses a bracketed choice file.
#[must_use]
pub fn parse_choice(text: &str) -> Choice {
    let mut active = None;
    let mut available = Vec::new();
    for word in text.split_whitespace() {
        if let Some(inner) = word.strip_prefix('[').and_then(|w| w.strip_suffix(']')) {
            active = Some(inner.to_owned());
            available.push(inner.to_owned());
        } else {
            available.push(word.to_owned());
        }
    }
    if active.is_none() && available.len() == 1 {
        active = available.first().cloned();
    }
    Choice { active, available }
}

/// Parses a single unsigned number (sysctl or sysfs value), whitespace tolerated.
#[must_use]
pub fn parse_u64(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// One line of /proc/mounts (fstab format; octal escapes such as `\040` decoded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    pub device: String,
    pub mount_point: String,
    pub filesystem: String,
    pub options: Vec<String>,
}

impl Mount {
    /// The value of `name=value`, or `Some("")` for a bare flag such as `noatime`.
    #[must_use]
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find_map(|option| match option.split_once('=') {
                Some((key, value)) if key == name => Some(value),
                None if option == name => Some(""),
                _ => None,
            })
    }
}

/// Parses /proc/mounts (or /proc/self/mounts).
#[must_use]
pub fn parse_mounts(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let device = unescape_mount_field(fields.next()?);
            let mount_point = unescape_mount_field(fields.next()?);
            let filesystem = fields.next()?.to_owned();
            let options = fields.next()?.split(',').map(str::to_owned).collect();
            Some(Mount {
                device,
                mount_point,
                filesystem,
                options,
            })
        })
        .collect()
}

fn unescape_mount_field(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escape = bytes.get(index + 1..index + 4);
        let octal = escape.filter(|digits| digits.iter().all(|d| (b'0'..=b'7').contains(d)));
        match (bytes[index], octal) {
            (b'\\', Some(digits)) => {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, digit| acc * 8 + u32::from(digit - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                index += 4;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount whose mount point is the longest prefix of `path` (path components, not bytes).
#[must_use]
pub fn mount_for_path<'a>(mounts: &'a [Mount], path: &str) -> Option<&'a Mount> {
    mounts
        .iter()
        .filter(|mount| path_is_under(path, &mount.mount_point))
        .max_by_key(|mount| mount.mount_point.len())
}

fn path_is_under(path: &str, mount_point: &str) -> bool {
    if mount_point == "/" {
        return path.starts_with('/');
    }
    path == mount_point
        || path
            .strip_prefix(mount_point)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// A resource limit value from /proc/<pid>/limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LimitValue {
    Unlimited,
    Value(u64),
}

impl LimitValue {
    /// True when the limit is at least `minimum`.
    #[must_use]
    pub fn at_least(self, minimum: u64) -> bool {
        match self {
            LimitValue::Unlimited => true,
            LimitValue::Value(value) => value >= minimum,
        }
    }
}

impl std::fmt::Display for LimitValue {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitValue::Unlimited => formatter.write_str("unlimited"),
            LimitValue::Value(value) => write!(formatter, "{value}"),
        }
    }
}

/// One row of /proc/<pid>/limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    /// As printed: "Max open files", "Max locked memory", ...
    pub name: String,
    pub soft: LimitValue,
    pub hard: LimitValue,
    pub units: String,
}

/// Parses /proc/<pid>/limits. The name column is free text, so each row is read from the
/// right: units (optional), hard, soft, then the name.
#[must_use]
pub fn parse_limits(text: &str) -> Vec<Limit> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let parse = |word: &str| match word {
                "unlimited" => Some(LimitValue::Unlimited),
                other => other.parse().ok().map(LimitValue::Value),
            };
            // Rows either end "soft hard units" or "soft hard" (no units column).
            let (soft_at, units) = match words.as_slice() {
                [.., soft, hard, units] if parse(soft).is_some() && parse(hard).is_some() => {
                    (words.len() - 3, (*units).to_owned())
                }
                [.., soft, hard] if parse(soft).is_some() && parse(hard).is_some() => {
                    (words.len() - 2, String::new())
                }
                _ => return None,
            };
            Some(Limit {
                name: words[..soft_at].join(" "),
                soft: parse(words[soft_at])?,
                hard: parse(words[soft_at + 1])?,
                units,
            })
        })
        .collect()
}

/// Parses a kernel CPU list such as `0-3,8,10-11` (cpu masks in `*_list` files, node lists).
#[must_use]
pub fn parse_cpu_list(text: &str) -> Vec<u32> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|part| !part.is_empty()) {
        match part.split_once('-') {
            Some((first, last)) => {
                if let (Ok(first), Ok(last)) = (first.parse::<u32>(), last.parse::<u32>()) {
                    cpus.extend(first..=last);
                }
            }
            None => {
                if let Ok(cpu) = part.parse() {
                    cpus.push(cpu);
                }
            }
        }
    }
    cpus
}

/// One numbered interrupt line of /proc/interrupts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterruptLine {
    pub irq: u32,
    /// Count per CPU column.
    pub per_cpu: Vec<u64>,
    /// The rest of the line: chip, hardware irq, trigger and the device/action name.
    pub description: String,
}

impl InterruptLine {
    /// The action name: the last word (e.g. `virtio1-req.0`, `nvme0q3`, `eth0-TxRx-1`).
    #[must_use]
    pub fn action(&self) -> &str {
        self.description.split_whitespace().last().unwrap_or("")
    }

    #[must_use]
    pub fn total(&self) -> u64 {
        self.per_cpu.iter().sum()
    }
}

/// Parses the numbered lines of /proc/interrupts; named rows (LOC, RES, ...) are skipped.
#[must_use]
pub fn parse_interrupts(text: &str) -> Vec<InterruptLine> {
    let mut lines = text.lines();
    let cpu_count = lines
        .next()
        .map_or(0, |header| header.split_whitespace().count());
    lines
        .filter_map(|line| {
            let (label, rest) = line.trim_start().split_once(':')?;
            let irq = label.parse().ok()?;
            let mut words = rest.split_whitespace();
            let per_cpu: Vec<u64> = words
                .by_ref()
                .take(cpu_count)
                .map_while(|word| word.parse().ok())
                .collect();
            if per_cpu.len() != cpu_count {
                return None;
            }
            Some(InterruptLine {
                irq,
                per_cpu,
                description: words.collect::<Vec<_>>().join(" "),
            })
        })
        .collect()
}

/// Parses a `Cap*:` hexadecimal line value from /proc/<pid>/status and tests one bit.
#[must_use]
pub fn status_capability(status_text: &str, field: &str, capability_bit: u32) -> Option<bool> {
    let value = status_text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == field).then(|| value.trim())
    })?;
    let mask = u64::from_str_radix(value, 16).ok()?;
    Some(mask & (1u64 << capability_bit) != 0)
}

/// Reads one `Key:   123 kB` value (in KiB) from /proc/meminfo.
#[must_use]
pub fn meminfo_kib(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (name, rest) = line.split_once(':')?;
        if name != key {
            return None;
        }
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_with_and_without_brackets() {
        let scheduler = parse_choice("none [mq-deadline] kyber bfq \n");
        assert_eq!(scheduler.active.as_deref(), Some("mq-deadline"));
        assert_eq!(scheduler.available, ["none", "mq-deadline", "kyber", "bfq"]);
        let loop_device = parse_choice("[none] mq-deadline kyber bfq");
        assert_eq!(loop_device.active.as_deref(), Some("none"));
        let single = parse_choice("none\n");
        assert_eq!(single.active.as_deref(), Some("none"));
        let empty = parse_choice("");
        assert_eq!(empty.active, None);
        assert!(empty.available.is_empty());
    }

    #[test]
    fn mounts_captured_from_kvm_guest() {
        let text = "proc /proc proc rw,relatime 0 0\n\
            /dev/vda / ext4 rw,relatime,discard,resv_strict,resuid=65534,resgid=65534 0 0\n\
            tmpfs /dev/shm tmpfs rw,relatime,size=24684096k 0 0\n\
            /dev/nvme0n1p1 /data\\040store xfs rw,noatime 0 0\n";
        let mounts = parse_mounts(text);
        assert_eq!(mounts.len(), 4);
        assert_eq!(mounts[1].device, "/dev/vda");
        assert_eq!(mounts[1].filesystem, "ext4");
        assert_eq!(mounts[1].option("relatime"), Some(""));
        assert_eq!(mounts[1].option("resuid"), Some("65534"));
        assert_eq!(mounts[1].option("noatime"), None);
        assert_eq!(mounts[3].mount_point, "/data store");
        assert_eq!(
            mount_for_path(&mounts, "/data store/commitlog").map(|m| m.device.as_str()),
            Some("/dev/nvme0n1p1")
        );
        assert_eq!(
            mount_for_path(&mounts, "/data storex").map(|m| m.device.as_str()),
            Some("/dev/vda")
        );
        assert_eq!(
            mount_for_path(&mounts, "/dev/shm").map(|m| m.filesystem.as_str()),
            Some("tmpfs")
        );
    }

    #[test]
    fn limits_captured_sample() {
        let text =
            "Limit                     Soft Limit           Hard Limit           Units     \n\
            Max cpu time              unlimited            unlimited            seconds   \n\
            Max open files            20000                20000                files     \n\
            Max locked memory         8388608              8388608              bytes     \n\
            Max nice priority         0                    0                    \n";
        let limits = parse_limits(text);
        assert_eq!(limits.len(), 4);
        assert_eq!(limits[0].soft, LimitValue::Unlimited);
        assert_eq!(limits[1].name, "Max open files");
        assert_eq!(limits[1].soft, LimitValue::Value(20_000));
        assert_eq!(limits[2].hard, LimitValue::Value(8_388_608));
        assert_eq!(limits[2].units, "bytes");
        assert_eq!(limits[3].name, "Max nice priority");
        assert_eq!(limits[3].units, "");
        assert!(LimitValue::Unlimited.at_least(u64::MAX));
        assert!(!LimitValue::Value(1).at_least(2));
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-1\n"), [0, 1]);
        assert_eq!(parse_cpu_list("0-2,8,10-11"), [0, 1, 2, 8, 10, 11]);
        assert_eq!(parse_cpu_list(""), Vec::<u32>::new());
        assert_eq!(parse_cpu_list("x,3"), [3]);
    }

    #[test]
    fn interrupts_captured_sample() {
        let text = "           CPU0       CPU1       \n\
            \x20 26:          0         15  IO-APIC   4-edge      ttyS0\n\
            \x20 36:          0      69108 PCI-MSIX-0000:00:02.0   1-edge      virtio1-req.0\n\
            \x20 41:       3206          0 PCI-MSIX-0000:00:04.0   1-edge      virtio3-rx\n\
            NMI:          0          0   Non-maskable interrupts\n\
            ERR:          0\n";
        let lines = parse_interrupts(text);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].irq, 36);
        assert_eq!(lines[1].per_cpu, [0, 69_108]);
        assert_eq!(lines[1].action(), "virtio1-req.0");
        assert_eq!(lines[2].total(), 3206);
    }

    #[test]
    fn capability_bits_and_meminfo() {
        let status = "Name:\tcat\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert_eq!(status_capability(status, "CapEff", 14), Some(true));
        assert_eq!(status_capability(status, "CapInh", 14), Some(false));
        assert_eq!(status_capability(status, "CapBnd", 14), None);
        let meminfo = "MemTotal:       24684096 kB\nSwapTotal:             0 kB\n";
        assert_eq!(meminfo_kib(meminfo, "MemTotal"), Some(24_684_096));
        assert_eq!(meminfo_kib(meminfo, "SwapTotal"), Some(0));
        assert_eq!(meminfo_kib(meminfo, "Dirty"), None);
        assert_eq!(parse_u64(" 60\n"), Some(60));
    }
}
