//! What a command prints: a table or lines for people, JSON for scripts.

use serde_json::Value;

/// The result of a command.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub text: String,
    pub json: Value,
}

impl Report {
    /// A one-line message.
    #[must_use]
    pub fn message(text: impl Into<String>, json: Value) -> Report {
        let mut text = text.into();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Report { text, json }
    }

    /// An aligned table; the JSON is an array of objects keyed by header.
    #[must_use]
    pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> Report {
        let json = Value::Array(
            rows.iter()
                .map(|row| {
                    Value::Object(
                        headers
                            .iter()
                            .zip(row)
                            .map(|(header, cell)| {
                                ((*header).to_owned(), Value::String(cell.clone()))
                            })
                            .collect(),
                    )
                })
                .collect(),
        );
        Report {
            text: render_table(headers, &rows),
            json,
        }
    }

    /// Replaces the JSON form.
    #[must_use]
    pub fn with_json(mut self, json: Value) -> Report {
        self.json = json;
        self
    }
}

/// Renders `#Header` columns padded to their widest cell.
#[must_use]
pub fn render_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len() + 1).collect();
    for row in rows {
        for (index, cell) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(index) {
                *width = (*width).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<String>, out: &mut String| {
        let mut text = String::new();
        for (index, cell) in cells.iter().enumerate() {
            let width = widths.get(index).copied().unwrap_or(0);
            if index + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(headers.iter().map(|h| format!("#{h}")).collect(), &mut out);
    for row in rows {
        line(row.clone(), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_aligned_and_json_keyed() {
        let report = Report::table(
            &["Topic", "QID"],
            vec![
                vec!["T".into(), "0".into()],
                vec!["Longer".into(), "12".into()],
            ],
        );
        assert_eq!(report.text, "#Topic  #QID\nT       0\nLonger  12\n");
        assert_eq!(report.json[1]["QID"], "12");
    }
}
