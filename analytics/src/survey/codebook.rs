//! The codebook of a data set, as Markdown or HTML: each variable's name, label, type, where
//! it comes from (the question and the condition it is asked under, a sample field, or
//! paradata), its codes with their labels and counts, and its missing codes. Pure.

use std::fmt::Write;

use crate::labelled::{Cell, Dataset, Measure, Source, VarKind, Variable};

/// One variable as the codebook shows it.
struct Entry<'d> {
    variable: &'d Variable,
    kind: String,
    source: String,
    asked_when: Option<&'d str>,
    /// Each code with its label and how many cases hold it.
    codes: Vec<(f64, &'d str, usize)>,
    /// Cases with a valid value, and with a missing one (a declared code or none at all).
    valid: usize,
    missing: usize,
    /// For numbers without labels: the least, the mean and the most valid value.
    summary: Option<(f64, f64, f64)>,
}

fn entries(data: &Dataset) -> Vec<Entry<'_>> {
    data.variables
        .iter()
        .enumerate()
        .map(|(k, variable)| {
            let cells = data.rows.iter().map(|row| &row[k]);
            let is_missing = |c: &Cell| match c {
                Cell::Empty => true,
                Cell::Number(x) => variable.missing.contains(x),
                Cell::Text(t) => t.is_empty(),
                _ => false,
            };
            let missing = cells.clone().filter(|c| is_missing(c)).count();
            let codes = variable
                .value_labels
                .iter()
                .map(|(code, label)| {
                    let n = cells
                        .clone()
                        .filter(|c| matches!(c, Cell::Number(x) if x == code))
                        .count();
                    (*code, label.as_str(), n)
                })
                .collect();
            let numbers: Vec<f64> = cells
                .clone()
                .filter(|c| !is_missing(c))
                .filter_map(|c| match c {
                    Cell::Number(x) => Some(*x),
                    _ => None,
                })
                .collect();
            let summary = (variable.value_labels.is_empty() && !numbers.is_empty()).then(|| {
                let least = numbers.iter().copied().fold(f64::INFINITY, f64::min);
                let most = numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (least, numbers.iter().sum::<f64>() / numbers.len() as f64, most)
            });
            let (source, asked_when) = match &variable.source {
                Source::Question {
                    question,
                    kind,
                    asked_when,
                } => (format!("question `{question}` ({kind})"), asked_when.as_deref()),
                Source::SampleField => ("sample field".to_string(), None),
                Source::Paradata => ("paradata".to_string(), None),
            };
            Entry {
                variable,
                kind: kind_text(variable),
                source,
                asked_when,
                codes,
                valid: data.rows.len() - missing,
                missing,
                summary,
            }
        })
        .collect()
}

fn kind_text(variable: &Variable) -> String {
    let measure = match variable.measure {
        Measure::Nominal => "nominal",
        Measure::Ordinal => "ordinal",
        Measure::Scale => "scale",
    };
    match variable.kind {
        VarKind::Numeric { decimals } => format!("numeric, {decimals} decimals, {measure}"),
        VarKind::Text { width } => format!("text, up to {width} bytes"),
        VarKind::Date => "date".to_string(),
        VarKind::DateTime => "date and time (UTC)".to_string(),
    }
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn md_escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The codebook as Markdown.
pub fn markdown(data: &Dataset) -> String {
    let entries = entries(data);
    let mut out = String::new();
    let _ = writeln!(out, "# Codebook: {}\n", md_escape(&data.label));
    let _ = writeln!(out, "{} cases, {} variables.\n", data.rows.len(), data.variables.len());
    let _ = writeln!(out, "| Variable | Label | Type | From |\n|---|---|---|---|");
    for e in &entries {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            e.variable.name,
            md_escape(&e.variable.label),
            e.kind,
            e.source
        );
    }
    for e in &entries {
        let _ = writeln!(out, "\n## `{}`\n\n{}\n", e.variable.name, md_escape(&e.variable.label));
        let _ = writeln!(out, "- Type: {}", e.kind);
        let _ = writeln!(out, "- From: {}", e.source);
        if let Some(condition) = e.asked_when {
            let _ = writeln!(out, "- Asked when: `{condition}`");
        }
        let _ = writeln!(out, "- Valid: {}; missing: {}", e.valid, e.missing);
        if !e.variable.missing.is_empty() {
            let codes: Vec<String> = e.variable.missing.iter().map(|c| number(*c)).collect();
            let _ = writeln!(out, "- Missing codes: {}", codes.join(", "));
        }
        if let Some((least, mean, most)) = e.summary {
            let _ = writeln!(
                out,
                "- Least {}, mean {}, most {}",
                number(least),
                number(mean),
                number(most)
            );
        }
        if !e.codes.is_empty() {
            let _ = writeln!(out, "\n| Code | Label | Cases |\n|---:|---|---:|");
            for (code, label, n) in &e.codes {
                let _ = writeln!(out, "| {} | {} | {n} |", number(*code), md_escape(label));
            }
        }
    }
    out
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The codebook as a standalone HTML page.
pub fn html(data: &Dataset) -> String {
    let entries = entries(data);
    let title = html_escape(&data.label);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Codebook: {title}</title>\n\
         <style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;margin:.5rem 0}}td,th{{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}}\
         td.n{{text-align:right}}code{{background:#f4f4f4}}</style></head><body>\n\
         <h1>Codebook: {title}</h1>\n<p>{} cases, {} variables.</p>\n\
         <table><thead><tr><th>Variable</th><th>Label</th><th>Type</th><th>From</th></tr></thead><tbody>\n",
        data.rows.len(),
        data.variables.len()
    );
    for e in &entries {
        let name = html_escape(&e.variable.name);
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#{name}\"><code>{name}</code></a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&e.variable.label),
            html_escape(&e.kind),
            html_escape(&e.source.replace('`', ""))
        );
    }
    out.push_str("</tbody></table>\n");
    for e in &entries {
        let name = html_escape(&e.variable.name);
        let _ = writeln!(
            out,
            "<section id=\"{name}\"><h2><code>{name}</code></h2><p>{}</p><ul>",
            html_escape(&e.variable.label)
        );
        let _ = writeln!(out, "<li>Type: {}</li>", html_escape(&e.kind));
        let _ = writeln!(out, "<li>From: {}</li>", html_escape(&e.source.replace('`', "")));
        if let Some(condition) = e.asked_when {
            let _ = writeln!(out, "<li>Asked when: <code>{}</code></li>", html_escape(condition));
        }
        let _ = writeln!(out, "<li>Valid: {}; missing: {}</li>", e.valid, e.missing);
        if !e.variable.missing.is_empty() {
            let codes: Vec<String> = e.variable.missing.iter().map(|c| number(*c)).collect();
            let _ = writeln!(out, "<li>Missing codes: {}</li>", codes.join(", "));
        }
        if let Some((least, mean, most)) = e.summary {
            let _ = writeln!(
                out,
                "<li>Least {}, mean {}, most {}</li>",
                number(least),
                number(mean),
                number(most)
            );
        }
        out.push_str("</ul>\n");
        if !e.codes.is_empty() {
            out.push_str("<table><thead><tr><th>Code</th><th>Label</th><th>Cases</th></tr></thead><tbody>\n");
            for (code, label, n) in &e.codes {
                let _ = writeln!(
                    out,
                    "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{n}</td></tr>",
                    number(*code),
                    html_escape(label)
                );
            }
            out.push_str("</tbody></table>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Dataset {
        Dataset {
            label: "poll: answers <test>".into(),
            variables: vec![Variable {
                name: "q1".into(),
                label: "Vote | intention".into(),
                kind: VarKind::Numeric { decimals: 0 },
                measure: Measure::Nominal,
                value_labels: vec![(1.0, "Yes".into()), (2.0, "No".into()), (-1.0, "Not asked".into())],
                missing: vec![-1.0],
                source: Source::Question {
                    question: "q1".into(),
                    kind: "single_choice".into(),
                    asked_when: Some("age >= 18".into()),
                },
            }],
            rows: vec![
                vec![Cell::Number(1.0)],
                vec![Cell::Number(1.0)],
                vec![Cell::Number(2.0)],
                vec![Cell::Number(-1.0)],
            ],
        }
    }

    #[test]
    fn counts_codes_and_missing_and_names_the_routing() {
        let md = markdown(&data());
        assert!(md.contains("| 1 | Yes | 2 |"), "{md}");
        assert!(md.contains("| 2 | No | 1 |"), "{md}");
        assert!(md.contains("| -1 | Not asked | 1 |"), "{md}");
        assert!(md.contains("- Valid: 3; missing: 1"), "{md}");
        assert!(md.contains("- Asked when: `age >= 18`"), "{md}");
        assert!(md.contains("Vote \\| intention"), "a pipe would break the table: {md}");
    }

    #[test]
    fn html_is_escaped() {
        let page = html(&data());
        assert!(page.contains("answers &lt;test&gt;"), "{page}");
        assert!(!page.contains("<test>"), "{page}");
        assert!(
            page.contains("<td class=\"n\">2</td><td>No</td><td class=\"n\">1</td>"),
            "{page}"
        );
    }
}
