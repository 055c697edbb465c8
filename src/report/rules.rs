//! `unblock rules` and `unblock explain`: the catalog's rules and their documentation.

use serde::Serialize;

use crate::catalog::Catalog;

#[derive(Serialize)]
struct RuleRow<'c> {
    code: &'c str,
    id: &'c str,
    aliases: &'c [String],
    summary: &'c str,
    fix: &'c str,
}

pub fn list_text(catalog: &Catalog) -> String {
    let mut out = String::new();
    for r in &catalog.rules {
        let aliases = if r.aliases.is_empty() {
            "-".to_string()
        } else {
            r.aliases.join(",")
        };
        out.push_str(&format!(
            "{:<7} {:<20} {:<27} {}\n",
            r.code, r.id, aliases, r.summary
        ));
        out.push_str(&format!("{:<7} {:<20} {:<27} fix: {}\n", "", "", "", r.fix));
    }
    out
}

pub fn list_json(catalog: &Catalog) -> String {
    let rows: Vec<RuleRow> = catalog
        .rules
        .iter()
        .map(|r| RuleRow {
            code: &r.code,
            id: &r.id,
            aliases: &r.aliases,
            summary: &r.summary,
            fix: &r.fix,
        })
        .collect();
    serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".to_string())
}

/// The documentation of one rule, by id, code or ASYNC alias.
pub fn explain(catalog: &Catalog, key: &str) -> Option<String> {
    let index = crate::find::selector::RuleSelector::parse(key, catalog)
        .ok()?
        .single()?;
    let rule = &catalog.rules[index];
    let aliases = if rule.aliases.is_empty() {
        String::new()
    } else {
        format!(" (aliases: {})", rule.aliases.join(", "))
    };
    Some(format!(
        "# {} ({}){aliases}\n\n{}\n\nFix: {}\n\n{}\n",
        rule.id,
        rule.code,
        rule.summary,
        rule.fix,
        rule.doc.trim()
    ))
}
