//! Synthetic sample lists for the demo and the benchmarks: realistic US respondents with
//! national-format numbers in mixed writings, a share of bad numbers and repeated rows, and
//! the field configuration that fits them. Deterministic for a seed.

use std::collections::BTreeMap;
use std::io::Write;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use super::fields::{FieldSpec, FieldType};

/// How to generate a sample.
#[derive(Debug, Clone, Copy)]
pub struct SyntheticSample {
    /// Data rows to write.
    pub rows: u64,
    /// Share of rows whose main number is invalid (they are refused on import).
    pub invalid_share: f64,
    /// Share of rows that repeat an earlier row's respondent (refused as duplicates).
    pub duplicate_share: f64,
    /// Random seed; the same seed writes the same file.
    pub seed: u64,
}

impl Default for SyntheticSample {
    fn default() -> Self {
        Self {
            rows: 10_000,
            invalid_share: 0.02,
            duplicate_share: 0.01,
            seed: 1,
        }
    }
}

/// States with some of their area codes and their time zone.
const STATES: [(&str, &[u16], chrono_tz::Tz); 10] = [
    ("NY", &[212, 718, 917, 516, 914], chrono_tz::America::New_York),
    ("CA", &[213, 310, 415, 408, 619], chrono_tz::America::Los_Angeles),
    ("TX", &[214, 512, 713, 210], chrono_tz::America::Chicago),
    ("IL", &[312, 773, 630], chrono_tz::America::Chicago),
    ("FL", &[305, 407, 813], chrono_tz::America::New_York),
    ("WA", &[206, 425], chrono_tz::America::Los_Angeles),
    ("AZ", &[602, 480], chrono_tz::America::Phoenix),
    ("CO", &[303, 720], chrono_tz::America::Denver),
    ("GA", &[404, 678], chrono_tz::America::New_York),
    ("MA", &[617, 508], chrono_tz::America::New_York),
];

const FIRST: [&str; 12] = [
    "Mary", "James", "Linda", "Wei", "Maria", "David", "Aisha", "Jose", "Sarah", "Chen", "Olga", "Kwame",
];
const LAST: [&str; 12] = [
    "Smith", "Garcia", "Johnson", "Li", "Brown", "Nguyen", "Miller", "Davis", "Lopez", "Wang", "Okafor", "Kim",
];

/// The file's columns, in order: ten, two of them phone numbers.
pub const COLUMNS: [&str; 10] = [
    "respondent_id",
    "first_name",
    "last_name",
    "phone1",
    "phone2",
    "state",
    "gender",
    "age",
    "signup_date",
    "segment",
];

/// The field configuration that fits the generated files.
pub fn fields() -> Vec<FieldSpec> {
    let mut id = FieldSpec::new("respondent_id", FieldType::Text);
    (id.required, id.key) = (true, true);
    let mut phone1 = FieldSpec::new("phone1", FieldType::Phone);
    phone1.required = true;
    let mut state = FieldSpec::new("state", FieldType::Category);
    state.values = STATES.iter().map(|(s, ..)| s.to_string()).collect();
    state.time_zones = STATES
        .iter()
        .map(|(s, _, tz)| (s.to_string(), *tz))
        .collect::<BTreeMap<_, _>>();
    let mut gender = FieldSpec::new("gender", FieldType::Category);
    gender.values = vec!["female".into(), "male".into(), "other".into()];
    let mut segment = FieldSpec::new("segment", FieldType::Category);
    segment.values = vec!["A".into(), "B".into(), "C".into()];
    vec![
        id,
        FieldSpec::new("first_name", FieldType::Text),
        FieldSpec::new("last_name", FieldType::Text),
        phone1,
        FieldSpec::new("phone2", FieldType::Phone),
        state,
        gender,
        FieldSpec::new("age", FieldType::Integer),
        FieldSpec::new("signup_date", FieldType::Date),
        segment,
    ]
}

fn number(rng: &mut SmallRng, area: u16) -> String {
    // Exchanges start with 2-9 and avoid the N11 service codes.
    let exchange = loop {
        let e = rng.random_range(200..1000u16);
        if e % 100 != 11 {
            break e;
        }
    };
    let line = rng.random_range(0..10_000u16);
    match rng.random_range(0..5) {
        0 => format!("({area}) {exchange}-{line:04}"),
        1 => format!("{area}-{exchange}-{line:04}"),
        2 => format!("+1 {area} {exchange} {line:04}"),
        3 => format!("{area}{exchange}{line:04}"),
        _ => format!("1-{area}-{exchange}-{line:04}"),
    }
}

fn bad_number(rng: &mut SmallRng) -> String {
    match rng.random_range(0..3) {
        0 => format!(
            "{}-{:03}-{:03}",
            rng.random_range(200..1000),
            rng.random_range(200..1000),
            rng.random_range(0..1000)
        ),
        1 => format!("(123) 555-{:04}", rng.random_range(0..10_000)),
        _ => "n/a".to_string(),
    }
}

impl SyntheticSample {
    /// Writes the sample as CSV (header included) to `out`.
    pub fn write_csv<W: Write>(&self, out: W) -> std::io::Result<()> {
        let mut rng = SmallRng::seed_from_u64(self.seed);
        let mut writer = csv::WriterBuilder::new().buffer_capacity(1 << 20).from_writer(out);
        writer.write_record(COLUMNS)?;
        let mut recent: Vec<Vec<String>> = Vec::new();
        for i in 0..self.rows {
            if !recent.is_empty() && rng.random_bool(self.duplicate_share) {
                let again = recent[rng.random_range(0..recent.len())].clone();
                writer.write_record(&again)?;
                continue;
            }
            let (state, areas, _) = STATES[rng.random_range(0..STATES.len())];
            let area = areas[rng.random_range(0..areas.len())];
            let phone1 = if rng.random_bool(self.invalid_share) {
                bad_number(&mut rng)
            } else {
                number(&mut rng, area)
            };
            let phone2 = match rng.random_range(0..100) {
                0..=39 => String::new(),
                40..=41 => bad_number(&mut rng),
                _ => number(&mut rng, area),
            };
            let row = vec![
                format!("R{:08}", i + 1),
                FIRST[rng.random_range(0..FIRST.len())].to_string(),
                LAST[rng.random_range(0..LAST.len())].to_string(),
                phone1,
                phone2,
                state.to_string(),
                ["female", "male", "other"][rng.random_range(0..3)].to_string(),
                rng.random_range(18..90).to_string(),
                format!(
                    "20{:02}-{:02}-{:02}",
                    rng.random_range(15..26),
                    rng.random_range(1..13),
                    rng.random_range(1..29)
                ),
                ["A", "B", "C"][rng.random_range(0..3)].to_string(),
            ];
            writer.write_record(&row)?;
            if recent.len() < 1000 {
                recent.push(row);
            } else {
                let slot = rng.random_range(0..recent.len());
                recent[slot] = row;
            }
        }
        writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_writes_the_same_file() {
        let sample = SyntheticSample {
            rows: 500,
            ..SyntheticSample::default()
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        sample.write_csv(&mut a).unwrap();
        sample.write_csv(&mut b).unwrap();
        assert_eq!(a, b);
        let text = String::from_utf8(a).unwrap();
        assert_eq!(text.lines().count(), 501);
        assert!(
            text.starts_with("respondent_id,first_name,last_name,phone1,phone2,state,gender,age,signup_date,segment\n")
        );
    }

    #[test]
    fn the_fields_fit_the_columns() {
        let names: Vec<String> = fields().into_iter().map(|f| f.name).collect();
        assert_eq!(names, COLUMNS);
        assert!(crate::sample::fields::configuration_problems(&fields()).is_empty());
    }
}
