//! Texts with answers and sample fields piped in: `${name}`, as XLSForm writes it, and
//! minijinja templates (`{{ name }}`, `{% if gender == 'f' %}...{% endif %}`) for what a
//! plain substitution cannot say. A text without `{{` or `{%` is substituted directly.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::expr::Value;

fn environment() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        // Piped texts are read out, not shown as HTML.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env
    })
}

/// Whether a text uses minijinja's syntax.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// The `${name}` references of a text.
pub fn piped(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        out.push(after[..end].trim());
        rest = &after[end + 1..];
    }
    out
}

/// The text with each `${name}` replaced by `replace(name)`.
fn substitute(text: &str, replace: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push_str(&replace(after[..end].trim()));
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A text with `${name}` written as minijinja (`{{ vars["name"] }}`: names may hold `-` and
/// `.`, which a template name may not).
fn to_jinja(text: &str) -> String {
    substitute(text, |name| format!("{{{{ vars[{name:?}] }}}}"))
}

/// Every name a text uses (piped and template variables), or why it is not a valid template.
pub fn names(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = piped(text).into_iter().map(str::to_string).collect();
    if is_template(text) {
        let source = to_jinja(text);
        let template = environment()
            .template_from_str(&source)
            .map_err(|e| format!("it is not a valid template: {}", e.detail().unwrap_or("syntax error")))?;
        let mut undeclared: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| v != "vars")
            .collect();
        undeclared.sort();
        out.extend(undeclared);
    }
    Ok(out)
}

/// The text with the values piped in: each name's answer or sample field, empty when it has
/// none.
/// `all` gives every value by name, for templates (computed only when the text is one).
pub fn render(text: &str, values: &dyn Fn(&str) -> Value, all: &dyn Fn() -> BTreeMap<String, Value>) -> String {
    if !is_template(text) {
        return substitute(text, |name| values(name).text());
    }
    let vars: serde_json::Map<String, serde_json::Value> = all()
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(serde_json::Value::Null)))
        .collect();
    let mut context = vars.clone();
    context.insert("vars".into(), serde_json::Value::Object(vars));
    // Checked when the questionnaire was loaded; should a value still trip it, the text is
    // read as written rather than not at all.
    environment()
        .render_str(&to_jinja(text), serde_json::Value::Object(context))
        .unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> BTreeMap<String, Value> {
        BTreeMap::from([
            ("name".to_string(), Value::Text("Ann".into())),
            ("gender".to_string(), Value::Text("f".into())),
            ("age-years".to_string(), Value::Number(34.0)),
        ])
    }

    fn run(text: &str) -> String {
        let all = values();
        render(text, &|n| all.get(n).cloned().unwrap_or(Value::Empty), &|| all.clone())
    }

    #[test]
    fn texts_pipe_answers_both_ways() {
        assert_eq!(run("Hello ${name}, aged ${age-years}."), "Hello Ann, aged 34.");
        assert_eq!(run("Hello ${missing}!"), "Hello !");
        assert_eq!(
            run("{% if gender == 'f' %}Mrs{% else %}Mr{% endif %} ${name}, {{ vars['age-years'] + 1 }} next year"),
            "Mrs Ann, 35 next year"
        );
        assert_eq!(run("<b>${name}</b> & {{ name }}"), "<b>Ann</b> & Ann");
    }

    #[test]
    fn the_names_a_text_uses_are_known_before_it_is_shown() {
        assert_eq!(names("Hi ${name}").unwrap(), ["name"]);
        assert_eq!(
            names("{% if gender == 'f' %}Mrs{% endif %} {{ surname }} ${name}").unwrap(),
            ["name", "gender", "surname"]
        );
        let e = names("{% if gender %}unclosed").unwrap_err();
        assert!(e.starts_with("it is not a valid template"), "{e}");
    }
}
