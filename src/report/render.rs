//! Templates: built into the binary from `report_templates/`, and replaceable one by one from a
//! user's directory. HTML templates escape every value by default.

use std::path::{Path, PathBuf};

use minijinja::value::Value;
use minijinja::{Environment, UndefinedBehavior};

use super::format;

const BUILT_IN: &[(&str, &str)] = &[
    (
        "index.html",
        include_str!("../../report_templates/index.html"),
    ),
    (
        "report.html",
        include_str!("../../report_templates/report.html"),
    ),
    (
        "report.md",
        include_str!("../../report_templates/report.md"),
    ),
];

#[derive(Debug, thiserror::Error)]
#[error("template {name}: {message}")]
pub struct RenderError {
    pub name: String,
    pub message: String,
}

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new(user_dir: Option<&Path>) -> Templates {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let dir: Option<PathBuf> = user_dir.map(Path::to_path_buf);
        env.set_loader(move |name| {
            if let Some(dir) = &dir {
                let path = dir.join(name);
                if path.is_file() {
                    return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                        minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            format!("cannot read {}: {e}", path.display()),
                        )
                    });
                }
            }
            Ok(BUILT_IN
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.to_string()))
        });
        env.add_filter("md", |v: Value| -> String {
            if v.is_none() || v.is_undefined() {
                String::new()
            } else {
                format::markdown(&v.to_string())
            }
        });
        env.add_filter("mdcode", |v: Value| -> String {
            match v.is_none() || v.is_undefined() {
                true => String::new(),
                false => format::markdown_code(&v.to_string()),
            }
        });
        // a whole number with thousands separators (`84,961`); anything else as it is
        env.add_filter("count", |v: Value| -> String {
            match i64::try_from(v.clone()) {
                Ok(n) => format::thousands(n),
                Err(_) if v.is_none() || v.is_undefined() => String::new(),
                Err(_) => v.to_string(),
            }
        });
        Templates { env }
    }

    pub fn render<S: serde::Serialize>(&self, name: &str, view: &S) -> Result<String, RenderError> {
        let err = |e: minijinja::Error| RenderError {
            name: name.to_string(),
            message: format!("{e:#}"),
        };
        let template = self.env.get_template(name).map_err(err)?;
        let mut out = template
            .render(Value::from(minijinja::value::Serde(view)))
            .map_err(err)?;
        if !out.ends_with('\n') {
            out.push('\n');
        }
        Ok(out)
    }
}
